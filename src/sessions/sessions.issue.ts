import type { Context } from 'hono';
import { getConfig } from '../config';
import type { AppEnv } from '../env';
import { effectiveRole, type Role } from '../security/permissions';
import { signAccessToken, type SessionAssurance } from './jwt';
import { writeSessionCopy } from './sessions.kv';
import type { ClientInfo } from './sessions.service';

/** Device details recorded with a session. */
export function clientInfo<E extends AppEnv>(c: Context<E>): ClientInfo {
  const cf = c.req.raw.cf as { country?: unknown } | undefined;
  return {
    userAgent: c.req.header('User-Agent') ?? null,
    country: typeof cf?.country === 'string' ? cf.country : null,
  };
}

/**
 * Signs the access token (it carries ids only, never the role) for a freshly written session and publishes its KV copy after the response
 * (until then, the auth check falls back to D1 once).
 */
export async function issueAccessToken<E extends AppEnv>(
  c: Context<E>,
  session: { userId: string; sessionId: string; expiresAt: Date; assurance: SessionAssurance },
  user: { role: Role; username: string },
  now: Date,
): Promise<string> {
  const config = getConfig(c.env);
  const token = await signAccessToken(
    c.env,
    config,
    { userId: session.userId, sessionId: session.sessionId, ...session.assurance },
    now,
  );
  c.executionCtx.waitUntil(
    writeSessionCopy(
      c.get('sessionsKv'),
      session.sessionId,
      {
        userId: session.userId,
        role: effectiveRole(user.role, user.username, config),
        expiresAt: session.expiresAt.getTime(),
      },
      now,
    ),
  );
  return token;
}
