import type { Database } from './db/client';
import type { RequestMetrics } from './lib/metrics';

/**
 * The Worker's `Env` is generated from wrangler.toml by `npm run cf-typegen` (`wrangler types`) into
 * src/worker-configuration.d.ts (bindings and vars; `npm run lint` checks it is current). Secrets are
 * not in wrangler.toml and `wrangler types` would only find them in a developer's own `.dev.vars`, so
 * they are declared here, once: keep this list in step with .dev.vars.example. Optional, because
 * development falls back to development-only defaults (refused when ENVIRONMENT=production).
 */
interface Secrets {
  JWT_PRIVATE_KEY?: string;
  JWT_PREVIOUS_PUBLIC_KEYS?: string;
  EMAIL_API_URL?: string;
  EMAIL_API_KEY?: string;
  STRIPE_SECRET_KEY?: string;
  STRIPE_WEBHOOK_SECRET?: string;
  MFA_ENCRYPTION_KEY?: string;
  // Plus one AUTH_PROVIDER_<ID>_CLIENT_SECRET per social sign-in provider (read by name).
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- adds the secrets to the generated Env
  interface Env extends Secrets {}
  // eslint-disable-next-line @typescript-eslint/no-namespace -- augmenting the runtime's global namespace
  namespace Cloudflare {
    // `import { env } from 'cloudflare:workers'` (used by tests) sees the secrets too.
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Env extends Secrets {}
  }
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
    /** The session whose liveness every write of this request needs (signed-in writes; db/write-guard.ts). */
    writeGuard?: string;
    /** The JSON text of an anonymous public read, kept for the edge cache (http/conditional-json.ts). */
    publicReadBody?: string;
    /** Set by a write that changed nothing anonymous readers see (a draft's edit): no cache purge. */
    publicReadsUnchanged?: boolean;
  };
};
