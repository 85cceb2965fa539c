#!/usr/bin/env node
// `npm run seed`: fills the local development database with a small living publication, through the
// real HTTP API of a running `npm run dev` (so every write goes through the same validation, services
// and batches as a user's). Idempotent: every object is looked up (stable usernames, titles, bodies)
// before it is created, so running it twice creates nothing twice.
//
//   npm run seed                      # http://localhost:8787
//   npm run seed -- http://localhost:8796
//   SEED_URL=http://127.0.0.1:8796 npm run seed
//
// Refused unless the server is on this machine (localhost / 127.0.0.1 / ::1) and answers as
// ENVIRONMENT=development (GET /api/dev/outbox exists only there), and when ENVIRONMENT=production
// is set in the shell. It stays far below the per-IP limits on register/login (30 a minute) and the
// per-user comment limit (10 a minute).
/* global process, console, fetch, URL */

const BASE = (process.argv[2] ?? process.env.SEED_URL ?? 'http://localhost:8787').replace(/\/$/, '');
const PASSWORD = 'folio-demo-password';

const USERS = [
  { username: 'folio-admin', role: 'admin', bio: 'Runs this publication.' },
  { username: 'ada', role: 'author (paid articles)', bio: 'Writes about engines, numbers and the edge.' },
  { username: 'grace', role: 'reader', bio: 'Reads everything about compilers.' },
  { username: 'linus', role: 'reader', bio: null },
];

const ARTICLES = [
  {
    author: 'ada',
    title: 'Notes on the analytical engine at the edge',
    description: 'What a 19th-century machine teaches about Workers.',
    body: '# Notes\n\nThe engine weaves algebraic patterns just as the Jacquard loom weaves flowers and leaves.',
    tagList: ['history', 'edge', 'workers'],
  },
  {
    author: 'ada',
    title: 'Counting rows: a D1 field guide',
    description: 'Indexes, round trips and rows read, for members.',
    body: 'Every filter needs an index; every read is one round trip. Here is how to check both.',
    tagList: ['d1', 'sqlite', 'performance'],
    visibility: 'members',
  },
  {
    author: 'ada',
    title: 'The paid deep dive: sessions, tokens and revocation',
    description: 'For paying members: how Folio signs people in and out.',
    body: 'Access tokens are short-lived JWTs; sessions live in D1 and are cached in KV for about a minute.',
    tagList: ['security', 'jwt'],
    visibility: 'paid',
    // Readers who are not members can buy this one alone (test gateway in development).
    price: 300,
    currency: 'USD',
  },
  {
    author: 'ada',
    title: 'The paid archive: every benchmark, explained',
    description: 'For paying members: req/s, p99 and what they hide.',
    body: 'Benchmarks measured on Miniflare directly, with the numbers that matter: round trips and rows read.',
    tagList: ['performance', 'benchmarks'],
    visibility: 'paid',
  },
  {
    author: 'grace',
    title: 'Why I still write compilers',
    description: 'A reader turns author for one evening.',
    body: 'It is easier to ask forgiveness than it is to get permission.',
    tagList: ['compilers', 'history'],
  },
];

const COMMENTS = [
  { article: 'Notes on the analytical engine at the edge', author: 'grace', body: 'The loom analogy is perfect.' },
  { article: 'Notes on the analytical engine at the edge', author: 'linus', body: 'Show me the benchmarks.' },
  { article: 'Why I still write compilers', author: 'ada', body: 'Permission granted, retroactively.' },
  { article: 'Counting rows: a D1 field guide', author: 'linus', body: 'EXPLAIN QUERY PLAN or it did not happen.' },
];

const FOLLOWS = [
  ['grace', 'ada'],
  ['linus', 'ada'],
  ['linus', 'grace'],
  ['ada', 'grace'],
  ['folio-admin', 'ada'],
];

const FAVORITES = [
  ['grace', 'Notes on the analytical engine at the edge'],
  ['linus', 'Notes on the analytical engine at the edge'],
  ['linus', 'Why I still write compilers'],
  ['ada', 'Why I still write compilers'],
];

const created = { users: 0, articles: 0, comments: 0, follows: 0, favorites: 0, verified: 0, conversations: 0 };

function fail(message) {
  console.error(`seed: ${message}`);
  process.exit(1);
}

async function api(method, path, { token, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Token ${token}`;
  let res;
  try {
    res = await fetch(`${BASE}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    fail(`cannot reach ${BASE} (${err.cause?.code ?? err.message}). Start the API first: npm run dev`);
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { raw: text.slice(0, 200) };
  }
  return { status: res.status, body: json };
}

function expectStatus(res, statuses, what) {
  if (!statuses.includes(res.status)) fail(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function refuseUnlessLocalDevelopment() {
  if (process.env.ENVIRONMENT === 'production') fail('refused: ENVIRONMENT=production');
  const host = new URL(BASE).hostname;
  if (!['localhost', '127.0.0.1', '[::1]', '::1'].includes(host)) {
    fail(`refused: ${BASE} is not this machine (the seed only fills a local development database)`);
  }
  const outbox = await api('GET', '/api/dev/outbox');
  if (outbox.status !== 200) fail(`refused: ${BASE} does not run with ENVIRONMENT=development`);
}

async function signIn(user) {
  const email = `${user.username}@folio.example`;
  const registered = await api('POST', '/api/users', {
    body: { user: { username: user.username, email, password: PASSWORD } },
  });
  if (registered.status === 201) {
    created.users++;
    return registered.body.user;
  }
  expectStatus(registered, [409], `register ${user.username}`);
  const login = await api('POST', '/api/users/login', { body: { user: { email, password: PASSWORD } } });
  return expectStatus(login, [200], `log in ${user.username} (exists with another password?)`).user;
}

/** Confirms the demo accounts' email addresses with the links Folio queued (development outbox). */
async function verifyEmails(accounts) {
  const unverified = accounts.filter((a) => !a.emailVerified);
  if (unverified.length === 0) return;
  const { messages } = expectStatus(await api('GET', '/api/dev/outbox'), [200], 'read the outbox');
  for (const account of unverified) {
    const message = messages.find((m) => m.kind === 'verify_email' && m.to === account.email);
    const token = message?.body.match(/[?&]token=([^\s&]+)/)?.[1];
    if (!token) continue;
    const res = await api('POST', '/api/users/verify', { body: { token: decodeURIComponent(token) } });
    if (res.status === 200) created.verified++;
  }
}

async function main() {
  await refuseUnlessLocalDevelopment();

  const accounts = {};
  for (const user of USERS) {
    let account = await signIn(user);
    if (account.bio !== user.bio) {
      const res = await api('PUT', '/api/user', { token: account.token, body: { user: { bio: user.bio } } });
      account = { ...account, ...expectStatus(res, [200], `profile of ${user.username}`).user };
    }
    accounts[user.username] = account;
  }
  await verifyEmails(Object.values(accounts));

  const slugs = {};
  for (const article of ARTICLES) {
    const { token } = accounts[article.author];
    const mine = expectStatus(
      await api('GET', `/api/articles?author=${encodeURIComponent(article.author)}&limit=100`, { token }),
      [200],
      `articles of ${article.author}`,
    );
    let found = mine.articles.find((a) => a.title === article.title);
    if (!found) {
      const { author, ...fields } = article;
      const res = await api('POST', '/api/articles', { token, body: { article: fields } });
      found = expectStatus(res, [201], `article "${article.title}" by ${author}`).article;
      created.articles++;
    }
    slugs[article.title] = found.slug;
  }

  for (const comment of COMMENTS) {
    const { token } = accounts[comment.author];
    const slug = slugs[comment.article];
    const list = expectStatus(await api('GET', `/api/articles/${slug}/comments`, { token }), [200], 'comments');
    if (list.comments.some((c) => c.author.username === comment.author && c.body === comment.body)) continue;
    const res = await api('POST', `/api/articles/${slug}/comments`, {
      token,
      body: { comment: { body: comment.body } },
    });
    expectStatus(res, [201], `comment by ${comment.author}`);
    created.comments++;
  }

  for (const [follower, followed] of FOLLOWS) {
    const { token } = accounts[follower];
    const profile = expectStatus(await api('GET', `/api/profiles/${followed}`, { token }), [200], 'profile').profile;
    if (profile.following) continue;
    expectStatus(await api('POST', `/api/profiles/${followed}/follow`, { token }), [200], `${follower} follows`);
    created.follows++;
  }

  for (const [reader, title] of FAVORITES) {
    const { token } = accounts[reader];
    const slug = slugs[title];
    const article = expectStatus(await api('GET', `/api/articles/${slug}`, { token }), [200], 'article').article;
    if (article.favorited) continue;
    expectStatus(await api('POST', `/api/articles/${slug}/favorite`, { token }), [200], `${reader} favorites`);
    created.favorites++;
  }

  // Memberships: a fresh database already offers one active tier (migration); say which.
  const notes = [];
  const { tiers } = expectStatus(await api('GET', '/api/tiers'), [200], 'membership tiers');
  const tier = tiers.find((t) => t.active) ?? tiers[0];
  notes.push(
    tier
      ? `membership tier: "${tier.name}" (${tier.id}); sign in as a reader and POST /api/billing/checkout to try it`
      : 'membership tier: none active (an admin creates one with POST /api/admin/tiers)',
  );

  // A conversation between a reader and the author, started once.
  const grace = accounts.grace;
  const inbox = expectStatus(await api('GET', '/api/conversations', { token: grace.token }), [200], 'conversations');
  const withAda = inbox.conversations.some(
    (c) => c.kind === 'direct' && c.participants.some((p) => p.username === 'ada'),
  );
  if (!withAda) {
    const res = await api('POST', '/api/conversations', {
      token: grace.token,
      body: { participants: ['ada'], message: 'Loved your piece on the edge read path. Coffee next week?' },
    });
    expectStatus(res, [200, 201], 'conversation grace → ada');
    created.conversations++;
  }

  console.log(`\nSeeded ${BASE}: created ${JSON.stringify(created)} (0 everywhere means it was already seeded).`);
  for (const note of notes) console.log(`note: ${note}`);
  console.log('\nDemo accounts (password for all: %s):', PASSWORD);
  for (const user of USERS)
    console.log(`  ${user.username.padEnd(12)} ${`${user.username}@folio.example`.padEnd(28)} ${user.role}`);
  console.log(
    '\nfolio-admin is the admin when it was the first account of the database (a fresh `npm run dev`), or with ADMIN_USERNAMES=folio-admin.',
  );
  console.log(`API reference: ${BASE}/docs`);
}

await main();
