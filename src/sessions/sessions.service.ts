import { and, desc, eq, gt, isNull, lt, ne, sql, type SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Database } from '../db/client';
import { refreshTokens, sessions, users } from '../db/schema';
import { insertSelectRow } from '../db/computed';
import { hashToken, newId, randomToken } from '../lib/tokens';
import type { SessionAssurance } from './jwt';

/** How often, at most, a session's last-seen time is written to D1. */
export const LAST_SEEN_INTERVAL_MS = 5 * 60 * 1000;

export interface NewSession {
  sessionId: string;
  refreshToken: string;
  expiresAt: Date;
  assurance: SessionAssurance;
  /** Statements to run in the caller's batch, next to whatever else the sign-in writes. */
  statements: [BatchItem<'sqlite'>, BatchItem<'sqlite'>];
}

export interface ClientInfo {
  userAgent: string | null;
  country: string | null;
}

/** A password sign-in: one factor. */
const PASSWORD_SIGN_IN = { amr: ['pwd'], aal: 1 } as const;

export interface SignInMethod {
  amr: readonly string[];
  aal: 1 | 2;
}

/**
 * The statements creating a session and its first refresh token. With `guard`, both are written only
 * if that SQL condition holds when the batch runs (e.g. "this request's second-factor code was the
 * one accepted"), so a sign-in that lost a race writes nothing.
 */
export async function prepareSession(
  db: Database,
  userId: string,
  client: ClientInfo,
  refreshTtlSeconds: number,
  now: Date,
  method: SignInMethod = PASSWORD_SIGN_IN,
  guard?: SQL,
): Promise<NewSession> {
  const sessionId = newId('ses');
  const refreshToken = randomToken();
  const tokenHash = await hashToken(refreshToken);
  const expiresAt = new Date(now.getTime() + refreshTtlSeconds * 1000);
  const row = {
    id: sessionId,
    userId,
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
    userAgent: client.userAgent?.slice(0, 256) ?? null,
    country: client.country,
    amr: method.amr.join(','),
    aal: method.aal,
    authAt: now,
  };
  const statements: NewSession['statements'] = guard
    ? [
        db.insert(sessions).select(
          db
            .select(insertSelectRow(sessions, { ...row, userId: users.id, revokedAt: null }))
            .from(users)
            .where(and(eq(users.id, userId), guard)),
        ),
        db.insert(refreshTokens).select(
          db
            .select(
              insertSelectRow(refreshTokens, {
                tokenHash,
                sessionId: sessions.id,
                createdAt: now,
                expiresAt,
                usedAt: null,
                replacedBy: null,
              }),
            )
            .from(sessions)
            .where(eq(sessions.id, sessionId)),
        ),
      ]
    : [
        db.insert(sessions).values(row),
        db.insert(refreshTokens).values({ tokenHash, sessionId, createdAt: now, expiresAt }),
      ];
  return {
    sessionId,
    refreshToken,
    expiresAt,
    assurance: { amr: [...method.amr], aal: method.aal, authTime: Math.floor(now.getTime() / 1000) },
    statements,
  };
}

/** The assurance recorded on a session row, as access tokens carry it. */
export function assuranceOf(row: { amr: string; aal: number; authAt: Date | null; createdAt: Date }): SessionAssurance {
  return {
    amr: row.amr.split(',').filter(Boolean),
    aal: row.aal === 2 ? 2 : 1,
    authTime: Math.floor((row.authAt ?? row.createdAt).getTime() / 1000),
  };
}

/**
 * Records a fresh proof of identity on an active session (re-authentication, or a second factor
 * added to it) and returns what a new access token needs; undefined when the session is gone.
 */
export function reauthenticateSessionStatement(
  db: Database,
  userId: string,
  sessionId: string,
  method: SignInMethod | null,
  now: Date,
  guard?: SQL,
) {
  return db
    .update(sessions)
    .set({
      authAt: now,
      ...(method ? { amr: sql`${method.amr.join(',')}`, aal: method.aal } : {}),
    })
    .where(
      and(
        eq(sessions.id, sessionId),
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
        ...(guard ? [guard] : []),
      ),
    )
    .returning({
      expiresAt: sessions.expiresAt,
      amr: sessions.amr,
      aal: sessions.aal,
      authAt: sessions.authAt,
      createdAt: sessions.createdAt,
    });
}

/** The D1 fallback when KV has no copy (not yet propagated, or evicted): the session with its account's role. */
export async function findActiveSession(db: Database, sessionId: string, now: Date) {
  const rows = await db
    .select({
      id: sessions.id,
      userId: sessions.userId,
      expiresAt: sessions.expiresAt,
      lastSeenAt: sessions.lastSeenAt,
      role: users.role,
      username: users.username,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
    .limit(1);
  return rows[0];
}

/** Marks the session freshly authenticated (same method); undefined-safe: throws nothing, returns null when gone. */
export async function reauthenticateSession(db: Database, userId: string, sessionId: string, now: Date) {
  const [row] = await reauthenticateSessionStatement(db, userId, sessionId, null, now);
  if (!row) return null;
  return { expiresAt: row.expiresAt, assurance: assuranceOf(row) };
}

/** Conditional, so concurrent isolates write last-seen at most once per interval. */
export async function touchSession(db: Database, sessionId: string, now: Date): Promise<void> {
  await db
    .update(sessions)
    .set({ lastSeenAt: now })
    .where(and(eq(sessions.id, sessionId), lt(sessions.lastSeenAt, new Date(now.getTime() - LAST_SEEN_INTERVAL_MS))));
}

export async function listActiveSessions(db: Database, userId: string, now: Date) {
  return db
    .select({
      id: sessions.id,
      createdAt: sessions.createdAt,
      lastSeenAt: sessions.lastSeenAt,
      expiresAt: sessions.expiresAt,
      userAgent: sessions.userAgent,
      country: sessions.country,
    })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
    .orderBy(desc(sessions.createdAt));
}

/** Revokes one of the user's sessions. Returns false when it is not theirs or not active. */
export async function revokeSession(db: Database, userId: string, sessionId: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.length > 0;
}

/** A statement revoking every active session of a user except `keepSessionId`; returns the revoked ids. */
export function revokeOtherSessionsStatement(db: Database, userId: string, keepSessionId: string | null, now: Date) {
  const conditions = [eq(sessions.userId, userId), isNull(sessions.revokedAt)];
  if (keepSessionId) conditions.push(ne(sessions.id, keepSessionId));
  return db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(...conditions))
    .returning({ id: sessions.id });
}

export type RefreshOutcome =
  | {
      kind: 'rotated';
      user: typeof users.$inferSelect;
      userId: string;
      sessionId: string;
      refreshToken: string;
      expiresAt: Date;
      assurance: SessionAssurance;
    }
  | { kind: 'reused'; userId: string; sessionId: string }
  | { kind: 'invalid' };

/**
 * Rotates a refresh token in one atomic batch: mark the presented token used (only if unused), insert
 * its successor (only if that mark was ours), extend the session, then read back what happened. Two
 * parallel refreshes with one token cannot both win; a token presented again after use is reuse, and
 * the caller revokes the whole session (the token family).
 */
export async function rotateRefreshToken(
  db: Database,
  presented: string,
  refreshTtlSeconds: number,
  now: Date,
): Promise<RefreshOutcome> {
  const oldHash = await hashToken(presented);
  const nextToken = randomToken();
  const nextHash = await hashToken(nextToken);
  const expiresAt = new Date(now.getTime() + refreshTtlSeconds * 1000);
  const nowMs = now.getTime();

  const [, , , state] = await db.batch([
    db
      .update(refreshTokens)
      .set({ usedAt: now, replacedBy: nextHash })
      .where(
        and(
          eq(refreshTokens.tokenHash, oldHash),
          isNull(refreshTokens.usedAt),
          gt(refreshTokens.expiresAt, now),
          sql`EXISTS (SELECT 1 FROM ${sessions} WHERE ${sessions.id} = ${refreshTokens.sessionId}
                AND ${sessions.revokedAt} IS NULL AND ${sessions.expiresAt} > ${nowMs})`,
        ),
      ),
    // Insert-select: the successor exists only if the mark above was this request's.
    db.insert(refreshTokens).select(
      db
        .select(
          insertSelectRow(refreshTokens, {
            tokenHash: nextHash,
            sessionId: refreshTokens.sessionId,
            createdAt: now,
            expiresAt,
            usedAt: null,
            replacedBy: null,
          }),
        )
        .from(refreshTokens)
        .where(and(eq(refreshTokens.tokenHash, oldHash), eq(refreshTokens.replacedBy, nextHash))),
    ),
    db
      .update(sessions)
      .set({ expiresAt, lastSeenAt: now })
      .where(sql`${sessions.id} = (SELECT session_id FROM ${refreshTokens} WHERE token_hash = ${nextHash})`),
    db
      .select({
        sessionId: refreshTokens.sessionId,
        replacedBy: refreshTokens.replacedBy,
        userId: sessions.userId,
        amr: sessions.amr,
        aal: sessions.aal,
        // One aliased column: D1 collapses duplicate column names, and users has created_at too.
        authAtMs: sql<number>`COALESCE(${sessions.authAt}, ${sessions.createdAt})`.as('session_auth_at'),
        user: users,
      })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(eq(refreshTokens.tokenHash, oldHash)),
  ]);
  const row = state[0];
  if (!row) return { kind: 'invalid' };
  if (row.replacedBy === nextHash) {
    return {
      kind: 'rotated',
      user: row.user,
      userId: row.userId,
      sessionId: row.sessionId,
      refreshToken: nextToken,
      expiresAt,
      assurance: assuranceOf({ ...row, authAt: new Date(row.authAtMs), createdAt: new Date(row.authAtMs) }),
    };
  }
  if (row.replacedBy !== null) return { kind: 'reused', userId: row.userId, sessionId: row.sessionId };
  return { kind: 'invalid' };
}

/** Purges sessions (and, by cascade, their refresh tokens) that expired before `cutoff`. */
export async function purgeExpiredSessions(db: Database, cutoff: Date): Promise<number> {
  const rows = await db.delete(sessions).where(lt(sessions.expiresAt, cutoff)).returning({ id: sessions.id });
  return rows.length;
}
