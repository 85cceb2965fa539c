// Imported first by the bench scripts: wrangler needs Node >= 22, and machines have Node 20 on PATH.
// When started with an older `node`, the script is run again on the project's pinned Node
// (node_modules/.bin/node, a devDependency) and this process exits with its status.
/* global process */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const PINNED_NODE = path.resolve(import.meta.dirname, '../../node_modules/.bin/node');
if (Number(process.versions.node.split('.')[0]) < 22 && fs.existsSync(PINNED_NODE)) {
  const rerun = spawnSync(PINNED_NODE, process.argv.slice(1), { stdio: 'inherit' });
  process.exit(rerun.status ?? 1);
}
