import type { Database } from './db/client';
import type { RequestMetrics } from './lib/metrics';

/** Bindings, vars and secrets of the Worker (wrangler.toml and `wrangler secret put`). */
export interface Env {
  DB: D1Database;
  SESSIONS: KVNamespace;
  AUTH_IP_LIMITER: RateLimit;
  ENVIRONMENT: string;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  ACCESS_TOKEN_TTL_SECONDS: string;
  REFRESH_TOKEN_TTL_SECONDS: string;
  CORS_ORIGINS: string;
  MAX_BODY_BYTES: string;
  APP_URL: string;
  EMAIL_FROM: string;
  IP_RATE_LIMIT: string;
  PUBLIC_CACHE_SECONDS: string;
  // Secrets (optional in development).
  JWT_PRIVATE_KEY?: string;
  JWT_PREVIOUS_PUBLIC_KEYS?: string;
  EMAIL_API_URL?: string;
  EMAIL_API_KEY?: string;
}

/** Hono context typing shared by every router. Request-scoped auth data is typed by the auth middleware. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    db: Database;
    /** The D1 session behind `db`, whose bookmark the response returns. */
    d1Session: D1DatabaseSession;
    /** The sessions KV namespace, wrapped so each operation is counted. */
    sessionsKv: KVNamespace;
    metrics: RequestMetrics;
  };
};

type FolioEnv = Env;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- augmenting the runtime's global namespace
  namespace Cloudflare {
    // Lets `import { env } from 'cloudflare:workers'` (used by tests) see our bindings.
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Env extends FolioEnv {}
  }
}
