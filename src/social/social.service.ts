import { and, eq, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { isUniqueViolation } from '../db/errors';
import { authFlows, identities, mfaTotp, passkeys, users } from '../db/schema';
import { AppError } from '../errors';
import { NO_PASSWORD } from '../lib/password';
import { newId } from '../lib/tokens';
import { assertMaySignIn } from '../accounts/accounts.service';
import { emailMatches, newAccountRole } from '../accounts/users.queries';
import { prepareMfaChallenge } from '../mfa/mfa.service';
import { consumeFlowStatement, flowConsumedBy, flowIdOf, newUseId, prepareFlow } from '../security/auth-flows';
import { prepareSession, type ClientInfo, type NewSession } from '../sessions/sessions.service';
import type { ProviderProfile } from './providers';

type UserRow = typeof users.$inferSelect;

/** Neutral error codes the callback sends back to the front end (`?error=`). */
export type SocialErrorCode =
  | 'access_denied'
  | 'invalid_request'
  | 'expired'
  | 'provider_error'
  | 'email_required'
  | 'account_exists'
  | 'identity_in_use';

export class SocialError extends Error {
  override name = 'SocialError';
  constructor(readonly code: SocialErrorCode) {
    super(code);
  }
}

/** What the server keeps for an authorization request, keyed by the hash of its `state`. */
export interface OAuthFlowData {
  provider: string;
  codeVerifier: string;
  nonce: string | null;
  redirectTo: string;
  /** Set for an explicit link started by a signed-in user. */
  linkUserId: string | null;
}

export async function prepareOAuthFlow(db: Database, state: string, data: OAuthFlowData, now: Date) {
  return prepareFlow(db, 'oauth', data.linkUserId, { ...data }, now, state);
}

/**
 * Spends the state: works once, within 10 minutes, for the provider it was issued for. When it does
 * not, says whether it was an expired flow (the front end may offer to start again) or anything else.
 */
export async function consumeOAuthFlow(
  db: Database,
  provider: string,
  state: string,
  now: Date,
): Promise<OAuthFlowData | { expired: string } | 'invalid'> {
  const flowId = await flowIdOf(state);
  const [[row], [stale]] = await db.batch([
    consumeFlowStatement(db, 'oauth', flowId, now, newUseId()),
    db
      .select({ expiresAt: authFlows.expiresAt, usedAt: authFlows.usedAt, data: authFlows.data })
      .from(authFlows)
      .where(and(eq(authFlows.id, flowId), eq(authFlows.kind, 'oauth'))),
  ]);
  if (!row) {
    const expired = stale && stale.usedAt === null && stale.expiresAt.getTime() <= now.getTime();
    const data = stale?.data as OAuthFlowData | undefined;
    return expired && data?.provider === provider ? { expired: data.redirectTo } : 'invalid';
  }
  const data = row.data as unknown as OAuthFlowData;
  return data.provider === provider ? data : 'invalid';
}

/** A RealWorld-valid username from the profile: letters, digits, `_`, `.`, `-`; at most 40 characters. */
function baseUsername(profile: ProviderProfile): string {
  const source = profile.preferredUsername ?? profile.name ?? profile.email?.split('@')[0] ?? '';
  const cleaned = source
    .normalize('NFKC')
    .replace(/\s+/g, '_')
    .replace(/[^\p{L}\p{N}_.-]/gu, '')
    .slice(0, 30);
  return cleaned || 'reader';
}

/** The base name first, then the base with a random 6-digit suffix. */
function usernameCandidate(base: string, attempt: number): string {
  if (attempt === 0) return base;
  return `${base}-${Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b % 10).join('')}`;
}

export type SignInResolution = { kind: 'signed_in'; userId: string; created: boolean; linked: boolean };

/**
 * Finds or creates the account for a provider identity. Rules: a known identity signs its account
 * in; a new identity whose email matches an account links to it automatically only when the provider
 * says the email is verified AND the account's email is verified; otherwise the person must sign in
 * the usual way and link explicitly. A new account gets a unique username and no password.
 */
export async function resolveSocialSignIn(
  db: Database,
  provider: string,
  profile: ProviderProfile,
  now: Date,
): Promise<SignInResolution> {
  const [known, byEmail] = await db.batch([
    db
      .select({ userId: identities.userId })
      .from(identities)
      .where(and(eq(identities.provider, provider), eq(identities.subject, profile.subject))),
    db
      .select({ id: users.id, emailVerifiedAt: users.emailVerifiedAt })
      .from(users)
      .where(profile.email ? emailMatches(profile.email) : sql`0`)
      .limit(1),
  ]);
  if (known[0]) {
    await db
      .update(identities)
      .set({ lastUsedAt: now })
      .where(and(eq(identities.provider, provider), eq(identities.subject, profile.subject)));
    return { kind: 'signed_in', userId: known[0].userId, created: false, linked: false };
  }
  if (!profile.email) throw new SocialError('email_required');
  const identity = {
    id: newId('idn'),
    provider,
    subject: profile.subject,
    email: profile.email,
    emailVerified: profile.emailVerified,
    createdAt: now,
    lastUsedAt: now,
  };
  const existing = byEmail[0];
  if (existing) {
    if (!(profile.emailVerified && existing.emailVerifiedAt)) throw new SocialError('account_exists');
    await insertIdentity(db, { ...identity, userId: existing.id });
    return { kind: 'signed_in', userId: existing.id, created: false, linked: true };
  }
  const base = baseUsername(profile);
  for (let attempt = 0; attempt < 5; attempt++) {
    const user: UserRow = {
      id: newId('usr'),
      email: profile.email,
      username: usernameCandidate(base, attempt),
      passwordHash: NO_PASSWORD,
      bio: null,
      image: null,
      emailVerifiedAt: profile.emailVerified ? now : null,
      createdAt: now,
      updatedAt: now,
      role: 'member',
      bannedAt: null,
      bannedUntil: null,
      banReason: null,
      deletedAt: null,
      dmPolicy: 'everyone',
      inboxVersion: 0,
      publishedArticlesCount: 0,
    };
    try {
      await db.batch([
        // The first account of a fresh database is the admin, however it signed up.
        db.insert(users).values({ ...user, role: newAccountRole }),
        db.insert(identities).values({ ...identity, userId: user.id }),
      ]);
      return { kind: 'signed_in', userId: user.id, created: true, linked: false };
    } catch (err) {
      if (isUniqueViolation(err, 'users_username_lower_unique')) continue;
      if (isUniqueViolation(err, 'users_email_lower_unique')) throw new SocialError('account_exists');
      if (isUniqueViolation(err, 'identities')) return resolveSocialSignIn(db, provider, profile, now);
      throw err;
    }
  }
  throw new SocialError('provider_error');
}

async function insertIdentity(db: Database, row: typeof identities.$inferInsert) {
  try {
    await db.insert(identities).values(row);
  } catch (err) {
    if (isUniqueViolation(err, 'identities')) throw new SocialError('identity_in_use');
    throw err;
  }
}

/** Explicit link by a signed-in user: refused if the identity already belongs to another account. */
export async function linkIdentity(
  db: Database,
  userId: string,
  provider: string,
  profile: ProviderProfile,
  now: Date,
): Promise<void> {
  const rows = await db
    .insert(identities)
    .values({
      id: newId('idn'),
      userId,
      provider,
      subject: profile.subject,
      email: profile.email,
      emailVerified: profile.emailVerified,
      createdAt: now,
      lastUsedAt: now,
    })
    .onConflictDoNothing()
    .returning({ id: identities.id });
  if (rows.length > 0) return;
  const [owner] = await db
    .select({ userId: identities.userId })
    .from(identities)
    .where(and(eq(identities.provider, provider), eq(identities.subject, profile.subject)));
  if (owner?.userId !== userId) throw new SocialError('identity_in_use');
}

/** A one-time code the front end trades for a session (never tokens in URLs); 2 minutes. */
export async function issueExchangeCode(db: Database, userId: string, provider: string, now: Date): Promise<string> {
  const flow = await prepareFlow(db, 'exchange', userId, { amr: ['fed'], provider }, now);
  await flow.statement;
  return flow.handle;
}

export type ExchangeOutcome =
  { kind: 'session'; user: UserRow; session: NewSession } | { kind: 'mfa'; mfaToken: string };

/**
 * Spends a one-time exchange code. Accounts with two-factor on get a pending second step instead of
 * a session; others get a session, created only if this request spent the code.
 */
export async function exchangeCode(
  db: Database,
  code: string,
  client: ClientInfo,
  refreshTtlSeconds: number,
  now: Date,
): Promise<ExchangeOutcome> {
  const flowId = await flowIdOf(code);
  const invalid = () => AppError.unauthorized('code', 'is invalid or has expired');
  const [pending] = await db.batch([
    db
      .select({ user: users, totpEnabledAt: mfaTotp.enabledAt })
      .from(users)
      .leftJoin(mfaTotp, eq(mfaTotp.userId, users.id))
      .where(sql`${users.id} = (SELECT user_id FROM auth_flows WHERE id = ${flowId} AND kind = 'exchange')`),
  ]);
  const row = pending[0];
  if (!row) throw invalid();
  assertMaySignIn(row.user, now);
  const useId = newUseId();
  if (row.totpEnabledAt) {
    const [consumed] = await consumeFlowStatement(db, 'exchange', flowId, now, useId);
    if (!consumed) throw invalid();
    const challenge = await prepareMfaChallenge(db, row.user.id, ['fed'], now);
    await challenge.statement;
    return { kind: 'mfa', mfaToken: challenge.handle };
  }
  const session = await prepareSession(
    db,
    row.user.id,
    client,
    refreshTtlSeconds,
    now,
    { amr: ['fed'], aal: 1 },
    flowConsumedBy(flowId, useId),
  );
  const [consumed] = await db.batch([consumeFlowStatement(db, 'exchange', flowId, now, useId), ...session.statements]);
  if (consumed.length === 0) throw invalid();
  return { kind: 'session', user: row.user, session };
}

export async function listIdentities(db: Database, userId: string) {
  return db
    .select({
      id: identities.id,
      provider: identities.provider,
      email: identities.email,
      createdAt: identities.createdAt,
      lastUsedAt: identities.lastUsedAt,
    })
    .from(identities)
    .where(eq(identities.userId, userId))
    .orderBy(identities.createdAt);
}

/**
 * Removes one of the user's identities, unless it is the account's last way to sign in (no password,
 * no other identity, no passkey): the guard is in the DELETE itself.
 */
export async function unlinkIdentity(db: Database, userId: string, identityId: string): Promise<void> {
  const [deleted, exists] = await db.batch([
    db
      .delete(identities)
      .where(
        and(
          eq(identities.id, identityId),
          eq(identities.userId, userId),
          or(
            sql`(SELECT ${users.passwordHash} FROM ${users} WHERE ${users.id} = ${userId}) <> ${NO_PASSWORD}`,
            sql`EXISTS (SELECT 1 FROM ${identities} other WHERE other.user_id = ${userId} AND other.id <> ${identityId})`,
            sql`EXISTS (SELECT 1 FROM ${passkeys} WHERE ${passkeys.userId} = ${userId})`,
          ),
        ),
      )
      .returning({ id: identities.id }),
    db
      .select({ id: identities.id })
      .from(identities)
      .where(and(eq(identities.id, identityId), eq(identities.userId, userId))),
  ]);
  if (deleted.length > 0) return;
  if (exists.length === 0) throw AppError.notFound('identity');
  throw AppError.validation({ identity: ['is your only way to sign in: set a password or add a passkey first'] });
}
