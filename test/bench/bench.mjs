#!/usr/bin/env node
// `npm run bench`: throughput and latency of the bundled Worker served by Miniflare's API directly,
// over loopback, on fresh local D1/KV state seeded through the HTTP API. See BENCHMARKS.md.
//
//   node test/bench/bench.mjs [--requests N] [--seconds S] [--min-seconds S] [--concurrency C] [--scale F]
//                             [--only REGEX] [--variant NAME=bundle.js ...] [--rounds N]
//                             [--wrangler-dev] [--json out.json] [--keep] [--smoke]
//
// The runtime floors (floor-hello.mjs, floor-d1.mjs) are served by the same Miniflare, through the
// same entry, on the same D1 state, and measured by the same client in the same run; each Folio read
// is printed with its ratio to its floor. `--variant` serves extra prebuilt bundles (for example with
// one piece stubbed out) on the same state, measured interleaved with the real build (`--rounds`).
//
// Not part of `npm test` (vitest only picks up test/**/*.test.ts).
/* global process, Buffer, console, URL, fetch, setTimeout, WebSocket */
import './pinned-node.mjs';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildDocsAssets } from '../../scripts/docs-assets.mjs';
import zlib from 'node:zlib';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs wrangler's CLI on this very Node (the pinned one under `npm run`), whatever `node` is on PATH. */
const WRANGLER = [process.execPath, path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js')];
const CHILD_ENV = {
  ...process.env,
  PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
  CI: '1',
};
const require = createRequire(import.meta.url);
const {
  Miniflare,
  Log,
  LogLevel,
  convertV4MiniflareOptions,
  commonWorkerOptions,
  folioWorker,
  floorWorker,
  ...runtime
} = await import('./runtime.mjs');

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '15' },
    // Reads and floors run at least this long even past --requests: 2,000 requests of a fast route
    // last a third of a second, and such short windows swung by ±15 % from one to the next.
    'min-seconds': { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '8' },
    scale: { type: 'string', default: '1' },
    // Only the scenarios (floors included) whose name matches this regular expression.
    only: { type: 'string' },
    // NAME=path/to/index.js: another build of the Worker, served beside the real one on the same state.
    variant: { type: 'string', multiple: true, default: [] },
    // Measure every target this many times; each scenario runs on every target back to back.
    rounds: { type: 'string', default: '1' },
    'wrangler-dev': { type: 'boolean', default: false },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    // CI check of the deployable bundle: tiny seed and load, and any failed request fails the run.
    smoke: { type: 'boolean', default: false },
  },
});
if (args.smoke)
  Object.assign(args, { requests: '20', seconds: '5', 'min-seconds': '0', concurrency: '4', scale: '0.02' });
const REQUESTS = Number(args.requests);
const SECONDS = Number(args.seconds);
const MIN_SECONDS = Number(args['min-seconds']);
const CONCURRENCY = Number(args.concurrency);
const SCALE = Number(args.scale);
const ONLY = args.only ? new RegExp(args.only, 'i') : null;
const ROUNDS = Number(args.rounds);
const VARIANTS = args.variant.map((v) => {
  const [name, file] = v.split('=');
  if (!/^[a-z0-9-]+$/.test(name) || !file) throw new Error(`--variant wants NAME=path/to/index.js, got ${v}`);
  return { name, file: path.resolve(file) };
});
const SEED = {
  users: Math.max(10, Math.round(100 * SCALE)),
  articles: Math.max(20, Math.round(2000 * SCALE)),
  followsPerUser: 10,
  favorites: Math.round(5000 * SCALE),
  // The feed of a reader who follows only a few prolific authors (issue 7: rows read must not grow
  // with how much the followed authors have written).
  prolificAuthors: 3,
  articlesPerProlificAuthor: Math.max(10, Math.round(300 * SCALE)),
  messagesPerConversation: Math.max(5, Math.round(10 * SCALE)),
};
/** How far down the site's list the deep-page scenarios read (by offset, and by cursor). */
const DEEP_LIST_POSITION = Math.max(20, Math.min(1000, SEED.articles - 20));
// Comments are limited to 10 per user per minute (COMMENT_LIMIT): 9 each stays under it.
SEED.comments = SEED.users * 9;
const PASSWORD = 'bench-password-123';

const log = (...m) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...m);

// ---------------------------------------------------------------------------------------------
// Deterministic pseudo-random data, so both runs seed the same shapes.

let rngState = 0x2545f491;
const rand = () => {
  rngState ^= rngState << 13;
  rngState ^= rngState >>> 17;
  rngState ^= rngState << 5;
  return (rngState >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(rand() * list.length)];
/** Skewed pick: low indexes are much more likely (popular tags, busy articles). */
const pickSkewed = (list) => list[Math.floor(list.length * rand() ** 2.5)];
const WORDS = (
  'edge worker cache latency database replica query index schema migration token session cookie ' +
  'publish article draft author reader comment favorite follow feed tag search ranking render ' +
  'stream queue batch commit rollback region durable storage object network protocol header'
).split(' ');
const sentence = (n) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
const TAGS = Array.from({ length: 40 }, (_, i) => `tag${String(i).padStart(2, '0')}`);

// ---------------------------------------------------------------------------------------------
// HTTP client: keep-alive loopback connections, one per concurrent worker.

let baseUrl;
let agent;
/** Set while measuring a variant or a floor: the Host the request is sent with (Miniflare routes on it). */
let targetHost;

function requestHeaders(payload, { token, requestId, headers: extra }) {
  const headers = { Accept: 'application/json', ...extra };
  if (targetHost) headers.Host = targetHost;
  if (payload !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(payload));
  }
  if (token) headers.Authorization = `Token ${token}`;
  if (requestId) headers['X-Request-Id'] = requestId;
  return headers;
}

/** Set while profiling: requests then go to the profiling entry through Miniflare's fetcher. */
let profiledFetcher;

async function request(method, url, options = {}) {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers = requestHeaders(payload, options);
  if (profiledFetcher) {
    const started = process.hrtime.bigint();
    const res = await profiledFetcher.fetch(new URL(url, baseUrl).href, { method, headers, body: payload });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? JSON.parse(text) : null,
      headers: { 'x-bench-d1': res.headers.get('X-Bench-D1') },
      ms: Number(process.hrtime.bigint() - started) / 1e6,
    };
  }
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(new URL(url, baseUrl), { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          json = { raw: text.slice(0, 200) };
        }
        resolve({ status: res.statusCode, body: json, headers: res.headers, ms });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

async function expectOk(promise, what) {
  const res = await promise;
  if (res.status >= 300) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  return res;
}

/** Runs `task(i)` for i in [0, count) with `concurrency` in flight. */
async function pool(count, concurrency, task) {
  let next = 0;
  const results = new Array(count);
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

// ---------------------------------------------------------------------------------------------
// Worker under test.

function build(outdir) {
  log('building with wrangler deploy --dry-run');
  buildDocsAssets();
  const res = spawnSync(WRANGLER[0], [WRANGLER[1], 'deploy', '--dry-run', '--outdir', outdir], {
    cwd: ROOT,
    encoding: 'utf8',
    env: CHILD_ENV,
  });
  if (res.status !== 0) throw new Error(`wrangler build failed:\n${res.stdout}\n${res.stderr}`);
  return path.join(outdir, 'index.js');
}

/** Worker-request log lines (the Worker's own `request` line: route, status, d1, kv), by request id. */
const serverLines = new Map();

async function startMiniflare(buildDir, stateDir) {
  // The per-sender message limit (30/min) would turn a send benchmark into a 429 benchmark.
  const common = commonWorkerOptions(buildDir, { MESSAGE_SEND_LIMIT_PER_MINUTE: '100000000' });
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: 0,
      cf: false,
      log: new Log(LogLevel.WARN),
      resourcePersistencePath: stateDir,
      handleStructuredLogs: ({ message }) => {
        if (!message.startsWith('{"level":"info","message":"request"')) {
          if (message.includes('"level":"error"')) log('worker:', message.slice(0, 300));
          return;
        }
        const line = JSON.parse(message);
        if (typeof line.requestId === 'string' && line.requestId.startsWith('bench-m'))
          serverLines.set(line.requestId, line);
      },
      workers: [
        // Folio's API is measured as the floors are served: the Worker alone (see folioWorker).
        folioWorker(common, buildDir),
        // The runtime floors: same entry, same workerd, same D1 state (routed by path).
        floorWorker(common, 'floor-hello', 'floor-hello.mjs', '*/floor/hello*'),
        floorWorker(common, 'floor-d1', 'floor-d1.mjs', '*/floor/d1/*'),
        // Other builds of the Worker (--variant), routed by Host.
        ...VARIANTS.map((v) => ({
          ...common,
          name: `variant-${v.name}`,
          routes: [`${v.name}.variant/*`],
          rootPath: path.dirname(v.file),
          modulesRoot: path.dirname(v.file),
          modules: [{ type: 'ESModule', path: v.file }],
        })),
        {
          ...common,
          name: 'folio-profiled',
          modules: [
            {
              type: 'ESModule',
              path: path.join(buildDir, 'profiler-entry.mjs'),
              contents: fs.readFileSync(path.join(import.meta.dirname, 'profiler-entry.mjs'), 'utf8'),
            },
            { type: 'ESModule', path: path.join(buildDir, 'index.js') },
          ],
        },
      ],
    }),
  );
  const url = await mf.ready;
  return { mf, url };
}

async function applyMigrations(db) {
  log(`applied ${await runtime.applyMigrations(db)} migrations`);
}

// ---------------------------------------------------------------------------------------------
// Seeding through the public API.

async function seed(afterUsers) {
  const t0 = Date.now();
  const users = await pool(SEED.users, CONCURRENCY, async (i) => {
    const username = `bench_user_${i}`;
    const email = `${username}@example.com`;
    const res = await expectOk(
      request('POST', '/api/users', { body: { user: { username, email, password: PASSWORD } } }),
      'register',
    );
    return { username, email, token: res.body.user.token };
  });
  log(`seeded ${users.length} users in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  await afterUsers();

  const t1 = Date.now();
  const articles = await pool(SEED.articles, CONCURRENCY * 2, async (i) => {
    const author = users[i % users.length];
    const tagList = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pickSkewed(TAGS)))];
    const res = await expectOk(
      request('POST', '/api/articles', {
        token: author.token,
        body: {
          article: {
            title: `${sentence(4)} ${i}`,
            description: sentence(12),
            body: Array.from({ length: 8 }, () => sentence(25)).join('\n\n'),
            tagList,
          },
        },
      }),
      'create article',
    );
    return { slug: res.body.article.slug, author: author.username, tagList };
  });
  log(`seeded ${articles.length} articles in ${((Date.now() - t1) / 1000).toFixed(1)}s`);

  const t2 = Date.now();
  const followPairs = [];
  for (let u = 0; u < users.length; u++) {
    const followees = new Set();
    while (followees.size < Math.min(SEED.followsPerUser, users.length - 1)) {
      const f = Math.floor(rand() * users.length);
      if (f !== u) followees.add(f);
    }
    for (const f of followees) followPairs.push([u, f]);
  }
  await pool(followPairs.length, CONCURRENCY * 2, (i) => {
    const [u, f] = followPairs[i];
    return expectOk(request('POST', `/api/profiles/${users[f].username}/follow`, { token: users[u].token }), 'follow');
  });

  const favoritePairs = new Set();
  while (favoritePairs.size < SEED.favorites) {
    favoritePairs.add(`${Math.floor(rand() * users.length)}:${articles.indexOf(pickSkewed(articles))}`);
  }
  const favorites = [...favoritePairs].map((p) => p.split(':').map(Number));
  await pool(favorites.length, CONCURRENCY * 2, (i) => {
    const [u, a] = favorites[i];
    return expectOk(
      request('POST', `/api/articles/${articles[a].slug}/favorite`, { token: users[u].token }),
      'favorite',
    );
  });

  await pool(SEED.comments, CONCURRENCY * 2, (i) => {
    const article = pickSkewed(articles);
    return expectOk(
      request('POST', `/api/articles/${article.slug}/comments`, {
        token: users[Math.floor(i / 9)].token,
        body: { comment: { body: sentence(20) } },
      }),
      'comment',
    );
  });
  log(
    `seeded ${followPairs.length} follows, ${favorites.length} favorites, ${SEED.comments} comments in ${((Date.now() - t2) / 1000).toFixed(1)}s`,
  );

  // A reader who follows only a few prolific authors (their articles come after everyone else's).
  const t3 = Date.now();
  const [feedReader, ...prolific] = await pool(SEED.prolificAuthors + 1, CONCURRENCY, async (i) => {
    const username = i === 0 ? 'bench_feed_reader' : `bench_prolific_${i}`;
    const email = `${username}@example.com`;
    const res = await expectOk(
      request('POST', '/api/users', { body: { user: { username, email, password: PASSWORD } } }),
      'register',
    );
    return { username, email, token: res.body.user.token };
  });
  await pool(SEED.prolificAuthors * SEED.articlesPerProlificAuthor, CONCURRENCY * 2, (i) =>
    expectOk(
      request('POST', '/api/articles', {
        token: prolific[i % prolific.length].token,
        body: {
          article: {
            title: `${sentence(4)} prolific ${i}`,
            description: sentence(12),
            body: Array.from({ length: 8 }, () => sentence(25)).join('\n\n'),
            tagList: [pickSkewed(TAGS)],
          },
        },
      }),
      'create prolific article',
    ),
  );
  for (const author of prolific) {
    await expectOk(
      request('POST', `/api/profiles/${author.username}/follow`, { token: feedReader.token }),
      'follow prolific',
    );
  }
  log(
    `seeded ${prolific.length} authors with ${SEED.articlesPerProlificAuthor} articles each, followed by one reader, in ${((Date.now() - t3) / 1000).toFixed(1)}s`,
  );
  // The cursors of the reader's pages 2 and 3, as a scrolling client receives them (fewer at a small scale).
  const feedCursors = [];
  for (let path = '/api/articles/feed'; feedCursors.length < 2;) {
    const page = await expectOk(request('GET', path, { token: feedReader.token }), 'feed cursor');
    if (page.body.nextBefore === null) break;
    feedCursors.push(page.body.nextBefore);
    path = `/api/articles/feed?before=${page.body.nextBefore}`;
  }
  // The cursor after the site list's first DEEP_LIST_POSITION articles (a reader scrolled far down).
  const deep = await expectOk(
    request('GET', `/api/articles?offset=${DEEP_LIST_POSITION - 20}`, { token: feedReader.token }),
    'list cursor',
  );
  const conversations = await seedConversations(users);
  return {
    users,
    articles,
    deepListCursor: deep.body.nextBefore,
    feedReader: { ...feedReader, cursors: feedCursors },
    conversations,
    favoritedPairs: favoritePairs,
    seedSeconds: (Date.now() - t0) / 1000,
  };
}

/** Starting conversations needs a verified email: the bench marks every seeded user verified. */
async function verifyAll(db) {
  await db.prepare('UPDATE users SET email_verified_at = ?').bind(Date.now()).run();
}

/** Each user starts 1:1s with the next 3 users, plus one group each; every conversation gets messages. */
async function seedConversations(users) {
  const t = Date.now();
  const pairs = [];
  for (let u = 0; u < users.length; u++) {
    for (let k = 1; k <= 3; k++) pairs.push([u, [(u + k) % users.length]]);
    pairs.push([u, [(u + 4) % users.length, (u + 5) % users.length, (u + 6) % users.length]]);
  }
  const conversations = await pool(pairs.length, CONCURRENCY, async (i) => {
    const [u, others] = pairs[i];
    const res = await expectOk(
      request('POST', '/api/conversations', {
        token: users[u].token,
        body: { participants: others.map((o) => users[o].username), message: sentence(12) },
      }),
      'start conversation',
    );
    return { id: res.body.conversation.id, members: [u, ...others] };
  });
  await pool(conversations.length * SEED.messagesPerConversation, CONCURRENCY * 2, (i) => {
    const c = conversations[i % conversations.length];
    const from = users[c.members[i % c.members.length]];
    return expectOk(
      request('POST', `/api/conversations/${c.id}/messages`, { token: from.token, body: { body: sentence(15) } }),
      'send message',
    );
  });
  log(
    `seeded ${conversations.length} conversations with ${SEED.messagesPerConversation + 1} messages each in ${((Date.now() - t) / 1000).toFixed(1)}s`,
  );
  return conversations;
}

// ---------------------------------------------------------------------------------------------
// Measurement.

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

/**
 * CPU time (ns) used so far by the workerd processes this bench started (Linux only; null elsewhere):
 * summed over every thread's `schedstat`. Divided by the requests of a measurement it gives the
 * server's CPU cost per request, which, unlike req/s, hardly moves when other work shares the cores.
 */
function workerdCpuNs() {
  try {
    const parents = new Map();
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const comm = stat.slice(stat.indexOf('(') + 1, close);
        parents.set(pid, { ppid: stat.slice(close + 2).split(' ')[1], comm });
      } catch {
        // exited meanwhile
      }
    }
    const ours = (pid) => {
      for (let p = pid, depth = 0; p && p !== '0' && depth < 10; p = parents.get(p)?.ppid, depth++)
        if (p === String(process.pid)) return true;
      return false;
    };
    let total = 0;
    for (const [pid, { comm }] of parents) {
      if (comm !== 'workerd' || !ours(pid)) continue;
      for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
        total += Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      }
    }
    return total;
  } catch {
    return null;
  }
}

/**
 * Sends `make(i)` requests with CONCURRENCY in flight until REQUESTS (or `requests`) are done or the
 * time cap passes, after a short warm-up. Latency is client-side, over loopback.
 */
let measureCount = 0;

async function measure(name, make, { requests = REQUESTS, warmup = 50, minSeconds = 0 } = {}) {
  // Request ids must match [\w=-]+ for the Worker to keep (and log) them.
  const key = `bench-m${++measureCount}-`;
  await pool(Math.min(warmup, requests), CONCURRENCY, (i) => make(i, `bench-warmup-${i}`));
  const latencies = [];
  let errors = 0;
  let firstError;
  let sent = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const minUntil = Date.now() + minSeconds * 1000;
  const cpuBefore = workerdCpuNs();
  const clientCpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while ((sent < requests || Date.now() < minUntil) && Date.now() < deadline) {
        const i = sent++;
        const res = await make(i + warmup, `${key}${i}`);
        latencies.push(res.ms);
        if (res.status >= 300) {
          errors++;
          firstError ??= `${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuAfter = workerdCpuNs();
  const clientCpu = process.cpuUsage(clientCpuBefore);
  latencies.sort((a, b) => a - b);
  await new Promise((r) => setTimeout(r, 300)); // let the last log lines arrive
  const lines = [...serverLines.entries()].filter(([id]) => id.startsWith(key)).map(([, l]) => l);
  const result = {
    name,
    requests: latencies.length,
    errors,
    seconds: Number(seconds.toFixed(2)),
    rps: Math.round(latencies.length / seconds),
    p50: Number(percentile(latencies, 50).toFixed(2)),
    p99: Number(percentile(latencies, 99).toFixed(2)),
    // CPU per request: the server's (every workerd thread: the Worker, Miniflare's entry, D1, KV) and the client's.
    serverCpuUs:
      cpuBefore === null || cpuAfter === null ? null : Math.round((cpuAfter - cpuBefore) / 1e3 / latencies.length),
    clientCpuUs: Math.round((clientCpu.user + clientCpu.system) / latencies.length),
    d1: median(lines.map((l) => l.d1)),
    kv: median(lines.map((l) => l.kv)),
    route: lines[0]?.route,
  };
  if (firstError) result.firstError = firstError;
  log(
    `${name.padEnd(22)} ${String(result.rps).padStart(5)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  server CPU ${result.serverCpuUs} µs/req  d1 ${result.d1}  kv ${result.kv}` +
      (errors ? `  ERRORS ${errors}: ${firstError}` : ''),
  );
  return result;
}

/** D1 work per request from the profiling entry (median over a few requests of the same shape). */
async function profile(make, samples = 15) {
  const stats = [];
  for (let i = 0; i < samples; i++) {
    const res = await make(100_000 + i, `bench-profile-${i}`);
    if (res.headers['x-bench-d1']) stats.push(JSON.parse(res.headers['x-bench-d1']));
  }
  return {
    roundTrips: median(stats.map((s) => s.roundTrips)),
    rowsRead: median(stats.map((s) => s.rowsRead)),
    rowsWritten: median(stats.map((s) => s.rowsWritten)),
  };
}

/** The development webhook secret (src/config.ts DEV_WEBHOOK_SECRET): the test gateway's default. */
const DEV_WEBHOOK_SECRET = 'whsec_folio_development_only_0123456789abcdef';
const Stripe = require('stripe');

/** The user id in an access token (its `sub`), for events that name a user. */
const userIdOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub;

/**
 * A paid article and a member who paid through the test gateway (checkout → Pay → webhooks), so the
 * paid read is measured with the membership lookup doing real work.
 */
async function seedBilling(users) {
  const [author, member] = users;
  const article = await expectOk(
    request('POST', '/api/articles', {
      token: author.token,
      body: {
        article: {
          title: 'bench paid',
          description: sentence(8),
          body: sentence(200),
          visibility: 'paid',
          price: 300,
          currency: 'USD',
        },
      },
    }),
    'paid article',
  );
  const checkout = await expectOk(
    request('POST', '/api/billing/checkout', {
      token: member.token,
      body: { tierId: 'tier_supporter', interval: 'month' },
    }),
    'checkout',
  );
  const paid = await request('POST', `/billing/test-checkout/${checkout.body.id}/pay`);
  if (paid.status !== 303) throw new Error(`pay: HTTP ${paid.status}`);
  const read = await expectOk(
    request('GET', `/api/articles/${article.body.article.slug}`, { token: member.token }),
    'read',
  );
  if (read.body.article.locked) throw new Error('the member cannot read the paid article');
  return {
    slug: article.body.article.slug,
    member,
    payerId: userIdOf(users[2].token),
    authorId: userIdOf(author.token),
  };
}

/** A signed checkout.session.completed for a new tip each time (a new ledger row and receipt). */
function tipWebhook(billing, n) {
  const event = {
    id: `evt_bench_${n}_${Date.now()}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    type: 'checkout.session.completed',
    data: {
      object: {
        id: `cs_bench_${n}`,
        object: 'checkout.session',
        mode: 'payment',
        payment_status: 'paid',
        payment_intent: `pi_bench_${n}_${Date.now()}`,
        amount_total: 500,
        currency: 'usd',
        metadata: { kind: 'tip', userId: billing.payerId, authorId: billing.authorId },
      },
    },
  };
  const payload = JSON.stringify(event);
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: DEV_WEBHOOK_SECRET });
  return { event, signature };
}

function scenarios(data) {
  const { users, articles, favoritedPairs, conversations, billing } = data;
  const viewer = (i) => users[i % users.length];
  // The seed's skewed picks put most comments on the head of the list.
  const busiest = articles.slice(0, 20);
  const searchWords = ['edge', 'latency', 'replica', 'session', 'ranking', 'durable', 'protocol', 'stream'];
  let created = 0;
  const freshFavorites = [];
  for (let u = 0; u < users.length && freshFavorites.length < 20_000; u++) {
    for (let a = articles.length - 1; a >= 0 && freshFavorites.length < 20_000; a -= 7) {
      if (!favoritedPairs.has(`${u}:${a}`)) freshFavorites.push([u, a]);
    }
  }
  for (let i = freshFavorites.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [freshFavorites[i], freshFavorites[j]] = [freshFavorites[j], freshFavorites[i]];
  }
  let favoriteNext = 0;

  const article = (i) => articles[(i * 13) % articles.length].slug;
  return [
    { name: 'GET /api/health', floor: 'hello', make: (i, id) => request('GET', '/api/health', { requestId: id }) },
    {
      name: 'GET /api/articles (anon, cached)',
      floor: 'hello',
      make: (i, id) => request('GET', `/api/articles?offset=${(i % 5) * 20}`, { requestId: id }),
    },
    {
      // A parameter the route ignores makes every URL new to the edge cache: a miss, then a store.
      name: 'GET /api/articles (anon, cold)',
      floor: 'page',
      make: (i, id) => request('GET', `/api/articles?offset=${(i % 5) * 20}&_=${i}`, { requestId: id }),
    },
    {
      name: 'GET /api/articles (auth)',
      floor: 'page',
      make: (i, id) =>
        request('GET', `/api/articles?offset=${(i % 5) * 20}`, { token: viewer(i).token, requestId: id }),
    },
    {
      // Deep in the site's list: rows read grow with the offset, not with the cursor's depth.
      name: `GET /api/articles (auth), offset ${DEEP_LIST_POSITION}`,
      floor: 'page',
      make: (i, id) =>
        request('GET', `/api/articles?offset=${DEEP_LIST_POSITION}`, { token: viewer(i).token, requestId: id }),
    },
    {
      name: `GET /api/articles (auth), by cursor at ${DEEP_LIST_POSITION}`,
      floor: 'page',
      make: (i, id) =>
        request('GET', `/api/articles?before=${data.deepListCursor}`, { token: viewer(i).token, requestId: id }),
    },
    {
      name: 'GET ?tag= (anon, cached)',
      floor: 'hello',
      make: (i, id) => request('GET', `/api/articles?tag=${TAGS[i % 10]}`, { requestId: id }),
    },
    {
      // A parameter the route ignores makes every URL new to the edge cache: a miss, then a store.
      name: 'GET ?tag= (anon, cold)',
      floor: 'page',
      make: (i, id) => request('GET', `/api/articles?tag=${TAGS[i % 10]}&_=${i}`, { requestId: id }),
    },
    {
      name: 'GET ?tag=',
      floor: 'page',
      make: (i, id) => request('GET', `/api/articles?tag=${TAGS[i % 10]}`, { token: viewer(i).token, requestId: id }),
    },
    {
      name: 'GET ?author= (anon, cached)',
      floor: 'hello',
      make: (i, id) => request('GET', `/api/articles?author=${viewer(i * 7).username}`, { requestId: id }),
    },
    {
      // A parameter the route ignores makes every URL new to the edge cache: a miss, then a store.
      name: 'GET ?author= (anon, cold)',
      floor: 'page',
      make: (i, id) => request('GET', `/api/articles?author=${viewer(i * 7).username}&_=${i}`, { requestId: id }),
    },
    {
      name: 'GET ?author=',
      floor: 'page',
      make: (i, id) =>
        request('GET', `/api/articles?author=${viewer(i * 7).username}`, { token: viewer(i).token, requestId: id }),
    },
    {
      name: 'GET ?favorited=',
      floor: 'page',
      make: (i, id) =>
        request('GET', `/api/articles?favorited=${viewer(i * 3).username}`, { token: viewer(i).token, requestId: id }),
    },
    {
      name: 'GET ?q=',
      floor: 'page',
      make: (i, id) =>
        request('GET', `/api/articles?q=${searchWords[i % searchWords.length]}`, {
          token: viewer(i).token,
          requestId: id,
        }),
    },
    {
      name: 'GET /api/articles/feed',
      floor: 'page',
      make: (i, id) => request('GET', '/api/articles/feed', { token: viewer(i).token, requestId: id }),
    },
    {
      // Rows read grow with the offset, not with how much the authors wrote: pages measured apart.
      name: 'GET feed (3 prolific authors), first page',
      floor: 'page',
      make: (i, id) => request('GET', '/api/articles/feed', { token: data.feedReader.token, requestId: id }),
    },
    {
      name: 'GET feed (3 prolific authors), pages 2–3',
      floor: 'page',
      make: (i, id) =>
        request('GET', `/api/articles/feed?offset=${(1 + (i % 2)) * 20}`, {
          token: data.feedReader.token,
          requestId: id,
        }),
    },
    {
      // The same pages by the `before` cursor a scrolling client follows: they cost the first page's rows.
      name: 'GET feed (3 prolific authors), pages 2–3 by cursor',
      floor: 'page',
      make: (i, id) =>
        request('GET', `/api/articles/feed?before=${data.feedReader.cursors[i % data.feedReader.cursors.length]}`, {
          token: data.feedReader.token,
          requestId: id,
        }),
    },
    {
      name: 'GET /api/articles/:slug (anon, cached)',
      floor: 'hello',
      // Ten popular articles, so the edge cache holds them after the first read of each.
      make: (i, id) => request('GET', `/api/articles/${article(i % 10)}`, { requestId: id }),
    },
    {
      // A parameter the route ignores makes every URL new to the edge cache: a miss, then a store.
      name: 'GET /api/articles/:slug (anon, cold)',
      floor: 'one',
      make: (i, id) => request('GET', `/api/articles/${article(i)}?_=${i}`, { requestId: id }),
    },
    {
      name: 'GET /api/articles/:slug',
      floor: 'one',
      make: (i, id) => request('GET', `/api/articles/${article(i)}`, { token: viewer(i).token, requestId: id }),
    },
    {
      name: 'GET .../:slug/comments (anon, cached)',
      floor: 'hello',
      make: (i, id) => request('GET', `/api/articles/${busiest[i % busiest.length].slug}/comments`, { requestId: id }),
    },
    {
      // A parameter the route ignores makes every URL new to the edge cache: a miss, then a store.
      name: 'GET .../:slug/comments (anon, cold)',
      floor: 'one',
      make: (i, id) =>
        request('GET', `/api/articles/${busiest[i % busiest.length].slug}/comments?_=${i}`, { requestId: id }),
    },
    {
      name: 'GET paid :slug (member)',
      make: (i, id) => request('GET', `/api/articles/${billing.slug}`, { token: billing.member.token, requestId: id }),
    },
    {
      name: 'POST /api/billing/webhooks',
      requests: Math.min(REQUESTS, 1000),
      make: (i, id) => {
        const { event, signature } = tipWebhook(billing, `${id}_${i}`);
        return request('POST', '/api/billing/webhooks', {
          body: event,
          requestId: id,
          headers: { 'Stripe-Signature': signature },
        });
      },
    },
    {
      name: 'GET .../:slug/comments',
      floor: 'one',
      make: (i, id) =>
        request('GET', `/api/articles/${busiest[i % busiest.length].slug}/comments`, {
          token: viewer(i).token,
          requestId: id,
        }),
    },
    {
      name: 'GET /api/profiles/:name (anon, cached)',
      floor: 'hello',
      make: (i, id) => request('GET', `/api/profiles/${viewer(i * 11).username}`, { requestId: id }),
    },
    {
      // A parameter the route ignores makes every URL new to the edge cache: a miss, then a store.
      name: 'GET /api/profiles/:name (anon, cold)',
      floor: 'one',
      make: (i, id) => request('GET', `/api/profiles/${viewer(i * 11).username}?_=${i}`, { requestId: id }),
    },
    {
      name: 'GET /api/profiles/:name',
      floor: 'one',
      make: (i, id) =>
        request('GET', `/api/profiles/${viewer(i * 11).username}`, { token: viewer(i).token, requestId: id }),
    },
    {
      name: 'GET /api/tags (anon, cached)',
      floor: 'hello',
      make: (i, id) => request('GET', '/api/tags', { requestId: id }),
    },
    {
      name: 'GET /api/tags (anon, cold)',
      floor: 'one',
      make: (i, id) => request('GET', `/api/tags?_=${i}`, { requestId: id }),
    },
    {
      name: 'POST /api/users/login',
      requests: Math.min(REQUESTS, 400),
      make: (i, id) =>
        request('POST', '/api/users/login', {
          body: { user: { email: viewer(i).email, password: PASSWORD } },
          requestId: id,
        }),
    },
    {
      name: 'POST /api/articles',
      requests: Math.min(REQUESTS, 1000),
      make: (i, id) =>
        request('POST', '/api/articles', {
          token: viewer(i).token,
          requestId: id,
          body: {
            article: {
              title: `bench created ${++created}`,
              description: sentence(10),
              body: sentence(200),
              tagList: [pick(TAGS), pick(TAGS)],
            },
          },
        }),
    },
    {
      name: 'GET /api/conversations',
      make: (i, id) => request('GET', '/api/conversations', { token: viewer(i).token, requestId: id }),
    },
    {
      name: 'GET .../messages',
      make: (i, id) => {
        const c = conversations[i % conversations.length];
        return request('GET', `/api/conversations/${c.id}/messages`, {
          token: users[c.members[i % c.members.length]].token,
          requestId: id,
        });
      },
    },
    {
      name: 'POST .../messages',
      requests: Math.min(REQUESTS, 1000),
      make: (i, id) => {
        const c = conversations[i % conversations.length];
        return request('POST', `/api/conversations/${c.id}/messages`, {
          token: users[c.members[i % c.members.length]].token,
          requestId: id,
          body: { body: sentence(15) },
        });
      },
    },
    {
      name: 'POST .../:slug/favorite',
      requests: Math.min(REQUESTS, 1000),
      make: (_i, id) => {
        const [u, a] = freshFavorites[favoriteNext++ % freshFavorites.length];
        return request('POST', `/api/articles/${articles[a].slug}/favorite`, { token: users[u].token, requestId: id });
      },
    },
  ];
}

/** The runtime floors, served by the same Miniflare on the same D1 state (see floor-*.mjs). */
function floorScenarios() {
  return [
    { floor: 'hello', name: 'floor: hello Worker', make: (i, id) => request('GET', '/floor/hello', { requestId: id }) },
    {
      floor: 'hello-log',
      name: 'floor: hello + one log line',
      make: (i, id) => request('GET', '/floor/hello-log', { requestId: id }),
    },
    {
      floor: 'hello-cache',
      name: 'floor: hello from the Cache API (2 lookups)',
      make: (i, id) => request('GET', '/floor/hello-cache', { requestId: id }),
    },
    {
      floor: 'hello-cache1',
      name: 'floor: hello from the Cache API (1 lookup)',
      make: (i, id) => request('GET', '/floor/hello-cache1', { requestId: id }),
    },
    {
      floor: 'one-kv',
      name: 'floor: one KV read + one-row D1 read',
      make: (i, id) => request('GET', `/floor/d1/one-kv?id=${((i * 13) % SEED.articles) + 1}`, { requestId: id }),
    },
    {
      floor: 'one',
      name: 'floor: one-row D1 read',
      make: (i, id) => request('GET', `/floor/d1/one?id=${((i * 13) % SEED.articles) + 1}`, { requestId: id }),
    },
    {
      floor: 'page',
      name: 'floor: 20-row D1 page',
      make: (i, id) => request('GET', `/floor/d1/page?offset=${(i % 5) * 20}`, { requestId: id }),
    },
    {
      floor: 'page-kv',
      name: 'floor: one KV read + 20-row D1 page',
      make: (i, id) => request('GET', `/floor/d1/page-kv?offset=${(i % 5) * 20}`, { requestId: id }),
    },
  ];
}

/**
 * WebSocket fan-out latency: the recipient holds a real WebSocket (ticket, upgrade, its Durable
 * Object); the sender POSTs one message at a time; latency is from the POST leaving the client to
 * the `message.created` frame arriving, both on this machine's clock (loopback, one process).
 */
async function measureFanout(data) {
  if (typeof WebSocket !== 'function') return undefined;
  const { users, conversations } = data;
  const c = conversations.find((x) => x.members.length === 2);
  const [sender, recipient] = c.members.map((m) => users[m]);
  const ticket = await expectOk(request('POST', '/api/realtime/ticket', { token: recipient.token }), 'ticket');
  const url = new URL(ticket.body.url, baseUrl);
  url.protocol = 'ws:';
  const ws = new WebSocket(url);
  const waiting = new Map();
  await new Promise((resolve, reject) => {
    ws.addEventListener('message', (e) => {
      const event = JSON.parse(String(e.data));
      if (event.type === 'ready') resolve();
      if (event.type === 'message.created') waiting.get(event.message.body)?.();
    });
    ws.addEventListener('error', () => reject(new Error('websocket error')));
  });
  const samples = Math.min(REQUESTS, args.smoke ? 10 : 300);
  const latencies = [];
  for (let i = 0; i < samples; i++) {
    const body = `fanout ${i} ${Date.now()}`;
    const started = process.hrtime.bigint();
    const arrived = new Promise((resolve) => waiting.set(body, resolve));
    await expectOk(
      request('POST', `/api/conversations/${c.id}/messages`, { token: sender.token, body: { body } }),
      'fanout send',
    );
    await Promise.race([arrived, new Promise((r) => setTimeout(r, 5000))]);
    waiting.delete(body);
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  ws.close(1000);
  latencies.sort((a, b) => a - b);
  const result = {
    samples,
    p50: Number(percentile(latencies, 50).toFixed(2)),
    p99: Number(percentile(latencies, 99).toFixed(2)),
  };
  log(`WebSocket fan-out (POST → frame)  p50 ${result.p50} ms  p99 ${result.p99} ms  (${samples} sequential sends)`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// wrangler dev (secondary, developer-experience figure only).

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not come up`);
}

async function benchWranglerDev(tmp) {
  const persist = path.join(tmp, 'wrangler-dev-state');
  const port = 8799;
  log('wrangler dev: applying migrations');
  const migrate = spawnSync(
    WRANGLER[0],
    [WRANGLER[1], 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: CHILD_ENV,
    },
  );
  if (migrate.status !== 0) throw new Error(`migrations failed: ${migrate.stderr}`);
  const child = spawn(
    WRANGLER[0],
    [
      WRANGLER[1],
      'dev',
      '--port',
      String(port),
      '--ip',
      '127.0.0.1',
      '--var',
      'ENVIRONMENT:development',
      '--var',
      'IP_RATE_LIMIT:off',
      '--var',
      'GATEWAY:test',
      '--var',
      'ARTICLE_CREATE_LIMIT_PER_HOUR:1000000',
      '--persist-to',
      persist,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'ignore'],
      detached: true,
      env: CHILD_ENV,
    },
  );
  try {
    baseUrl = `http://127.0.0.1:${port}`;
    await waitFor(`${baseUrl}/api/health`, 60_000);
    const author = await expectOk(
      request('POST', '/api/users', {
        body: { user: { username: 'dev_author', email: 'dev_author@example.com', password: PASSWORD } },
      }),
      'register',
    );
    const slugs = await pool(200, CONCURRENCY, async (i) => {
      const res = await expectOk(
        request('POST', '/api/articles', {
          token: author.body.user.token,
          body: {
            article: { title: `dev ${i}`, description: sentence(8), body: sentence(100), tagList: [pickSkewed(TAGS)] },
          },
        }),
        'create',
      );
      return res.body.article.slug;
    });
    return [
      await measure('wrangler dev: GET /api/health', (i, id) => request('GET', '/api/health', { requestId: id })),
      await measure('wrangler dev: GET /api/articles', (i, id) => request('GET', '/api/articles', { requestId: id })),
      await measure('wrangler dev: GET /api/articles/:slug', (i, id) =>
        request('GET', `/api/articles/${slugs[i % slugs.length]}`, { requestId: id }),
      ),
    ];
  } finally {
    process.kill(-child.pid, 'SIGTERM');
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-bench-'));
  try {
    await run(tmp);
  } finally {
    if (args.keep) log(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}

async function run(tmp) {
  const buildDir = path.join(tmp, 'build');
  build(buildDir);
  agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

  const { mf, url } = await startMiniflare(buildDir, path.join(tmp, 'state'));
  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    options: { REQUESTS, SECONDS, CONCURRENCY, SEED, ROUNDS, only: args.only ?? null },
    bundle: bundleSize(path.join(buildDir, 'index.js')),
    floors: [],
    miniflare: [],
    variants: [],
    wranglerDev: [],
  };
  try {
    baseUrl = url.href;
    await applyMigrations(await mf.getD1Database('DB', 'folio'));
    const data = await seed(() => mf.getD1Database('DB', 'folio').then(verifyAll));
    data.billing = await seedBilling(data.users);
    results.seedSeconds = data.seedSeconds;

    const selected = (list) => list.filter((s) => !ONLY || ONLY.test(s.name));
    const floors = selected(floorScenarios());
    const list = selected(scenarios(data));
    const profiled = await mf.getWorker('folio-profiled');

    // Floors before and after Folio's scenarios: the machine's load drifts, so ratios use their mean.
    const measureFloors = async (when) => {
      for (const f of floors) {
        const result = await measure(`${f.name} (${when})`, f.make, { minSeconds: MIN_SECONDS });
        const sample = await f.make(0, 'bench-floor-sample');
        result.floor = f.floor;
        result.rowsRead = sample.headers['x-floor-rows-read'] ? Number(sample.headers['x-floor-rows-read']) : null;
        results.floors.push(result);
      }
    };
    await measureFloors('before');
    // Each scenario's own floors, measured right before and right after it: the machine's speed drifts
    // by ±15 % over minutes (the run-wide floors above differ that much before and after), which moved
    // the ratios more than most code changes do. The ratio columns use these adjacent measurements.
    const floorByKey = Object.fromEntries(floorScenarios().map((f) => [f.floor, f]));
    const measureAdjacent = async (keys, scenario, when) => {
      const rps = {};
      for (const key of keys) {
        const floor = floorByKey[key];
        rps[key] = (await measure(`${floor.name} (${when} ${scenario})`, floor.make, { minSeconds: MIN_SECONDS })).rps;
      }
      return rps;
    };
    const adjacentKeys = (s, kv) => [s.floor, sameWorkFloor({ name: s.name, floor: s.floor, kv })].filter(Boolean);
    const targets = [{ name: 'folio' }, ...VARIANTS.map((v) => ({ name: v.name, host: `${v.name}.variant` }))];
    // Each scenario is measured on every target back to back, so the machine's drifting load hits all alike.
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of list) {
        for (const target of targets) {
          targetHost = target.host;
          let result;
          // The scenario's floors before it (main build, first round; not in the smoke check, which
          // measures nothing). Reads are signed in (one KV read) unless their name says anon.
          const adjacent = !args.smoke && !target.host && round === 1 && s.floor !== undefined;
          const kv = s.name.includes('(anon') ? 0 : 1;
          const before = adjacent ? await measureAdjacent(adjacentKeys(s, kv), s.name, 'before') : undefined;
          try {
            const label = target.host ? `[${target.name}] ${s.name}` : s.name;
            // Writes keep their fixed counts (per-account limits and seed size); reads run at least MIN_SECONDS.
            result = await measure(label, s.make, {
              requests: s.requests ?? REQUESTS,
              minSeconds: s.requests === undefined ? MIN_SECONDS : 0,
            });
            // An instrumented variant may report in-isolate timings of its pieces (summed, then reset).
            if (target.host) {
              const timing = await request('GET', '/__bench/timing');
              if (timing.status === 200) {
                result.timing = timing.body;
                log(`[${target.name}] ${s.name} timing µs/req: ${JSON.stringify(timing.body)}`);
              }
            }
          } finally {
            targetHost = undefined;
          }
          Object.assign(result, { name: s.name, target: target.name, round, floor: s.floor });
          if (before) {
            const after = await measureAdjacent(Object.keys(before), s.name, 'after');
            result.adjacentFloorRps = Object.fromEntries(
              Object.keys(before).map((k) => [k, Math.round((before[k] + after[k]) / 2)]),
            );
          }

          if (target.host || round > 1) {
            results.variants.push(result);
            continue;
          }
          // Same request shapes, through the profiling entry (Miniflare's in-process fetcher).
          profiledFetcher = profiled;
          try {
            result.d1Profile = await profile(s.make);
          } finally {
            profiledFetcher = undefined;
          }
          results.miniflare.push(result);
        }
      }
    }
    await measureFloors('after');
    results.fanout = await measureFanout(data);
  } finally {
    await mf.dispose();
  }

  if (args['wrangler-dev']) {
    try {
      results.wranglerDev = await benchWranglerDev(tmp);
    } catch (err) {
      log('wrangler dev run failed:', err.message);
    }
  }
  agent.destroy();

  results.floorRps = floorRps(results.floors);
  for (const r of [...results.miniflare, ...results.variants]) {
    const floor = r.adjacentFloorRps?.[r.floor] ?? results.floorRps[r.floor];
    if (floor) r.ofFloor = Number((r.rps / floor).toFixed(2));
    const work = sameWorkFloor(r);
    const workRps = work && (r.adjacentFloorRps?.[work] ?? results.floorRps[work]);
    if (workRps) r.ofSameWorkFloor = Number((r.rps / workRps).toFixed(2));
  }
  printTable(results);
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(results, null, 2));
  const failed = [...results.floors, ...results.miniflare, ...results.variants].filter((r) => r.errors > 0);
  if (args.smoke && failed.length > 0) {
    log(`smoke: ${failed.length} endpoint(s) answered errors: ${failed.map((r) => r.name).join(', ')}`);
    process.exitCode = 1;
  }
}

/** Mean req/s of each floor over its measurements (before and after the Folio scenarios). */
function floorRps(floors) {
  const byFloor = {};
  for (const f of floors) (byFloor[f.floor] ??= []).push(f.rps);
  return Object.fromEntries(
    Object.entries(byFloor).map(([k, v]) => [k, Math.round(v.reduce((a, b) => a + b, 0) / v.length)]),
  );
}

/** Raw and gzip size of the built bundle (what the deploy uploads, before Cloudflare's own compression). */
function bundleSize(file) {
  const raw = fs.readFileSync(file);
  return { bytes: raw.length, gzipBytes: zlib.gzipSync(raw).length };
}

function machine() {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    wrangler: require('wrangler/package.json').version,
    miniflare: runtime.MINIFLARE_VERSION,
  };
}

const FLOOR_LABEL = {
  hello: 'hello',
  'hello-log': 'hello + log line',
  'hello-cache': 'cache hit',
  'hello-cache1': 'one cache lookup',
  one: 'one-row',
  'one-kv': 'KV + one-row',
  page: '20-row',
  'page-kv': 'KV + 20-row',
};

/**
 * The diagnostic floor doing the same storage work as the endpoint (not issue 7's target floor): two
 * Cache API lookups for a cached anonymous read, a KV read plus a one-row read for a signed-in
 * single read (plus the 20-row page for a signed-in list), the request log line (which every Folio response writes) for `/api/health`. It
 * separates what the local runtime's storage and log pipe cost from Folio's own code.
 */
function sameWorkFloor(r) {
  if (r.name.includes('(anon, cached)')) return 'hello-cache';
  if (r.floor === 'one' && r.kv === 1) return 'one-kv';
  if (r.floor === 'page' && r.kv === 1) return 'page-kv';
  if (r.floor === 'hello') return 'hello-log';
  return undefined;
}

function printTable(results) {
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `\nMiniflare direct, ${results.date}, concurrency ${CONCURRENCY}, seed ${JSON.stringify(SEED)}` +
      `\nbundle ${kib(results.bundle.bytes)}, gzip ${kib(results.bundle.gzipBytes)}\n`,
  );
  const floorRows = [
    '| Floor | req/s (before / after) | p50 ms | p99 ms | server CPU µs/req | rows read |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const [floor, rps] of Object.entries(results.floorRps)) {
    const runs = results.floors.filter((f) => f.floor === floor);
    floorRows.push(
      `| ${runs[0].name.replace(/ \(before\)$/, '')} | ${rps} (${runs.map((r) => r.rps).join(' / ')}) | ${runs.map((r) => r.p50).join(' / ')} | ${runs.map((r) => r.p99).join(' / ')} | ${runs.map((r) => r.serverCpuUs).join(' / ')} | ${runs[0].rowsRead ?? '–'} |`,
    );
  }
  if (results.floors.length) console.log(`${floorRows.join('\n')}\n`);
  const rows = [
    '| Endpoint | req/s | × floor (its req/s) | × same-work floor (its req/s) | p50 ms | p99 ms | server CPU µs/req | D1 round trips | KV ops | rows read | rows written | requests | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results.miniflare) {
    // Each ratio names its floor and that floor's req/s next to this scenario (or over the run).
    const of = (ratio, key) =>
      ratio === undefined
        ? '–'
        : `${ratio.toFixed(2)} (${FLOOR_LABEL[key]} ${r.adjacentFloorRps?.[key] ?? results.floorRps[key]})`;
    const ratio = of(r.ofFloor, r.floor);
    const workRatio = of(r.ofSameWorkFloor, sameWorkFloor(r));
    rows.push(
      `| ${r.name} | ${r.rps} | ${ratio} | ${workRatio} | ${r.p50} | ${r.p99} | ${r.serverCpuUs} | ${r.d1} | ${r.kv} | ${r.d1Profile?.rowsRead ?? '–'} | ${r.d1Profile?.rowsWritten ?? '–'} | ${r.requests} | ${r.errors} |`,
    );
  }
  console.log(rows.join('\n'));
  if (VARIANTS.length || ROUNDS > 1) {
    // One row per scenario; per target: server CPU µs/request of each round, its mean and change against
    // folio (the robust figure on a shared machine), then the mean req/s and its change.
    const all = [...results.miniflare, ...results.variants];
    const targets = ['folio', ...VARIANTS.map((v) => v.name)];
    const signed = (n, digits = 0) => `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`;
    console.log(
      `\nTargets (${ROUNDS} round(s), each scenario on every target back to back): server CPU µs/req per round → mean (Δ µs against folio); mean req/s (Δ %)\n`,
    );
    console.log(`| Endpoint | ${targets.join(' | ')} |\n|---|${targets.map(() => '---:').join('|')}|`);
    for (const name of [...new Set(all.map((r) => r.name))]) {
      const statsOf = (t) => {
        const runs = all.filter((r) => r.name === name && r.target === t);
        const mean = (f) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
        return { runs, cpu: mean((r) => r.serverCpuUs), rps: mean((r) => r.rps) };
      };
      const base = statsOf('folio');
      const cells = targets.map((t) => {
        const { runs, cpu, rps } = statsOf(t);
        const cpuDelta = t === 'folio' ? '' : ` (${signed(cpu - base.cpu)})`;
        const rpsDelta = t === 'folio' ? '' : ` (${signed(((rps - base.rps) / base.rps) * 100, 1)}%)`;
        return `${runs.map((r) => r.serverCpuUs).join(' / ')} → ${Math.round(cpu)}${cpuDelta}; ${Math.round(rps)} req/s${rpsDelta}`;
      });
      console.log(`| ${name} | ${cells.join(' | ')} |`);
    }
  }
  if (results.fanout) {
    const f = results.fanout;
    console.log(
      `\nWebSocket fan-out, POST → message.created frame: p50 ${f.p50} ms, p99 ${f.p99} ms (${f.samples} sequential sends)`,
    );
  }
  if (results.wranglerDev.length) {
    console.log('\nwrangler dev (developer-experience figure only):\n');
    console.log('| Endpoint | req/s | p50 ms | p99 ms | requests | errors |\n|---|---:|---:|---:|---:|---:|');
    for (const r of results.wranglerDev)
      console.log(`| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.requests} | ${r.errors} |`);
  }
}

await main();
