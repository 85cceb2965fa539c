import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

const root = path.resolve(import.meta.dirname, '..');

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(root, 'migrations'));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: path.join(root, 'wrangler.toml') },
        miniflare: {
          // Tests run as a developer's machine would: dev signing key, logged email, dev-only routes.
          bindings: { ENVIRONMENT: 'development', TEST_MIGRATIONS: migrations },
        },
      }),
    ],
    test: {
      root,
      include: ['test/**/*.test.ts'],
      setupFiles: [path.join(root, 'test/setup/apply-migrations.ts')],
    },
  };
});
