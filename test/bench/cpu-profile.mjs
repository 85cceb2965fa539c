#!/usr/bin/env node
// `npm run bench:profile`: where a light request spends CPU inside the Worker's isolate. Builds the
// Worker unminified (names kept), serves it with Miniflare (the copy wrangler ships) beside the hello
// floor, and for each scenario records a V8 CPU profile of the isolate through the DevTools
// inspector while a fixed number of requests runs. Prints, per scenario, µs of isolate CPU per
// request and the share of it by piece (the first recognised frame on each sampled stack) and by
// self time. See BENCHMARKS.md, "Where a request spends its CPU".
//
//   node test/bench/cpu-profile.mjs [--requests N] [--concurrency C] [--bundle dir] [--only REGEX] [--top N]
//
// Not part of `npm test`.
/* global process, console, fetch, WebSocket, URL */
import './pinned-node.mjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '../..');
const {
  Miniflare,
  Log,
  LogLevel,
  convertV4MiniflareOptions,
  commonWorkerOptions,
  folioWorker,
  floorWorker,
  applyMigrations,
} = await import('./runtime.mjs');

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '8' },
    bundle: { type: 'string' },
    only: { type: 'string' },
    top: { type: 'string', default: '12' },
    json: { type: 'string' },
  },
});
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const ONLY = args.only ? new RegExp(args.only, 'i') : null;
const log = (...m) => console.error(`[profile ${new Date().toISOString().slice(11, 19)}]`, ...m);

function build() {
  if (args.bundle) return path.resolve(args.bundle);
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-profile-build-'));
  log('building unminified with wrangler deploy --dry-run --no-minify');
  const res = spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js'),
      'deploy',
      '--dry-run',
      '--no-minify',
      '--outdir',
      outdir,
    ],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1' } },
  );
  if (res.status !== 0) throw new Error(`wrangler build failed:\n${res.stdout}\n${res.stderr}`);
  return outdir;
}

async function start(buildDir, stateDir) {
  const common = commonWorkerOptions(buildDir);
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: 0,
      inspectorPort: 0,
      cf: false,
      log: new Log(LogLevel.WARN),
      resourcePersistencePath: stateDir,
      handleStructuredLogs: () => {},
      workers: [
        // Without Miniflare's local asset router in front, as `npm run bench` measures the API.
        folioWorker(common, buildDir),
        floorWorker(common, 'floor-hello', 'floor-hello.mjs', '*/floor/hello*'),
      ],
    }),
  );
  const url = await mf.ready;
  return { mf, url };
}

/** A DevTools session on one worker's isolate. */
async function inspect(mf, worker) {
  const base = await mf.getInspectorURL();
  const targets = await (await fetch(new URL('/json/list', base.href.replace('ws:', 'http:')))).json();
  const target = targets.find((t) => t.title?.includes(worker) || t.id?.includes(worker)) ?? null;
  if (!target) throw new Error(`no inspector target for ${worker}: ${targets.map((t) => t.title).join(', ')}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 1;
  const pending = new Map();
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(JSON.stringify(message.error)));
      else resolve(message.result);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

async function run(count, concurrency, task) {
  let started = 0;
  const lane = async () => {
    while (started < count) {
      const i = started++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

/**
 * The pieces a sample is attributed to: the outermost frame on the stack (from the root) whose
 * function name matches, so time is billed to the middleware or stage that called the work.
 * Order matters only for names that nest (the first listed wins when two match on one stack).
 */
const PIECES = [
  ['request log line', /^(logInfo|logWarn|logError)$/],
  ['responseHeaders (CORS, security, cache-control)', /^responseHeaders2?$/],
  ['bodyLimit', /^bodyLimit(Except)?2?$/],
  ['edge cache', /^(servePublicRead|cachedPublicRead|readCached|storeCached|purgesPublicReads|publicReadCache.*)$/],
  ['auth (optionalAuth/requireAuth)', /^(optionalAuth|requireAuth|authenticate.*)$/],
  ['jwt verify (jose)', /^(jwtVerify|compactVerify|flattenedVerify|verifyAccessToken)$/],
  ['zod-openapi validator', /^(zValidator|validator|validationHook)$/],
  ['etag / conditional json', /^(conditionalJson|weakEtag)$/],
  ['drizzle build + D1 call', /^(execute|all|run|get|values|batch|_prepare|prepareQuery|buildSelectQuery)$/],
  ['config', /^getConfig$/],
  ['requestContext (setup)', /^requestContext$/],
  ['hono dispatch', /^(dispatch|compose|#dispatch|fetch2?|match)$/],
];

/** A sampled frame's name; native frames without a name are named after their nearest named caller. */
function frameName(stack) {
  const top = stack[stack.length - 1].callFrame;
  const at = (f) => (f.url ? ` ${path.basename(f.url)}:${f.lineNumber + 1}` : '');
  if (top.functionName) return `${top.functionName}${at(top)}`;
  for (let i = stack.length - 2; i >= 0; i--) {
    const f = stack[i].callFrame;
    if (f.functionName) return `(native, called by ${f.functionName}${at(f)})`;
  }
  return '(native, no caller)';
}

function analyse(profile, requests) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = (id) => {
    const stack = [];
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) stack.push(nodes.get(cur));
    return stack.reverse();
  };
  const selfUs = new Map();
  const inclusiveUs = new Map();
  const pieceUs = new Map();
  let busyUs = 0;
  let idleUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const node = nodes.get(id);
    const fn = node.callFrame.functionName;
    if (fn === '(idle)') {
      idleUs += dt;
      return;
    }
    busyUs += dt;
    const stack = stackOf(id);
    selfUs.set(frameName(stack), (selfUs.get(frameName(stack)) ?? 0) + dt);
    // Inclusive time: every distinct named frame on the stack (async functions resume at the root,
    // so a function's inclusive time covers its synchronous stretches).
    for (const name of new Set(stack.map((f) => f.callFrame.functionName).filter(Boolean))) {
      inclusiveUs.set(name, (inclusiveUs.get(name) ?? 0) + dt);
    }
    let piece =
      fn === '(garbage collector)' ? 'garbage collector' : fn === '(program)' ? '(program: runtime outside JS)' : null;
    if (!piece) {
      outer: for (const frame of stack) {
        for (const [name, re] of PIECES) {
          if (re.test(frame.callFrame.functionName)) {
            piece = name;
            break outer;
          }
        }
      }
    }
    piece ??= 'other JS';
    pieceUs.set(piece, (pieceUs.get(piece) ?? 0) + dt);
  });
  const perRequest = (us) => Number((us / requests).toFixed(1));
  const sorted = (m) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, usPerRequest: perRequest(us) }));
  return {
    isolateBusyUsPerRequest: perRequest(busyUs),
    isolateIdleUsPerRequest: perRequest(idleUs),
    pieces: sorted(pieceUs),
    self: sorted(selfUs).slice(0, Number(args.top)),
    inclusive: sorted(inclusiveUs).slice(0, Number(args.top) * 3),
  };
}

async function main() {
  const buildDir = build();
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-profile-state-'));
  const { mf, url } = await start(buildDir, state);
  const results = [];
  try {
    await applyMigrations(await mf.getD1Database('DB', 'folio'));
    const call = async (method, p, { token, body, headers = {} } = {}) => {
      const res = await fetch(new URL(p, url), {
        method,
        headers: {
          'Content-Type': 'application/json',
          ...(token ? { Authorization: `Token ${token}` } : {}),
          ...headers,
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (res.status >= 400) throw new Error(`${method} ${p} → ${res.status} ${text.slice(0, 200)}`);
      return text ? JSON.parse(text) : null;
    };
    const user = (
      await call('POST', '/api/users', {
        body: { user: { username: 'profiler', email: 'profiler@example.com', password: 'profile-password-123' } },
      })
    ).user;
    const slugs = [];
    for (let i = 0; i < 20; i++) {
      const a = await call('POST', '/api/articles', {
        token: user.token,
        body: { article: { title: `Profiled ${i}`, description: 'd', body: 'body '.repeat(200), tagList: ['edge'] } },
      });
      slugs.push(a.article.slug);
    }
    const scenarios = [
      { name: 'hello floor', path: () => '/floor/hello', worker: 'floor-hello' },
      { name: 'GET /api/health', path: () => '/api/health' },
      { name: 'GET /api/tags (anon, cached)', path: () => '/api/tags' },
      // A query parameter the API ignores makes every request a cache miss: uncached anonymous reads.
      { name: 'GET /api/articles/:slug (anon, uncached)', path: (i) => `/api/articles/${slugs[i % 20]}?nocache=${i}` },
      { name: 'GET /api/articles/:slug (signed in)', path: (i) => `/api/articles/${slugs[i % 20]}`, token: user.token },
      { name: 'GET /api/articles (anon, uncached)', path: (i) => `/api/articles?limit=20&nocache=${i}` },
      {
        name: 'GET /api/articles (signed in)',
        path: (i) => `/api/articles?limit=20&offset=${i % 2}`,
        token: user.token,
      },
    ].filter((s) => !ONLY || ONLY.test(s.name));

    for (const s of scenarios) {
      const worker = s.worker ?? 'folio';
      const inspector = await inspect(mf, worker);
      const once = (i) =>
        fetch(new URL(s.path(i), url), { headers: s.token ? { Authorization: `Token ${s.token}` } : {} }).then(
          async (res) => {
            await res.arrayBuffer();
            if (res.status >= 400) throw new Error(`${s.name} → ${res.status}`);
          },
        );
      await run(200, CONCURRENCY, once); // warm-up
      await inspector.send('Profiler.enable');
      await inspector.send('Profiler.setSamplingInterval', { interval: 50 });
      await inspector.send('Profiler.start');
      await run(REQUESTS, CONCURRENCY, (i) => once(i + 1000));
      const { profile } = await inspector.send('Profiler.stop');
      inspector.close();
      const result = { name: s.name, requests: REQUESTS, ...analyse(profile, REQUESTS) };
      results.push(result);
      console.log(`\n## ${s.name}: isolate CPU ${result.isolateBusyUsPerRequest} µs/request`);
      for (const p of result.pieces) console.log(`  ${String(p.usPerRequest).padStart(7)}  ${p.name}`);
      console.log('  top self time:');
      for (const p of result.self) console.log(`  ${String(p.usPerRequest).padStart(7)}  ${p.name}`);
      console.log('  inclusive:');
      for (const p of result.inclusive) console.log(`  ${String(p.usPerRequest).padStart(7)}  ${p.name}`);
    }
  } finally {
    await mf.dispose();
    fs.rmSync(state, { recursive: true, force: true });
  }
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(results, null, 2));
}

await main();
