import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { BOOKMARK_HEADER, readBookmark } from '../db/bookmark';
import { createDb, type Database } from '../db/client';
import { guardableD1, type GuardableD1 } from '../db/write-guard';
import type { AppEnv } from '../env';
import { logInfo } from '../lib/log';
import { countD1, countKv, newMetrics } from '../lib/metrics';

const REQUEST_ID_HEADER = 'X-Request-Id';
const REQUEST_ID = /^[\w\-=]{1,64}$/;

/**
 * Gives each request its id (the caller's `X-Request-Id` when it is a short token, else a new UUID,
 * echoed in the response) and its counted storage handles and, once the response is ready, writes
 * the one structured log line: method, route pattern (never the raw path, which can hold
 * identifiers), status, duration and storage round trips.
 *
 * `db` is a D1 session that may read from a nearby replica, continuing from the client's bookmark
 * (`x-d1-bookmark`); the response carries the session's new bookmark. Routes that must see the
 * latest committed state use `readPrimary` instead.
 */
export const requestContext = createMiddleware<AppEnv>(async function requestContext(c, next) {
  const started = Date.now();
  const incomingId = c.req.header(REQUEST_ID_HEADER);
  const requestId = incomingId && REQUEST_ID.test(incomingId) ? incomingId : crypto.randomUUID();
  c.set('requestId', requestId);
  const metrics = newMetrics();
  const session = c.env.DB.withSession(readBookmark(c.req.header(BOOKMARK_HEADER)) ?? 'first-unconstrained');
  c.set('metrics', metrics);
  c.set('d1Session', session);
  c.set('db', createDb(guardableD1(countD1(session, metrics))));
  c.set('sessionsKv', countKv(c.env.SESSIONS, metrics));
  await next();
  const bookmark = c.get('d1Session').getBookmark();
  // A WebSocket upgrade passes the Durable Object's own response through untouched.
  if (c.res.status !== 101) {
    c.res.headers.set(REQUEST_ID_HEADER, requestId);
    if (bookmark) c.res.headers.set(BOOKMARK_HEADER, bookmark);
  }
  // After next(), routeIndex points at the handler that produced the response.
  const handler = matchedRoutes(c)[c.req.routeIndex];
  logInfo('request', {
    requestId,
    method: c.req.method,
    route: handler && handler.method !== 'ALL' ? handler.path : 'unmatched',
    status: c.res.status,
    durationMs: Date.now() - started,
    d1: metrics.d1,
    d1Primary: metrics.d1Primary,
    kv: metrics.kv,
  });
});

/** A drizzle client over a D1 session that starts on the primary, counted (and guarded) like `db`. */
export function primaryDb<E extends AppEnv>(c: Context<E>): { session: D1DatabaseSession; db: Database } {
  const session = c.env.DB.withSession('first-primary');
  const d1 = guardableD1(countD1(session, c.get('metrics'), true));
  const sessionId = c.get('writeGuard');
  if (sessionId) d1.guardBy(sessionId);
  return { session, db: createDb(d1) };
}

/**
 * Once a request is signed in: from now on every write it sends to D1 commits only while `sessionId`
 * is live there (db/write-guard.ts), whatever the session's edge copy in KV still says.
 */
export function guardWritesBySession<E extends AppEnv>(c: Context<E>, sessionId: string): void {
  c.set('writeGuard', sessionId);
  (c.get('db').$client as GuardableD1).guardBy(sessionId);
}

/**
 * For security and money paths (sign-in, refresh rotation and reuse detection, lockout and limit
 * counters, email tokens, webhooks): every read of the route goes to the primary database, never to a
 * replica that may not have seen the latest write yet.
 */
export const readPrimary = createMiddleware<AppEnv>(async function readPrimary(c, next) {
  const { session, db } = primaryDb(c);
  c.set('d1Session', session);
  c.set('db', db);
  await next();
});
