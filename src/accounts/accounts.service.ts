import { and, eq, gt, isNull, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client';
import { isUniqueViolation } from '../db/errors';
import { insertSelectRow } from '../db/computed';
import { mfaTotp, sessions, users, userTokens } from '../db/schema';
import type { UserTokenPurpose } from '../db/values';
import { passwordResetEmail, verificationEmail } from '../email/email.templates';
import { enqueueEmailStatement, enqueueEmailToUserStatement } from '../email/outbox.service';
import { AppError } from '../errors';
import { DUMMY_PASSWORD_HASH, hashPassword, needsRehash, NO_PASSWORD, verifyPassword } from '../lib/password';
import { hashToken, newId, randomToken } from '../lib/tokens';
import {
  assertNotLocked,
  assertWithinLimit,
  clearFailuresForUserStatement,
  clearFailuresStatement,
  consumeLimit,
  hitStatement,
  lockoutKey,
  lockoutStatement,
  recordFailureStatement,
  withinLimit,
  type WindowLimit,
} from '../security/rate-limit';
import {
  prepareSession,
  revokeOtherSessionsStatement,
  type ClientInfo,
  type NewSession,
  type SignInMethod,
} from '../sessions/sessions.service';
import { banInForce } from '../security/permissions';
import { memberCreatedWebhook } from '../webhooks/webhooks.outbox';
import { logInfo } from '../lib/log';
import { prepareMfaChallenge } from '../mfa/mfa.service';
import { bumpInboxesShowing } from '../messages/messages.queries';
import { emailMatches, newAccountRole, usernameMatches } from './users.queries';

export type UserRow = typeof users.$inferSelect;

const VERIFY_TOKEN_TTL_MS = 48 * 60 * 60 * 1000;
const RESET_TOKEN_TTL_MS = 60 * 60 * 1000;
/** Per-account limits (per-IP limits sit in front of the routes). */
const REGISTER_LIMIT: WindowLimit = { limit: 5, windowSeconds: 3600 };
const RESET_LIMIT: WindowLimit = { limit: 3, windowSeconds: 3600 };
const RESEND_VERIFICATION_LIMIT: WindowLimit = { limit: 3, windowSeconds: 3600 };

export interface SignInOptions {
  client: ClientInfo;
  refreshTtlSeconds: number;
  appUrl: string;
}

export interface SignedIn {
  user: UserRow;
  session: NewSession;
}

/** 403 `{"errors":{"user":["is banned until <ISO>"]}}` (or "is banned" when permanent). */
function bannedError(user: { bannedUntil: Date | null }): AppError {
  return new AppError(403, {
    user: [user.bannedUntil ? `is banned until ${user.bannedUntil.toISOString()}` : 'is banned'],
  });
}

/**
 * For sign-ins that skip the password step (social sign-in, passkeys): a deleted account signs in to
 * nothing, a banned one is told so (as the password login does).
 */
export function assertMaySignIn(
  user: { deletedAt: Date | null; bannedAt: Date | null; bannedUntil: Date | null },
  now: Date,
): void {
  if (user.deletedAt) throw AppError.unauthorized('credentials', 'invalid');
  if (banInForce(user, now)) throw bannedError(user);
}

/** A sign-in whose first factor passed on an account with two-factor on: the second step's handle. */
export interface SecondFactorRequired {
  mfaRequired: true;
  mfaToken: string;
  userId: string;
}

export async function findUserById(db: Database, id: string): Promise<UserRow | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return user;
}

/** Reports which of email/username are taken, for a clear 409 after a unique-index failure. */
async function conflictFor(db: Database, email: string | undefined, username: string | undefined, exceptId?: string) {
  const [emailTaken, usernameTaken] = await db.batch([
    db
      .select({ id: users.id })
      .from(users)
      .where(email ? emailMatches(email) : sql`0`)
      .limit(1),
    db
      .select({ id: users.id })
      .from(users)
      .where(username ? usernameMatches(username) : sql`0`)
      .limit(1),
  ]);
  const errors: Record<string, string[]> = {};
  if (emailTaken[0] && emailTaken[0].id !== exceptId) errors.email = ['has already been taken'];
  if (usernameTaken[0] && usernameTaken[0].id !== exceptId) errors.username = ['has already been taken'];
  if (Object.keys(errors).length === 0) errors.body = ['conflicts with another account, try again'];
  return AppError.conflict(errors);
}

async function verificationStatements(
  db: Database,
  user: { id: string; email: string; username: string },
  appUrl: string,
  now: Date,
) {
  const token = randomToken();
  return [
    db.insert(userTokens).values({
      tokenHash: await hashToken(token),
      userId: user.id,
      purpose: 'verify_email',
      createdAt: now,
      expiresAt: new Date(now.getTime() + VERIFY_TOKEN_TTL_MS),
    }),
    enqueueEmailStatement(db, user.email, verificationEmail(appUrl, user.username, token), now),
  ] as const;
}

/**
 * Creates the account, its first session and its verification email in one batch. Uniqueness is the
 * indexes' job: two parallel registrations cannot both insert, and the loser gets a 409.
 */
export async function registerUser(
  db: Database,
  input: { username: string; email: string; password: string },
  options: SignInOptions,
  now: Date,
): Promise<SignedIn> {
  await consumeLimit(db, `register:${input.email.toLowerCase()}`, REGISTER_LIMIT, now);

  const values = {
    id: newId('usr'),
    email: input.email,
    username: input.username,
    passwordHash: await hashPassword(input.password),
    bio: null,
    image: null,
    emailVerifiedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  const session = await prepareSession(db, values.id, options.client, options.refreshTtlSeconds, now);
  try {
    const [inserted] = await db.batch([
      db
        .insert(users)
        .values({ ...values, role: newAccountRole })
        .returning(),
      ...session.statements,
      ...(await verificationStatements(db, values, options.appUrl, now)),
      memberCreatedWebhook(db, values, now),
    ]);
    const user = inserted[0];
    if (!user) throw new Error('registered user not returned');
    return { user, session };
  } catch (err) {
    if (isUniqueViolation(err, 'users')) throw await conflictFor(db, input.email, input.username);
    throw err;
  }
}

/**
 * Two D1 round trips: read the account, its lockout state and whether it has two-factor on, then
 * write the session (or the failure, or the pending second step). Unknown emails are checked against
 * a dummy hash so timing does not reveal accounts. With two-factor on, the password alone opens no
 * session and clears no failures: the second step does both.
 */
export async function loginUser(
  db: Database,
  input: { email: string; password: string },
  options: SignInOptions,
  now: Date,
): Promise<SignedIn | SecondFactorRequired> {
  const key = lockoutKey(input.email);
  const [found, lock, totp] = await db.batch([
    db.select().from(users).where(emailMatches(input.email)).limit(1),
    lockoutStatement(db, key),
    db
      .select({ enabledAt: mfaTotp.enabledAt })
      .from(mfaTotp)
      .where(sql`${mfaTotp.userId} = (SELECT ${users.id} FROM ${users} WHERE ${emailMatches(input.email)})`),
  ]);
  assertNotLocked(lock[0], now);
  const user = found[0];
  // Accounts without a password (social sign-in) cost the same hash as unknown emails.
  const hasPassword = user !== undefined && user.passwordHash !== NO_PASSWORD;
  const valid = await verifyPassword(input.password, hasPassword ? user.passwordHash : DUMMY_PASSWORD_HASH);
  if (!user || !hasPassword || !valid) {
    await recordFailureStatement(db, key, now);
    logInfo('signin.password.failed', { userId: user?.id ?? null });
    throw AppError.unauthorized('credentials', 'invalid');
  }
  // Told only to whoever knows the password.
  if (banInForce(user, now)) throw bannedError(user);
  if (totp[0]?.enabledAt) {
    const challenge = await prepareMfaChallenge(db, user.id, ['pwd'], now);
    await challenge.statement;
    return { mfaRequired: true, mfaToken: challenge.handle, userId: user.id };
  }

  const session = await prepareSession(db, user.id, options.client, options.refreshTtlSeconds, now);
  const rehash = needsRehash(user.passwordHash)
    ? [
        db
          .update(users)
          .set({ passwordHash: await hashPassword(input.password) })
          .where(eq(users.id, user.id)),
      ]
    : [];
  await db.batch([...session.statements, clearFailuresStatement(db, key), ...rehash]);
  return { user, session };
}

export interface UserPatch {
  email?: string;
  username?: string;
  password?: string;
  bio?: string | null;
  image?: string | null;
}

/**
 * When the patch touches what conversation lists show of a member (username, bio, image): the
 * statement bumping the inbox version (the list's ETag) of everyone whose list shows them. It runs
 * before the update in the same batch and compares the stored row with the new values, so it bumps
 * only when something shown really changes (also under concurrent edits).
 */
function shownProfileChange(
  db: Database,
  userId: string,
  patch: UserPatch,
): [] | [ReturnType<typeof bumpInboxesShowing>] {
  const changed: SQL[] = [];
  if (patch.username !== undefined) changed.push(sql`pu.username IS NOT ${patch.username}`);
  if (patch.bio !== undefined) changed.push(sql`pu.bio IS NOT ${patch.bio}`);
  if (patch.image !== undefined) changed.push(sql`pu.image IS NOT ${patch.image}`);
  if (changed.length === 0) return [];
  return [
    bumpInboxesShowing(
      db,
      userId,
      sql`EXISTS (SELECT 1 FROM users pu WHERE pu.id = ${userId} AND (${sql.join(changed, sql` OR `)}))`,
    ),
  ];
}

/**
 * Applies a profile/credentials patch in one batch. Changing the email un-verifies it and queues a
 * new confirmation. A password change ends every session of the account, the current one included
 * (returned, so the caller can drop their KV copies), and starts a fresh session for the caller in
 * the same batch: a token taken before the change stops working everywhere.
 */
export async function updateUser(
  db: Database,
  current: UserRow,
  patch: UserPatch,
  options: SignInOptions,
  now: Date,
  /** How the session making the change was authenticated: its replacement keeps that assurance. */
  method?: SignInMethod,
): Promise<{ user: UserRow; revokedSessionIds: string[]; session: NewSession | null }> {
  const emailChanged = patch.email !== undefined && patch.email.toLowerCase() !== current.email.toLowerCase();
  const changes: Partial<UserRow> = { updatedAt: now };
  if (patch.email !== undefined) changes.email = patch.email;
  if (patch.username !== undefined) changes.username = patch.username;
  if (patch.bio !== undefined) changes.bio = patch.bio;
  if (patch.image !== undefined) changes.image = patch.image;
  if (emailChanged) changes.emailVerifiedAt = null;
  if (patch.password !== undefined) changes.passwordHash = await hashPassword(patch.password);
  const user: UserRow = { ...current, ...changes };

  const extra = emailChanged ? await verificationStatements(db, user, options.appUrl, now) : [];
  const inboxes = shownProfileChange(db, current.id, patch);
  try {
    const update = db.update(users).set(changes).where(eq(users.id, current.id));
    if (patch.password === undefined) {
      await db.batch([...inboxes, update, ...extra]);
      return { user, revokedSessionIds: [], session: null };
    }
    const session = await prepareSession(db, current.id, options.client, options.refreshTtlSeconds, now, method);
    const revoke = revokeOtherSessionsStatement(db, current.id, null, now);
    const results = await db.batch([...inboxes, update, revoke, ...session.statements, ...extra]);
    const revoked = results[inboxes.length + 1] as Awaited<typeof revoke>;
    return { user, revokedSessionIds: revoked.map((r) => r.id), session };
  } catch (err) {
    if (isUniqueViolation(err, 'users')) throw await conflictFor(db, patch.email, patch.username, current.id);
    throw err;
  }
}

/**
 * Sends a fresh verification email (earlier links keep working until they expire). Two round trips:
 * the limit counter with the account, then the token and the email together.
 */
export async function resendVerification(
  db: Database,
  userId: string,
  appUrl: string,
  now: Date,
): Promise<'queued' | 'already_verified'> {
  const [hits, found] = await db.batch([
    hitStatement(db, `resend-verification:${userId}`, RESEND_VERIFICATION_LIMIT, now),
    db.select().from(users).where(eq(users.id, userId)).limit(1),
  ]);
  const user = found[0];
  if (!user) throw AppError.unauthorized();
  if (user.emailVerifiedAt) return 'already_verified';
  assertWithinLimit(hits[0], RESEND_VERIFICATION_LIMIT, now);
  const [token, email] = await verificationStatements(db, user, appUrl, now);
  await db.batch([token, email]);
  return 'queued';
}

const invalidToken = () => AppError.validation({ token: ['is invalid or has expired'] });

/** Marks a single-use token used (only if valid) and returns the statement plus the matching subquery. */
function consumeTokenStatements(db: Database, tokenHash: string, purpose: UserTokenPurpose, now: Date) {
  const consume = db
    .update(userTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(userTokens.tokenHash, tokenHash),
        eq(userTokens.purpose, purpose),
        isNull(userTokens.usedAt),
        gt(userTokens.expiresAt, now),
      ),
    )
    .returning({ userId: userTokens.userId });
  // Matches only the row the statement above just consumed (same batch, same transaction).
  const consumedUser = sql`(SELECT ${userTokens.userId} FROM ${userTokens} WHERE ${userTokens.tokenHash} = ${tokenHash} AND ${userTokens.usedAt} = ${now.getTime()})`;
  return { consume, consumedUser };
}

export async function verifyEmail(db: Database, token: string, now: Date): Promise<void> {
  const { consume, consumedUser } = consumeTokenStatements(db, await hashToken(token), 'verify_email', now);
  const [consumed] = await db.batch([
    consume,
    db
      .update(users)
      .set({ emailVerifiedAt: sql`COALESCE(${users.emailVerifiedAt}, ${now.getTime()})` })
      .where(sql`${users.id} = ${consumedUser}`),
  ]);
  if (consumed.length === 0) throw invalidToken();
}

/**
 * Queues a reset email if the account exists and is under its hourly limit, in one batch whose work
 * is the same either way, so neither the answer nor its timing reveals whether the email is registered.
 */
export async function requestPasswordReset(db: Database, email: string, appUrl: string, now: Date): Promise<void> {
  const token = randomToken();
  const tokenHash = await hashToken(token);
  const key = `reset:${email.toLowerCase()}`;
  const hit = hitStatement(db, key, RESET_LIMIT, now);
  const underLimit = withinLimit(key, RESET_LIMIT, now);
  // The email greets by address rather than username, so its text is known before the lookup.
  const content = passwordResetEmail(appUrl, email, token);
  const matchingUser = and(emailMatches(email), underLimit);
  await db.batch([
    hit,
    db.insert(userTokens).select(
      db
        .select(
          insertSelectRow(userTokens, {
            tokenHash,
            userId: users.id,
            purpose: 'password_reset',
            createdAt: now,
            expiresAt: new Date(now.getTime() + RESET_TOKEN_TTL_MS),
            usedAt: null,
          }),
        )
        .from(users)
        .where(matchingUser),
    ),
    enqueueEmailToUserStatement(db, matchingUser, content, now),
  ]);
}

/** Sets the new password and revokes every session of the account; returns the account and revoked session ids. */
export async function confirmPasswordReset(
  db: Database,
  token: string,
  password: string,
  now: Date,
): Promise<{ userId: string | null; sessionIds: string[] }> {
  const passwordHash = await hashPassword(password);
  const { consume, consumedUser } = consumeTokenStatements(db, await hashToken(token), 'password_reset', now);
  const [consumed, , revoked] = await db.batch([
    consume,
    db
      .update(users)
      .set({ passwordHash, updatedAt: now })
      .where(sql`${users.id} = ${consumedUser}`),
    db
      .update(sessions)
      .set({ revokedAt: now })
      .where(and(sql`${sessions.userId} = ${consumedUser}`, isNull(sessions.revokedAt)))
      .returning({ id: sessions.id, userId: sessions.userId }),
    // Whoever holds the reset link owns the mailbox: a lockout from earlier failures no longer applies.
    clearFailuresForUserStatement(db, consumedUser),
  ]);
  if (consumed.length === 0) throw invalidToken();
  return { userId: revoked[0]?.userId ?? null, sessionIds: revoked.map((r) => r.id) };
}

/**
 * Re-authenticates the current session with the password (accounts without two-factor), so that
 * sensitive actions are allowed for the next few minutes. Failures count toward the login lockout.
 */
export async function checkPasswordForReauth(db: Database, user: UserRow, password: string, now: Date): Promise<void> {
  const key = lockoutKey(user.email);
  const [lock] = await db.batch([lockoutStatement(db, key)]);
  assertNotLocked(lock[0], now);
  if (!(await verifyPassword(password, user.passwordHash))) {
    await recordFailureStatement(db, key, now);
    throw AppError.unauthorized('password', 'is invalid');
  }
}

/** Purges verification and reset tokens that can no longer be used. */
export async function purgeExpiredUserTokens(db: Database, now: Date): Promise<number> {
  const rows = await db
    .delete(userTokens)
    .where(sql`${userTokens.expiresAt} < ${now.getTime()}`)
    .returning({ hash: userTokens.tokenHash });
  return rows.length;
}
