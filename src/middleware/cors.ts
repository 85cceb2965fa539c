import { cors } from 'hono/cors';
import type { AppConfig } from '../config';
import { fromConfig } from './from-config';

const LOCALHOST = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

function isAllowedOrigin(origin: string, config: AppConfig): boolean {
  if (config.corsOrigins.includes('*') && !config.isProduction) return true;
  if (config.corsOrigins.includes(origin)) return true;
  return config.corsOrigins.length === 0 && !config.isProduction && LOCALHOST.test(origin);
}

/**
 * CORS from config (CORS_ORIGINS; in development with none set, any localhost origin). Runs before
 * routing, so preflights are answered before any auth check, and its headers stay on error responses.
 */
export const corsFromConfig = fromConfig((config) =>
  cors({
    origin: (origin) => (origin && isAllowedOrigin(origin, config) ? origin : null),
    allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    allowHeaders: [
      'authorization',
      'content-type',
      'if-none-match',
      'x-request-id',
      'idempotency-key',
      'x-d1-bookmark',
    ],
    exposeHeaders: ['x-request-id', 'retry-after', 'etag', 'x-d1-bookmark', 'idempotent-replayed'],
    maxAge: 600,
  }),
);
