// Builds the deployable Worker (`wrangler deploy --dry-run`) and serves it, with its static assets, on
// fresh local D1/KV state through Miniflare (the copy wrangler ships): the bundle users get, no proxy.
/* global process */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { buildDocsAssets } from '../../scripts/docs-assets.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const wranglerRequire = createRequire(require.resolve('wrangler/package.json'));

/** Starts the built Worker on 127.0.0.1 (a free port). `close()` stops it and removes its files. */
export async function startBuiltWorker() {
  const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = await import(wranglerRequire.resolve('miniflare'));
  const { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } = await import('wrangler');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-built-'));
  const buildDir = path.join(tmp, 'build');
  buildDocsAssets();
  const build = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', buildDir],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1' } },
  );
  if (build.status !== 0) throw new Error(`wrangler build failed:\n${build.stdout}\n${build.stderr}`);

  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(ROOT, 'wrangler.toml'));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: 0,
      cf: false,
      log: new Log(LogLevel.WARN),
      resourcePersistencePath: path.join(tmp, 'state'),
      handleStructuredLogs: () => {},
      workers: [
        {
          ...workerOptions,
          name: 'folio',
          rootPath: buildDir,
          modulesRoot: buildDir,
          modulesRules: undefined,
          cronTriggers: undefined,
          // As `npm run dev` runs it.
          bindings: { ...workerOptions.bindings, ENVIRONMENT: 'development', IP_RATE_LIMIT: 'off', GATEWAY: 'test' },
          modules: [{ type: 'ESModule', path: path.join(buildDir, 'index.js') }],
        },
      ],
    }),
  );
  try {
    const url = await mf.ready;
    const db = await mf.getD1Database('DB');
    const dir = path.join(ROOT, 'migrations');
    for (const file of fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort()) {
      const statements = unstable_splitSqlQuery(fs.readFileSync(path.join(dir, file), 'utf8'))
        .map((s) => s.trim())
        .filter(Boolean);
      await db.batch(statements.map((s) => db.prepare(s)));
    }
    return {
      url: url.href.replace(/\/$/, ''),
      async close() {
        await mf.dispose();
        fs.rmSync(tmp, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await mf.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
