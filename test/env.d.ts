import type { D1Migration } from 'cloudflare:test';

declare global {
  namespace Cloudflare {
    interface Env {
      /** Test-only binding: the repo's migrations, read by test/vitest.config.ts. */
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
