import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { buildDocsAssets } from '../scripts/docs-assets.mjs';

const root = path.resolve(import.meta.dirname, '..');

export default defineConfig(async () => {
  // wrangler.toml's [assets] directory must exist (the docs renderer, copied from node_modules).
  buildDocsAssets();
  const migrations = await readD1Migrations(path.join(root, 'migrations'));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: path.join(root, 'wrangler.toml') },
        miniflare: {
          // Tests run as a developer's machine would: dev signing key, logged email, dev-only routes.
          bindings: { ENVIRONMENT: 'development', GATEWAY: 'test', TEST_MIGRATIONS: migrations },
        },
      }),
    ],
    test: {
      root,
      include: ['test/**/*.test.ts'],
      // Password hashing (PBKDF2, 100,000 iterations) dominates setup; a loaded 2-core machine needs headroom.
      testTimeout: 30_000,
      hookTimeout: 30_000,
      setupFiles: [path.join(root, 'test/setup/apply-migrations.ts')],
      // A real OpenID provider (oidc-provider) on 127.0.0.1 for the social sign-in tests.
      globalSetup: [path.join(root, 'test/oidc/global-setup.ts')],
    },
  };
});
