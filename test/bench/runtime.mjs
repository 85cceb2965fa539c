// The local runtime the bench scripts (bench.mjs, cpu-profile.mjs) serve the Worker on: Miniflare as
// wrangler ships it (the same workerd `wrangler dev` runs; the vitest plugin hoists an older copy to
// node_modules/miniflare), the Worker's settings from wrangler.toml with the bindings `npm run dev`
// sets, the bench-only floor Workers, and the migrations. Import it dynamically after the scripts'
// Node version check: wrangler needs Node >= 22.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const FLOOR_DIR = import.meta.dirname;
const require = createRequire(import.meta.url);
const wranglerRequire = createRequire(require.resolve('wrangler/package.json'));
export const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = await import(
  wranglerRequire.resolve('miniflare')
);
const { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } = await import('wrangler');
/** The version of the Miniflare the bench runs (wrangler's copy). */
export const MINIFLARE_VERSION = wranglerRequire('miniflare/package.json').version;

/**
 * Options every Worker of a bench run shares: wrangler.toml's, rooted at `buildDir`, as `npm run dev`
 * runs (development, the per-IP brake off, payments through the test gateway), plus `bindings`.
 */
export function commonWorkerOptions(buildDir, bindings = {}) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(ROOT, 'wrangler.toml'));
  return {
    ...workerOptions,
    rootPath: buildDir,
    modulesRoot: buildDir,
    modulesRules: undefined,
    cronTriggers: undefined,
    bindings: {
      ...workerOptions.bindings,
      ENVIRONMENT: 'development',
      IP_RATE_LIMIT: 'off',
      GATEWAY: 'test',
      // The seed gives three authors 300 articles each and the write scenario creates 1,000 quickly.
      ARTICLE_CREATE_LIMIT_PER_HOUR: '1000000',
      ...bindings,
    },
  };
}

/**
 * The Worker of `buildDir/index.js` as `name`, served WITHOUT its static assets: locally a Worker with
 * assets gets Miniflare's asset router (JavaScript Workers) in front of every request, about 350 µs
 * of CPU per request here (BENCHMARKS.md); in production the platform routes assets before the
 * Worker runs, and the floors never had a router.
 */
export function folioWorker(common, buildDir, name = 'folio') {
  return { ...common, assets: undefined, name, modules: [{ type: 'ESModule', path: path.join(buildDir, 'index.js') }] };
}

/** A bench-only floor Worker (test/bench/<file>), reached through the same entry by `route`. */
export function floorWorker(common, name, file, route) {
  return {
    ...common,
    name,
    routes: [route],
    modules: [{ type: 'ESModule', path: path.join(FLOOR_DIR, file) }],
    rootPath: FLOOR_DIR,
    modulesRoot: FLOOR_DIR,
  };
}

/** Applies migrations/*.sql in order to an empty D1; returns how many files it applied. */
export async function applyMigrations(db) {
  const dir = path.join(ROOT, 'migrations');
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  for (const file of files) {
    const statements = unstable_splitSqlQuery(fs.readFileSync(path.join(dir, file), 'utf8'))
      .map((s) => s.trim())
      .filter(Boolean);
    await db.batch(statements.map((s) => db.prepare(s)));
  }
  return files.length;
}
