import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { createDb } from '../db/client';
import type { AppEnv } from '../env';
import { logInfo } from '../lib/log';
import { countD1, countKv, newMetrics } from '../lib/metrics';

/**
 * Gives each request its counted storage handles (`db`, `sessionsKv`) and, once the response is
 * ready, writes the one structured log line: method, route pattern (never the raw path, which can
 * hold identifiers), status, duration and storage round trips.
 */
export const requestContext = createMiddleware<AppEnv>(async function requestContext(c, next) {
  const started = Date.now();
  const metrics = newMetrics();
  c.set('metrics', metrics);
  c.set('db', createDb(countD1(c.env.DB, metrics)));
  c.set('sessionsKv', countKv(c.env.SESSIONS, metrics));
  await next();
  // After next(), routeIndex points at the handler that produced the response.
  const handler = matchedRoutes(c)[c.req.routeIndex];
  logInfo('request', {
    requestId: c.var.requestId,
    method: c.req.method,
    route: handler && handler.method !== 'ALL' ? handler.path : 'unmatched',
    status: c.res.status,
    durationMs: Date.now() - started,
    d1: metrics.d1,
    kv: metrics.kv,
  });
});
