import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { getConfig } from '../config';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { guardWritesBySession, primaryDb } from '../middleware/request-context';
import { can, effectiveRole, isRole, type Permission, type Role } from '../security/permissions';
import { verifyAccessTokenOnce } from './verified-tokens';
import type { SessionAssurance } from './jwt';
import { readSessionCopy, writeSessionCopy } from './sessions.kv';
import { findActiveSession, LAST_SEEN_INTERVAL_MS, touchSession } from './sessions.service';

/** Who is calling, set by `requireAuth` (always) and `optionalAuth` (when a valid token is sent). */
export interface AuthContext extends SessionAssurance {
  userId: string;
  sessionId: string;
  token: string;
  /** The role fixed at sign-in (see SessionCopy.role). */
  role: Role;
}

export type AuthEnv = { Variables: { auth: AuthContext } };
export type OptionalAuthEnv = { Variables: { auth?: AuthContext } };

const assuranceClaims = (claims: SessionAssurance): SessionAssurance => ({
  amr: claims.amr,
  aal: claims.aal,
  authTime: claims.authTime,
});

/** Accepts RealWorld's `Token <jwt>` and the standard `Bearer <jwt>`. */
function readToken(header: string | undefined): string | null {
  const match = header?.match(/^(?:Token|Bearer)\s+([A-Za-z0-9._~+/=-]+)\s*$/i);
  return match?.[1] ?? null;
}

/** Per-isolate memory of recent last-seen writes, so the hot path rarely touches D1. */
const lastSeenWrites = new Map<string, number>();

function scheduleLastSeen(c: Context<AppEnv>, sessionId: string, seenAt: number, now: Date): void {
  const previous = Math.max(seenAt, lastSeenWrites.get(sessionId) ?? 0);
  if (now.getTime() - previous < LAST_SEEN_INTERVAL_MS) return;
  if (lastSeenWrites.size > 10_000) lastSeenWrites.clear();
  lastSeenWrites.set(sessionId, now.getTime());
  c.executionCtx.waitUntil(touchSession(c.get('db'), sessionId, now).catch(() => undefined));
}

/**
 * Verifies the token (pinned algorithms, issuer, audience, expiry) and then the session: one KV read
 * on the hot path; on a KV miss, one D1 read on the primary and a KV repopulate after the response.
 */
async function authenticate(c: Context<AppEnv>): Promise<AuthContext | null> {
  const token = readToken(c.req.header('Authorization'));
  if (!token) return null;
  const now = new Date();
  const config = getConfig(c.env);
  const claims = await verifyAccessTokenOnce(c.env, config, token, now);
  if (!claims) return null;

  const copy = await readSessionCopy(c.get('sessionsKv'), claims.sessionId);
  if (copy && isRole(copy.role)) {
    if (copy.userId !== claims.userId || copy.expiresAt <= now.getTime()) return null;
    scheduleLastSeen(c, claims.sessionId, copy.seenAt ?? 0, now);
    return { ...assuranceClaims(claims), userId: claims.userId, sessionId: claims.sessionId, token, role: copy.role };
  }
  // KV has no copy: the record decides, read from the primary (a replica may not have the session yet).
  const session = await findActiveSession(primaryDb(c).db, claims.sessionId, now);
  if (!session || session.userId !== claims.userId) return null;
  const role = effectiveRole(session.role, session.username, config);
  c.executionCtx.waitUntil(
    writeSessionCopy(
      c.get('sessionsKv'),
      session.id,
      { userId: session.userId, role, expiresAt: session.expiresAt.getTime() },
      now,
    ),
  );
  scheduleLastSeen(c, claims.sessionId, session.lastSeenAt.getTime(), now);
  return {
    userId: claims.userId,
    sessionId: claims.sessionId,
    token,
    role,
    ...assuranceClaims(claims),
  };
}

/** Requires a valid token and live session, else 401 `{"errors":{"token":["is missing"]}}`. */
export const requireAuth = createMiddleware<AppEnv & AuthEnv>(async function requireAuth(c, next) {
  const auth = await authenticate(c as unknown as Context<AppEnv>);
  if (!auth) throw AppError.unauthorized();
  c.set('auth', auth);
  guardWritesBySession(c, auth.sessionId);
  await next();
});

/**
 * Sets `auth` when a valid token is sent (verified exactly like `requireAuth`). An invalid or expired
 * token on a public read is treated as anonymous, so a front end holding a stale token can still browse.
 */
export const optionalAuth = createMiddleware<AppEnv & OptionalAuthEnv>(async function optionalAuth(c, next) {
  const auth = await authenticate(c as unknown as Context<AppEnv>);
  if (auth) {
    c.set('auth', auth);
    guardWritesBySession(c, auth.sessionId);
  }
  await next();
});

/**
 * The one permission check (after `requireAuth`): 403 `{"errors":{"permission":["<action:object> required"]}}`
 * unless the caller's role holds `permission` in src/security/permissions.ts.
 */
export function requirePermission(permission: Permission) {
  return createMiddleware<AppEnv & AuthEnv>(async function requirePermission(c, next) {
    if (!can(c.get('auth').role, permission, getConfig(c.env))) {
      throw new AppError(403, { permission: [`${permission} required`] });
    }
    await next();
  });
}
