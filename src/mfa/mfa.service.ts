import { and, eq, gt, isNotNull, isNull, ne, or, sql, type SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Database } from '../db/client';
import { insertSelectRow } from '../db/computed';
import { authFlows, loginLockouts, mfaRecoveryCodes, mfaTotp, sessions, users } from '../db/schema';
import { AppError } from '../errors';
import { logInfo } from '../lib/log';
import { openSecret, sealSecret } from '../lib/secret-box';
import { flowIdOf, newUseId, prepareFlow } from '../security/auth-flows';
import { assertNotLocked, lockoutKey, recordFailureStatement } from '../security/rate-limit';
import type { SessionAssurance } from '../sessions/jwt';
import {
  assuranceOf,
  prepareSession,
  reauthenticateSessionStatement,
  type ClientInfo,
  type NewSession,
  type SignInMethod,
} from '../sessions/sessions.service';
import { hashRecoveryCode, newRecoveryCode, RECOVERY_CODE_COUNT } from './recovery-codes';
import { acceptedStep, newTotpKey, totpUri } from './totp';

type UserRow = typeof users.$inferSelect;
type TotpRow = typeof mfaTotp.$inferSelect;

export interface SecondFactorInput {
  code?: string;
  recoveryCode?: string;
}

/** Starts (or restarts) enrolment: a new secret, stored encrypted, inactive until a code confirms it. */
export async function startTotpEnrolment(
  db: Database,
  user: { id: string; email: string },
  issuer: string,
  encryptionKey: string,
  now: Date,
): Promise<{ secret: string; uri: string }> {
  const key = newTotpKey();
  const secretCiphertext = await sealSecret(encryptionKey, key, user.id);
  const rows = await db
    .insert(mfaTotp)
    .values({ userId: user.id, secretCiphertext, createdAt: now })
    .onConflictDoUpdate({
      target: mfaTotp.userId,
      set: { secretCiphertext, createdAt: now, lastUsedStep: null, lastUseId: null },
      // An active authenticator is never replaced by a new enrolment: disable it first.
      setWhere: isNull(mfaTotp.enabledAt),
    })
    .returning({ userId: mfaTotp.userId });
  if (rows.length === 0) throw AppError.conflict({ mfa: ['is already enabled'] });
  const uri = totpUri(issuer, user.email, key);
  return { secret: new URL(uri).searchParams.get('secret')!, uri };
}

/** Ten new recovery codes, each inserted only if `guard` holds when the batch runs. */
async function recoveryCodeStatements(db: Database, userId: string, guard: SQL, now: Date) {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const statements: BatchItem<'sqlite'>[] = [
    db.delete(mfaRecoveryCodes).where(and(eq(mfaRecoveryCodes.userId, userId), guard)),
  ];
  for (const code of codes) {
    const row = insertSelectRow(mfaRecoveryCodes, {
      codeHash: await hashRecoveryCode(code),
      userId: users.id,
      createdAt: now,
      usedAt: null,
      usedBy: null,
    });
    statements.push(
      db.insert(mfaRecoveryCodes).select(
        db
          .select(row)
          .from(users)
          .where(and(eq(users.id, userId), guard)),
      ),
    );
  }
  return { codes, statements };
}

const totpAcceptedBy = (userId: string, useId: string) =>
  sql`EXISTS (SELECT 1 FROM ${mfaTotp} WHERE ${mfaTotp.userId} = ${userId} AND ${mfaTotp.lastUseId} = ${useId})`;

/**
 * The statement accepting a second factor (a TOTP code for a step later than any used before, or an
 * unused recovery code) and the SQL that is true once it was accepted in this batch. Null when the
 * code is wrong (checked before any write). `precondition` gates the acceptance itself.
 */
async function acceptFactor(
  db: Database,
  userId: string,
  totp: TotpRow | undefined,
  input: SecondFactorInput,
  encryptionKey: string,
  now: Date,
  useId: string,
  precondition?: SQL,
): Promise<{ statement: BatchItem<'sqlite'>; accepted: SQL; method: 'otp' | 'kba' } | null> {
  if (!totp?.enabledAt) return null;
  if (input.code !== undefined) {
    const key = await openSecret(encryptionKey, totp.secretCiphertext, userId);
    const step = acceptedStep(key, input.code, now, totp.lastUsedStep);
    if (step === null) return null;
    const statement = db
      .update(mfaTotp)
      .set({ lastUsedStep: step, lastUseId: useId })
      .where(
        and(
          eq(mfaTotp.userId, userId),
          isNotNull(mfaTotp.enabledAt),
          // The guard that makes a step single-use even under parallel requests.
          or(isNull(mfaTotp.lastUsedStep), sql`${mfaTotp.lastUsedStep} < ${step}`),
          ...(precondition ? [precondition] : []),
        ),
      )
      .returning({ userId: mfaTotp.userId });
    return { statement, accepted: totpAcceptedBy(userId, useId), method: 'otp' };
  }
  if (input.recoveryCode !== undefined) {
    const codeHash = await hashRecoveryCode(input.recoveryCode);
    const statement = db
      .update(mfaRecoveryCodes)
      .set({ usedAt: now, usedBy: useId })
      .where(
        and(
          eq(mfaRecoveryCodes.codeHash, codeHash),
          eq(mfaRecoveryCodes.userId, userId),
          isNull(mfaRecoveryCodes.usedAt),
          ...(precondition ? [precondition] : []),
        ),
      )
      .returning({ userId: mfaRecoveryCodes.userId });
    const accepted = sql`EXISTS (SELECT 1 FROM ${mfaRecoveryCodes} WHERE ${mfaRecoveryCodes.codeHash} = ${codeHash} AND ${mfaRecoveryCodes.usedBy} = ${useId})`;
    return { statement, accepted, method: 'kba' };
  }
  return null;
}

export interface Activated {
  recoveryCodes: string[];
  session: { expiresAt: Date; assurance: SessionAssurance };
  revokedSessionIds: string[];
}

/**
 * Confirms enrolment with a first code. In one batch: activate, issue ten recovery codes, revoke every
 * other session of the account, and mark this session as two-factor. Each write after the first is
 * guarded on the activation having been this request's.
 */
export async function activateTotp(
  db: Database,
  userId: string,
  sessionId: string,
  currentAmr: string[],
  code: string,
  encryptionKey: string,
  now: Date,
): Promise<Activated> {
  const [totp] = await db.select().from(mfaTotp).where(eq(mfaTotp.userId, userId)).limit(1);
  if (!totp) throw AppError.validation({ mfa: ['enrolment has not been started'] });
  if (totp.enabledAt) throw AppError.conflict({ mfa: ['is already enabled'] });
  const key = await openSecret(encryptionKey, totp.secretCiphertext, userId);
  const step = acceptedStep(key, code, now, totp.lastUsedStep);
  if (step === null) throw AppError.validation({ code: ['is invalid'] });

  const useId = newUseId();
  const won = totpAcceptedBy(userId, useId);
  const { codes, statements } = await recoveryCodeStatements(db, userId, won, now);
  const method: SignInMethod = { amr: withSecondFactor(currentAmr, 'otp'), aal: 2 };
  const [activated, revoked, upgraded] = await db.batch([
    db
      .update(mfaTotp)
      .set({ enabledAt: now, lastUsedStep: step, lastUseId: useId })
      .where(
        and(
          eq(mfaTotp.userId, userId),
          isNull(mfaTotp.enabledAt),
          eq(mfaTotp.secretCiphertext, totp.secretCiphertext),
          or(isNull(mfaTotp.lastUsedStep), sql`${mfaTotp.lastUsedStep} < ${step}`),
        ),
      )
      .returning({ userId: mfaTotp.userId }),
    db
      .update(sessions)
      .set({ revokedAt: now })
      .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), ne(sessions.id, sessionId), won))
      .returning({ id: sessions.id }),
    reauthenticateSessionStatement(db, userId, sessionId, method, now, won),
    ...statements,
  ]);
  if (activated.length === 0) throw AppError.validation({ code: ['is invalid'] });
  const session = upgraded[0];
  if (!session) throw AppError.unauthorized();
  logInfo('mfa.totp.enabled', { userId, revokedSessions: revoked.length });
  return {
    recoveryCodes: codes,
    session: { expiresAt: session.expiresAt, assurance: assuranceOf(session) },
    revokedSessionIds: revoked.map((r) => r.id),
  };
}

function withSecondFactor(amr: string[], factor: string): string[] {
  return [...new Set([...amr.filter((m) => m !== 'mfa'), factor, 'mfa'])];
}

/** Turns two-factor off: the authenticator and every recovery code go, in one batch. */
export async function disableTotp(db: Database, userId: string): Promise<boolean> {
  const [removed] = await db.batch([
    db
      .delete(mfaTotp)
      .where(and(eq(mfaTotp.userId, userId), isNotNull(mfaTotp.enabledAt)))
      .returning({ userId: mfaTotp.userId }),
    db.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)),
  ]);
  if (removed.length > 0) logInfo('mfa.totp.disabled', { userId });
  return removed.length > 0;
}

/** Replaces every recovery code with ten new ones (only while two-factor is on), in one batch. */
export async function regenerateRecoveryCodes(db: Database, userId: string, now: Date): Promise<string[]> {
  const { codes, statements } = await recoveryCodeStatements(db, userId, secondFactorEnabled(userId), now);
  const [enabled] = await db.batch([
    db
      .select({ userId: mfaTotp.userId })
      .from(mfaTotp)
      .where(and(eq(mfaTotp.userId, userId), isNotNull(mfaTotp.enabledAt))),
    ...statements,
  ]);
  if (enabled.length === 0) throw AppError.validation({ mfa: ['is not enabled'] });
  logInfo('mfa.recovery_codes.regenerated', { userId });
  return codes;
}

/** Statement inserting a pending second-factor step for a sign-in whose first factor passed. */
export async function prepareMfaChallenge(db: Database, userId: string, firstFactor: readonly string[], now: Date) {
  return prepareFlow(db, 'mfa', userId, { amr: [...firstFactor] }, now);
}

/** SQL: the account `userId` has an active authenticator. */
function secondFactorEnabled(userId: SQL | string) {
  return sql`EXISTS (SELECT 1 FROM ${mfaTotp} WHERE ${mfaTotp.userId} = ${userId} AND ${mfaTotp.enabledAt} IS NOT NULL)`;
}

const invalidMfaToken = () => AppError.unauthorized('mfaToken', 'is invalid or has expired');

export interface MfaSignedIn {
  user: UserRow;
  session: NewSession;
}

/**
 * Completes a sign-in awaiting its second factor. Two round trips: read the pending step, the account,
 * its lockout and its authenticator; then, in one batch, spend the step, accept the factor (guarded
 * on the step being this request's), create the session and clear failures (guarded on the factor).
 * Wrong codes count toward the same lockout as wrong passwords.
 */
export async function completeMfaSignIn(
  db: Database,
  input: SecondFactorInput & { mfaToken: string },
  client: ClientInfo,
  refreshTtlSeconds: number,
  encryptionKey: string,
  now: Date,
): Promise<MfaSignedIn> {
  const flowId = await flowIdOf(input.mfaToken);
  const [pending, totpRows] = await db.batch([
    db
      .select({ user: users, data: authFlows.data, lockedUntil: loginLockouts.lockedUntil })
      .from(authFlows)
      .innerJoin(users, eq(users.id, authFlows.userId))
      .leftJoin(loginLockouts, sql`${loginLockouts.key} = 'login:' || lower(${users.email})`)
      .where(
        and(
          eq(authFlows.id, flowId),
          eq(authFlows.kind, 'mfa'),
          isNull(authFlows.usedAt),
          gt(authFlows.expiresAt, now),
        ),
      ),
    db
      .select()
      .from(mfaTotp)
      .where(sql`${mfaTotp.userId} = (SELECT ${authFlows.userId} FROM ${authFlows} WHERE ${authFlows.id} = ${flowId})`),
  ]);
  const row = pending[0];
  if (!row) throw invalidMfaToken();
  const user = row.user;
  assertNotLocked(row.lockedUntil === null ? undefined : { lockedUntil: row.lockedUntil }, now);
  const key = lockoutKey(user.email);
  const useId = newUseId();
  // The factor is accepted only while the pending step is live; the step is spent only if the factor
  // was accepted, so a wrong recovery code leaves it usable (the lockout bounds the attempts).
  const flowLive = sql`EXISTS (SELECT 1 FROM ${authFlows} WHERE ${authFlows.id} = ${flowId} AND ${authFlows.usedAt} IS NULL AND ${authFlows.expiresAt} > ${now.getTime()})`;
  const factor = await acceptFactor(db, user.id, totpRows[0], input, encryptionKey, now, useId, flowLive);
  if (!factor) {
    await recordFailureStatement(db, key, now);
    logInfo('signin.mfa.failed', { userId: user.id, reason: 'invalid_code' });
    throw AppError.unauthorized('code', 'is invalid');
  }
  const firstFactor = Array.isArray(row.data.amr) ? (row.data.amr as string[]) : ['pwd'];
  const method: SignInMethod = { amr: withSecondFactor(firstFactor, factor.method), aal: 2 };
  const session = await prepareSession(db, user.id, client, refreshTtlSeconds, now, method, factor.accepted);
  const [accepted] = await db.batch([
    factor.statement,
    db
      .update(authFlows)
      .set({ usedAt: now, usedBy: useId })
      .where(and(eq(authFlows.id, flowId), isNull(authFlows.usedAt), factor.accepted)),
    ...session.statements,
    db.delete(loginLockouts).where(and(eq(loginLockouts.key, key), factor.accepted)),
  ]);
  if ((accepted as unknown[]).length === 0) {
    // Wrong recovery code, or a right code already spent (a replay or a parallel request).
    await recordFailureStatement(db, key, now);
    logInfo('signin.mfa.failed', { userId: user.id, reason: factor.method === 'otp' ? 'code_reused' : 'invalid_code' });
    throw AppError.unauthorized(factor.method === 'otp' ? 'code' : 'recoveryCode', 'is invalid');
  }
  logInfo('signin.mfa.succeeded', { userId: user.id, method: factor.method });
  return { user, session };
}

/**
 * Re-authenticates the current session with the second factor (for sensitive actions on a two-factor
 * account): the factor is accepted and the session marked fresh and two-factor in one batch.
 */
export async function reauthenticateWithSecondFactor(
  db: Database,
  userId: string,
  sessionId: string,
  email: string,
  currentAmr: string[],
  input: SecondFactorInput,
  encryptionKey: string,
  now: Date,
): Promise<{ expiresAt: Date; assurance: SessionAssurance }> {
  const key = lockoutKey(email);
  const [totpRows, lock] = await db.batch([
    db.select().from(mfaTotp).where(eq(mfaTotp.userId, userId)),
    db.select({ lockedUntil: loginLockouts.lockedUntil }).from(loginLockouts).where(eq(loginLockouts.key, key)),
  ]);
  assertNotLocked(lock[0], now);
  const useId = newUseId();
  const factor = await acceptFactor(db, userId, totpRows[0], input, encryptionKey, now, useId);
  if (!factor) {
    await recordFailureStatement(db, key, now);
    throw AppError.unauthorized(input.code !== undefined ? 'code' : 'recoveryCode', 'is invalid');
  }
  const method: SignInMethod = { amr: withSecondFactor(currentAmr, factor.method), aal: 2 };
  const [accepted, updated] = await db.batch([
    factor.statement,
    reauthenticateSessionStatement(db, userId, sessionId, method, now, factor.accepted),
    db.delete(loginLockouts).where(and(eq(loginLockouts.key, key), factor.accepted)),
  ]);
  if ((accepted as unknown[]).length === 0) {
    await recordFailureStatement(db, key, now);
    throw AppError.unauthorized('code', 'is invalid');
  }
  const session = (updated as { expiresAt: Date; amr: string; aal: number; authAt: Date | null; createdAt: Date }[])[0];
  if (!session) throw AppError.unauthorized();
  return { expiresAt: session.expiresAt, assurance: assuranceOf(session) };
}

/** Whether two-factor is on and how many recovery codes are left: one round trip. */
export async function mfaStatus(db: Database, userId: string): Promise<{ totp: boolean; recoveryCodesLeft: number }> {
  const [totp, left] = await db.batch([
    db
      .select({ userId: mfaTotp.userId })
      .from(mfaTotp)
      .where(and(eq(mfaTotp.userId, userId), isNotNull(mfaTotp.enabledAt))),
    db
      .select({ n: sql<number>`count(*)` })
      .from(mfaRecoveryCodes)
      .where(and(eq(mfaRecoveryCodes.userId, userId), isNull(mfaRecoveryCodes.usedAt))),
  ]);
  return { totp: totp.length > 0, recoveryCodesLeft: left[0]?.n ?? 0 };
}
