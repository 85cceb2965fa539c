#!/usr/bin/env node
// Copies the API reference renderer (Swagger UI, from the swagger-ui-dist devDependency) into
// public/docs/vendor/, which wrangler serves as Workers static assets (wrangler.toml [assets]).
// The renderer (~1.7 MB) never enters the Worker script; public/ is generated, not committed.
// Run by `npm run dev`, `npm run deploy`, the bench/smoke build and the test config.
/* global process, console */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'public/docs/vendor');
const FILES = ['swagger-ui-bundle.js', 'swagger-ui-bundle.js.LICENSE.txt', 'swagger-ui.css', 'LICENSE', 'NOTICE'];

/** Copies the renderer's files when missing or different; returns the output folder. */
export function buildDocsAssets() {
  const source = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  fs.mkdirSync(OUT, { recursive: true });
  for (const file of FILES) {
    const from = path.join(source, file);
    const to = path.join(OUT, file);
    const same =
      fs.existsSync(to) &&
      fs.statSync(to).size === fs.statSync(from).size &&
      fs.readFileSync(to).equals(fs.readFileSync(from));
    if (!same) fs.copyFileSync(from, to);
  }
  return OUT;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`docs assets: ${path.relative(ROOT, buildDocsAssets())}`);
}
