import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';

/**
 * Security headers on every response: HSTS for a year with subdomains, no framing (both
 * `X-Frame-Options` and CSP `frame-ancestors`), and a CSP that lets an API response load nothing.
 * `overwrite: false` lets a page that needs its own policy (`/docs`) set it in its handler.
 */
export const securityHeaders = secureHeaders({
  strictTransportSecurity: 'max-age=31536000; includeSubDomains',
  xFrameOptions: 'DENY',
  crossOriginResourcePolicy: 'cross-origin',
  contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  overwrite: false,
});

/**
 * Every response states how it may be cached: a handler that said nothing answers `no-store` (some
 * caching layers would otherwise cache it heuristically). Reads that may be cached say so themselves
 * (`http/conditional-json.ts`, the edge cache, JWKS); anything carrying tokens or account data keeps
 * `no-store`.
 */
export const cacheControlDefault = createMiddleware(async function cacheControlDefault(c, next) {
  await next();
  if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
});
