import type { Context } from 'hono';
import { getConfig } from '../config';
import type { AppEnv } from '../env';
import { signAccessToken } from './jwt';
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
 * Signs the access token for a freshly written session and publishes its KV copy after the response
 * (until then, the auth check falls back to D1 once).
 */
export async function issueAccessToken<E extends AppEnv>(
  c: Context<E>,
  session: { userId: string; sessionId: string; expiresAt: Date },
  now: Date,
): Promise<string> {
  const token = await signAccessToken(
    c.env,
    getConfig(c.env),
    { userId: session.userId, sessionId: session.sessionId },
    now,
  );
  c.executionCtx.waitUntil(
    writeSessionCopy(
      c.var.sessionsKv,
      session.sessionId,
      { userId: session.userId, expiresAt: session.expiresAt.getTime() },
      now,
    ),
  );
  return token;
}
