import { createMiddleware } from 'hono/factory';
import { getConfig, type AppConfig } from '../config';
import type { AppEnv } from '../env';

/**
 * Every response header Folio adds globally, in one middleware and one pass over the final response:
 * CORS, security headers and the default `Cache-Control`. (It replaces hono's `cors`,
 * `secureHeaders` and a separate cache-control middleware: `cors` touched the response before the
 * handler ran, which made hono build and then copy a second response on every request; the
 * per-request cost of the three was measured in BENCHMARKS.md.)
 */

const LOCALHOST = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/** CORS_ORIGINS; in development with none set, any localhost origin (a front end on its dev server). */
function isAllowedOrigin(origin: string, config: AppConfig): boolean {
  if (config.corsOrigins.includes('*') && !config.isProduction) return true;
  if (config.corsOrigins.includes(origin)) return true;
  return config.corsOrigins.length === 0 && !config.isProduction && LOCALHOST.test(origin);
}

const EXPOSED_HEADERS = 'x-request-id,retry-after,etag,x-d1-bookmark,idempotent-replayed';

/** What a preflight answers (before routing, so before any auth check). */
const PREFLIGHT_HEADERS: [string, string][] = [
  ['Access-Control-Expose-Headers', EXPOSED_HEADERS],
  ['Access-Control-Allow-Methods', 'GET,POST,PUT,DELETE,OPTIONS'],
  [
    'Access-Control-Allow-Headers',
    'authorization,content-type,if-none-match,x-request-id,idempotency-key,x-d1-bookmark',
  ],
  ['Access-Control-Max-Age', '600'],
  ['Vary', 'Origin, Access-Control-Request-Headers'],
];

/**
 * Security headers on every response: HSTS for a year with subdomains, no framing (both
 * `X-Frame-Options` and CSP `frame-ancestors`), a CSP that lets an API response load nothing, and
 * the other defaults of OWASP's secure-headers list. The CSP is the one a handler may set itself
 * (`/docs`, media files): theirs wins. The others are never set by handlers, so they are set without
 * a lookup first (each header operation is a call into the runtime).
 */
const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'";
const SECURITY_HEADERS: [string, string][] = [
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'cross-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Frame-Options', 'DENY'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['X-XSS-Protection', '0'],
];

/**
 * Runs before routing. Preflights are answered here. Every other response, errors included, gets
 * CORS headers (the origin only when allowed), the security headers, and `Cache-Control: no-store`
 * when the handler said nothing (some caching layers would otherwise cache it heuristically; reads
 * that may be cached say so themselves: `http/conditional-json.ts`, the edge cache, JWKS).
 */
export const responseHeaders = createMiddleware<AppEnv>(async function responseHeaders(c, next) {
  // Also where an invalid configuration is refused on every request (getConfig parses it once per isolate).
  const config = getConfig(c.env);
  const origin = c.req.header('Origin');
  const allowedOrigin = origin !== undefined && isAllowedOrigin(origin, config) ? origin : undefined;
  if (c.req.method === 'OPTIONS') {
    const headers = new Headers(PREFLIGHT_HEADERS);
    if (allowedOrigin) headers.set('Access-Control-Allow-Origin', allowedOrigin);
    return new Response(null, { status: 204, headers });
  }
  await next();
  // A WebSocket upgrade passes the Durable Object's own response through untouched.
  if (c.res.status === 101) return;
  const headers = c.res.headers;
  if (allowedOrigin) headers.set('Access-Control-Allow-Origin', allowedOrigin);
  headers.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  headers.append('Vary', 'Origin');
  for (const [name, value] of SECURITY_HEADERS) headers.set(name, value);
  if (!headers.has('Content-Security-Policy')) headers.set('Content-Security-Policy', DEFAULT_CSP);
  if (!headers.has('Cache-Control')) headers.set('Cache-Control', 'no-store');
});
