import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { decodeClientDataJSON } from '@simplewebauthn/server/helpers';
import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { assertMaySignIn } from '../accounts/accounts.service';
import type { AppConfig } from '../config';
import type { Database } from '../db/client';
import { insertSelectRow } from '../db/computed';
import { isUniqueViolation } from '../db/errors';
import { authFlows, identities, passkeys, users } from '../db/schema';
import { AppError } from '../errors';
import { fromBase64Url, toBase64Url } from '../lib/encoding';
import { NO_PASSWORD } from '../lib/password';
import { consumeFlowStatement, flowConsumedBy, flowIdOf, newUseId, prepareFlow } from '../security/auth-flows';
import { prepareSession, type ClientInfo, type NewSession, type SignInMethod } from '../sessions/sessions.service';

type UserRow = typeof users.$inferSelect;
type WebAuthnConfig = AppConfig['webauthn'];

/** A passkey sign-in is possession of the device plus its user verification: two factors. */
const PASSKEY_SIGN_IN: SignInMethod = { amr: ['hwk', 'user', 'mfa'], aal: 2 };

const invalidPasskey = () => AppError.unauthorized('passkey', 'is invalid');

/**
 * Challenge for registering a passkey on the signed-in account: discoverable (resident) credentials
 * with user verification, excluding the ones already registered. The challenge is kept server-side,
 * single use, for 5 minutes.
 */
export async function registrationOptions(db: Database, user: UserRow, rp: WebAuthnConfig, now: Date) {
  const existing = await db
    .select({ id: passkeys.id, transports: passkeys.transports })
    .from(passkeys)
    .where(eq(passkeys.userId, user.id));
  const options = await generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpId,
    userName: user.email,
    userDisplayName: user.username,
    userID: new Uint8Array(new TextEncoder().encode(user.id)),
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports as never })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  const flow = await prepareFlow(db, 'webauthn', user.id, { purpose: 'register' }, now, options.challenge);
  await flow.statement;
  return options;
}

/** The challenge the browser signed, read from clientDataJSON (the library verifies it again). */
function challengeOf(clientDataJSON: string): string {
  try {
    return decodeClientDataJSON(clientDataJSON).challenge;
  } catch {
    throw AppError.validation({ response: ['is not a WebAuthn response'] });
  }
}

/**
 * Verifies a new credential against its challenge and stores it. The challenge is read first and
 * spent in the same batch as the insert (which is guarded on that spending), together with the
 * caller's `extra` statements (an Idempotency-Key claim): a retry either replays or writes nothing.
 */
export async function registerPasskey(
  db: Database,
  userId: string,
  response: RegistrationResponseJSON,
  name: string | undefined,
  rp: WebAuthnConfig,
  now: Date,
  extra: BatchItem<'sqlite'>[] = [],
) {
  const challenge = challengeOf(response.response.clientDataJSON);
  const flowId = await flowIdOf(challenge);
  const invalidChallenge = () => AppError.validation({ challenge: ['is invalid or has expired'] });
  const [flow] = await db
    .select({ userId: authFlows.userId, data: authFlows.data })
    .from(authFlows)
    .where(
      and(
        eq(authFlows.id, flowId),
        eq(authFlows.kind, 'webauthn'),
        isNull(authFlows.usedAt),
        gt(authFlows.expiresAt, now),
      ),
    );
  if (!flow || flow.userId !== userId || flow.data.purpose !== 'register') {
    // A retry of a registration that succeeded: the Idempotency-Key claim (if any) fails on its key and
    // the first response is replayed; without one, or with a fresh key, the spent challenge is refused.
    if (extra.length > 0) await db.batch(extra as [BatchItem<'sqlite'>, ...BatchItem<'sqlite'>[]]);
    throw invalidChallenge();
  }
  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      requireUserVerification: true,
    });
  } catch {
    verification = { verified: false as const };
  }
  const useId = newUseId();
  if (!verification.verified) {
    // A failed attempt spends the challenge too: the browser must ask for a new one.
    await consumeFlowStatement(db, 'webauthn', flowId, now, useId);
    throw AppError.validation({ response: ['could not be verified'] });
  }
  const { credential } = verification.registrationInfo;
  const row = {
    id: credential.id,
    userId,
    publicKey: toBase64Url(credential.publicKey),
    counter: credential.counter,
    transports: credential.transports ?? [],
    name: name ?? 'Passkey',
    createdAt: now,
    lastUsedAt: null,
  };
  const insert = db
    .insert(passkeys)
    .select(
      db
        .select(insertSelectRow(passkeys, { ...row, userId: users.id }))
        .from(users)
        .where(and(eq(users.id, userId), flowConsumedBy(flowId, useId))),
    )
    .returning({ id: passkeys.id });
  let results: unknown[];
  try {
    results = await db.batch([consumeFlowStatement(db, 'webauthn', flowId, now, useId), insert, ...extra]);
  } catch (err) {
    if (isUniqueViolation(err, 'passkeys.id')) throw AppError.conflict({ passkey: ['is already registered'] });
    throw err;
  }
  if ((results[1] as unknown[]).length === 0) throw invalidChallenge();
  return row;
}

/** Challenge for a usernameless sign-in: no allowCredentials, so the browser offers discoverable passkeys. */
export async function authenticationOptions(db: Database, rp: WebAuthnConfig, now: Date) {
  const options = await generateAuthenticationOptions({ rpID: rp.rpId, userVerification: 'required' });
  const flow = await prepareFlow(db, 'webauthn', null, { purpose: 'login' }, now, options.challenge);
  await flow.statement;
  return options;
}

/**
 * Signs in with a passkey. Two round trips: spend the challenge and read the credential with its
 * account; then, after the signature checks out, advance the signature counter (guarded in SQL: it
 * must grow, unless the authenticator keeps none) and create the session only if that update won.
 */
export async function signInWithPasskey(
  db: Database,
  response: AuthenticationResponseJSON,
  rp: WebAuthnConfig,
  client: ClientInfo,
  refreshTtlSeconds: number,
  now: Date,
): Promise<{ user: UserRow; session: NewSession }> {
  const challenge = challengeOf(response.response.clientDataJSON);
  // Two selects rather than a join: D1 collapses duplicate column names (id, user_id, created_at).
  const [consumed, foundPasskey, foundUser] = await db.batch([
    consumeFlowStatement(db, 'webauthn', await flowIdOf(challenge), now, newUseId()),
    db.select().from(passkeys).where(eq(passkeys.id, response.id)),
    db
      .select()
      .from(users)
      .where(sql`${users.id} = (SELECT ${passkeys.userId} FROM ${passkeys} WHERE ${passkeys.id} = ${response.id})`),
  ]);
  const flow = consumed[0];
  if (!flow || flow.data.purpose !== 'login') throw AppError.unauthorized('challenge', 'is invalid or has expired');
  const passkey = foundPasskey[0];
  const user = foundUser[0];
  if (!passkey || !user) throw invalidPasskey();
  assertMaySignIn(user, now);
  if (response.response.userHandle && response.response.userHandle !== toBase64Url(new TextEncoder().encode(user.id))) {
    throw invalidPasskey();
  }
  let newCounter: number;
  try {
    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      credential: {
        id: passkey.id,
        publicKey: new Uint8Array(fromBase64Url(passkey.publicKey)),
        counter: passkey.counter,
        transports: passkey.transports,
      },
      requireUserVerification: true,
    });
    if (!verification.verified) throw invalidPasskey();
    newCounter = verification.authenticationInfo.newCounter;
  } catch {
    // Bad signature, wrong origin or RP, no user verification, or a counter that went backwards.
    throw invalidPasskey();
  }
  const counterAdvanced = sql`EXISTS (SELECT 1 FROM ${passkeys} WHERE ${passkeys.id} = ${passkey.id}
    AND ${passkeys.counter} = ${newCounter} AND ${passkeys.lastUsedAt} = ${now.getTime()})`;
  const session = await prepareSession(db, user.id, client, refreshTtlSeconds, now, PASSKEY_SIGN_IN, counterAdvanced);
  const [updated] = await db.batch([
    db
      .update(passkeys)
      .set({ counter: newCounter, lastUsedAt: now })
      .where(
        and(
          eq(passkeys.id, passkey.id),
          or(sql`${passkeys.counter} < ${newCounter}`, and(eq(passkeys.counter, 0), sql`${newCounter} = 0`)),
        ),
      )
      .returning({ id: passkeys.id }),
    ...session.statements,
  ]);
  if (updated.length === 0) throw invalidPasskey();
  return { user, session };
}

export async function listPasskeys(db: Database, userId: string) {
  return db
    .select({ id: passkeys.id, name: passkeys.name, createdAt: passkeys.createdAt, lastUsedAt: passkeys.lastUsedAt })
    .from(passkeys)
    .where(eq(passkeys.userId, userId))
    .orderBy(passkeys.createdAt);
}

/** Removes a passkey unless it is the account's last way to sign in (guard in the DELETE itself). */
export async function removePasskey(db: Database, userId: string, passkeyId: string): Promise<void> {
  const [deleted, exists] = await db.batch([
    db
      .delete(passkeys)
      .where(
        and(
          eq(passkeys.id, passkeyId),
          eq(passkeys.userId, userId),
          or(
            sql`(SELECT ${users.passwordHash} FROM ${users} WHERE ${users.id} = ${userId}) <> ${NO_PASSWORD}`,
            sql`EXISTS (SELECT 1 FROM ${identities} WHERE ${identities.userId} = ${userId})`,
            sql`EXISTS (SELECT 1 FROM ${passkeys} other WHERE other.user_id = ${userId} AND other.id <> ${passkeyId})`,
          ),
        ),
      )
      .returning({ id: passkeys.id }),
    db
      .select({ id: passkeys.id })
      .from(passkeys)
      .where(and(eq(passkeys.id, passkeyId), eq(passkeys.userId, userId))),
  ]);
  if (deleted.length > 0) return;
  if (exists.length === 0) throw AppError.notFound('passkey');
  throw AppError.validation({ passkey: ['is your only way to sign in: set a password or link an account first'] });
}
