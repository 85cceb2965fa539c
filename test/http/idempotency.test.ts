import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/client';
import { hashToken } from '../../src/lib/tokens';
import { purgeJob } from '../../src/maintenance/housekeeping.jobs';
import { postArticle } from '../articles/helpers';
import { registerUser, unique, type TestUser } from '../helpers/factories';
import { call } from '../helpers/request';

const articleBody = (title: string) => ({ article: { title, description: 'd', body: 'b', tagList: ['idem'] } });

const create = (user: TestUser, key: string | undefined, body: unknown) =>
  call('POST', '/api/articles', {
    token: user.token,
    body,
    headers: key === undefined ? {} : { 'Idempotency-Key': key },
  });

/** What the middleware stores for a request: the hash of its method, path and body. */
const requestHash = (path: string, body: unknown) => hashToken(`POST ${path}\n${JSON.stringify(body)}`);

async function articlesBy(user: TestUser): Promise<number> {
  const row = await env.DB.prepare(
    'SELECT count(*) AS n FROM articles a JOIN users u ON u.id = a.author_id WHERE u.username = ?',
  )
    .bind(user.username)
    .first<{ n: number }>();
  return row!.n;
}

describe('Idempotency-Key on POST /api/articles', () => {
  it('replays the first response for a retry, without a second article', async () => {
    const user = await registerUser();
    const key = crypto.randomUUID();
    const first = await create(user, key, articleBody('Only once'));
    expect(first.status).toBe(201);
    expect(first.headers.get('Idempotent-Replayed')).toBeNull();
    expect(first.d1).toBe(2); // the effect's batch, then the stored response

    const retry = await create(user, key, articleBody('Only once'));
    expect(retry.status).toBe(201);
    expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await articlesBy(user)).toBe(1);
    // The tag count was not bumped twice either.
    const tags = await env.DB.prepare("SELECT articles_count AS n FROM tags WHERE name = 'idem'").first<{
      n: number;
    }>();
    expect(tags!.n).toBeGreaterThanOrEqual(1);
  });

  it('refuses the same key with a different body (422), and that refusal creates nothing', async () => {
    const user = await registerUser();
    const key = crypto.randomUUID();
    expect((await create(user, key, articleBody('First'))).status).toBe(201);
    const other = await create(user, key, articleBody('Second'));
    expect(other.status).toBe(422);
    expect(other.body).toEqual({ errors: { idempotencyKey: ['was already used with a different request'] } });
    expect(await articlesBy(user)).toBe(1);
  });

  it('keys belong to one user: another user with the same key gets their own effect', async () => {
    const [alice, bob] = [await registerUser(), await registerUser()];
    const key = crypto.randomUUID();
    expect((await create(alice, key, articleBody('Shared key'))).status).toBe(201);
    const bobs = await create(bob, key, articleBody('Shared key'));
    expect(bobs.status).toBe(201);
    expect(bobs.headers.get('Idempotent-Replayed')).toBeNull();
    expect(bobs.body.article.author.username).toBe(bob.username);
  });

  it('parallel duplicates: exactly one article, the others replay or are told it is in flight (409)', async () => {
    const user = await registerUser();
    const key = crypto.randomUUID();
    const results = await Promise.all(Array.from({ length: 5 }, () => create(user, key, articleBody('Parallel'))));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    for (const r of results) {
      expect([201, 409]).toContain(r.status);
      if (r.status === 409)
        expect(r.body).toEqual({ errors: { idempotencyKey: ['is being used by another request'] } });
    }
    const originals = results.filter((r) => r.status === 201 && r.headers.get('Idempotent-Replayed') === null);
    expect(originals).toHaveLength(1);
    expect(await articlesBy(user)).toBe(1);
  });

  it('answers 409 while the first request with the key is still in flight', async () => {
    const user = await registerUser();
    const key = crypto.randomUUID();
    // The first request committed its effect and has not stored its response yet.
    const userRow = await env.DB.prepare('SELECT id FROM users WHERE username = ?')
      .bind(user.username)
      .first<{ id: string }>();
    await env.DB.prepare(
      'INSERT INTO idempotency_keys (user_id, key, request_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    )
      .bind(
        userRow!.id,
        key,
        await requestHash('/api/articles', articleBody('Waiting')),
        Date.now(),
        Date.now() + 3600_000,
      )
      .run();
    const res = await create(user, key, articleBody('Waiting'));
    expect(res.status).toBe(409);
    expect(await articlesBy(user)).toBe(0);
  });

  it('a failed request leaves the key free for a corrected retry', async () => {
    const user = await registerUser();
    const key = crypto.randomUUID();
    const bad = await create(user, key, { article: { title: '', description: 'd', body: 'b' } });
    expect(bad.status).toBe(422);
    const fixed = await create(user, key, articleBody('Fixed'));
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get('Idempotent-Replayed')).toBeNull();
  });

  it('refuses a malformed key and works as before without one', async () => {
    const user = await registerUser();
    const bad = await create(user, 'has spaces in it', articleBody('x'));
    expect(bad.status).toBe(422);
    expect(bad.body.errors.idempotencyKey).toBeInstanceOf(Array);
    expect((await create(user, undefined, articleBody('No key'))).status).toBe(201);
    expect((await create(user, undefined, articleBody('No key'))).status).toBe(201);
    expect(await articlesBy(user)).toBe(2);
  });

  it('forgets keys after 24 hours: the daily purge removes them and the key works again', async () => {
    const user = await registerUser();
    const key = crypto.randomUUID();
    expect((await create(user, key, articleBody('Day one'))).status).toBe(201);
    const db = createDb(env.DB);
    expect((await purgeJob({ db, env, now: new Date() })).idempotencyKeys).toBe(0);
    const later = new Date(Date.now() + 24 * 3600_000 + 1000);
    expect((await purgeJob({ db, env, now: later })).idempotencyKeys).toBeGreaterThanOrEqual(1);
    const left = await env.DB.prepare('SELECT count(*) AS n FROM idempotency_keys WHERE key = ?')
      .bind(key)
      .first<{ n: number }>();
    expect(left!.n).toBe(0);
    const again = await create(user, key, articleBody('Day two'));
    expect(again.status).toBe(201);
    expect(again.headers.get('Idempotent-Replayed')).toBeNull();
    expect(await articlesBy(user)).toBe(2);
  });
});

describe('Idempotency-Key on POST /api/articles/:slug/comments', () => {
  it('one comment per key, replayed on retry, also in parallel', async () => {
    const author = await registerUser();
    const article = await postArticle(author);
    const key = unique('key');
    const send = () =>
      call('POST', `/api/articles/${article.slug}/comments`, {
        token: author.token,
        body: { comment: { body: 'once' } },
        headers: { 'Idempotency-Key': key },
      });
    const results = await Promise.all([send(), send(), send()]);
    for (const r of results) expect([201, 409]).toContain(r.status);
    const again = await send();
    expect(again.status).toBe(201);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    const list = await call('GET', `/api/articles/${article.slug}/comments`, { token: author.token });
    expect(list.body.comments).toHaveLength(1);
    expect(again.body.comment.id).toBe(list.body.comments[0].id);
  });

  it('a rate-limited comment (429) does not use up the key', async () => {
    const author = await registerUser();
    const article = await postArticle(author);
    const post = (body: string, key?: string) =>
      call('POST', `/api/articles/${article.slug}/comments`, {
        token: author.token,
        body: { comment: { body } },
        headers: key ? { 'Idempotency-Key': key } : {},
      });
    for (let i = 0; i < 10; i++) expect((await post(`c${i}`)).status).toBe(201);
    const limited = await post('one too many', 'limited-key');
    expect(limited.status).toBe(429);
    const row = await env.DB.prepare("SELECT count(*) AS n FROM idempotency_keys WHERE key = 'limited-key'").first<{
      n: number;
    }>();
    expect(row!.n).toBe(0);
  });
});
