#!/usr/bin/env node
// `npm run bench:bundle`: size of the deploy bundle exactly as `wrangler deploy` builds it (raw and
// gzip), each package's share of it (esbuild metafile, bytes in the output), and the Worker's local
// startup profile from `wrangler check startup`. See BENCHMARKS.md ("Bundle and startup").
/* global process, console */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { buildDocsAssets } from '../../scripts/docs-assets.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const WRANGLER = path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
const env = { ...process.env, CI: '1' };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-bundle-'));
try {
  buildDocsAssets(); // wrangler.toml's [assets] directory must exist for the build
  const outdir = path.join(tmp, 'out');
  const metafile = path.join(tmp, 'meta.json');
  const build = spawnSync(
    process.execPath,
    [WRANGLER, 'deploy', '--dry-run', '--outdir', outdir, '--metafile', metafile],
    {
      cwd: ROOT,
      env,
      encoding: 'utf8',
    },
  );
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}\n${build.stderr}`);
  const code = fs.readFileSync(path.join(outdir, 'index.js'));
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`bundle: ${kib(code.length)}, gzip ${kib(zlib.gzipSync(code).length)}`);

  const meta = JSON.parse(fs.readFileSync(metafile, 'utf8'));
  const [, output] = Object.entries(meta.outputs).find(([file]) => file.endsWith('index.js'));
  const byPackage = new Map();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const pkg = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1];
    const key = pkg ? (pkg === 'zod' && input.includes('/locales/') ? 'zod (locales)' : pkg) : 'src (Folio)';
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  const total = [...byPackage.values()].reduce((a, b) => a + b, 0);
  console.log('\n| Package | bytes in bundle | share |\n|---|---:|---:|');
  for (const [pkg, bytes] of [...byPackage].sort((a, b) => b[1] - a[1]))
    console.log(`| ${pkg} | ${kib(bytes)} | ${((bytes / total) * 100).toFixed(1)} % |`);

  const startup = spawnSync(
    process.execPath,
    [WRANGLER, 'check', 'startup', '--outfile', path.join(tmp, 'startup.cpuprofile')],
    { cwd: ROOT, env, encoding: 'utf8' },
  );
  const lines = `${startup.stdout}\n${startup.stderr}`
    .split('\n')
    .filter((l) => /Profile window|Active|Idle|Samples/.test(l))
    .map((l) => l.replace(/^[│\s]+/, ''));
  console.log(`\nwrangler check startup (local startup profile):\n  ${lines.join('\n  ')}`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
