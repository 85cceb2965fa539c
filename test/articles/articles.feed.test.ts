import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  countQueryFor,
  feedPageQuery,
  listPageQuery,
  type ArticleFilters,
  type ArticleListRow,
} from '../../src/articles/articles.queries';
import { toArticleListItem } from '../../src/articles/articles.present';
import { articleCursorOf, sortNewestFirst } from '../../src/articles/articles.queries';
import { viewerOf } from '../../src/billing/membership';
import { createDb } from '../../src/db/client';
import { publishScheduledJob } from '../../src/maintenance/content.jobs';
import { createArticle, favorite, seedPublishedArticles, userId } from '../helpers/content';
import { registerUser, unique, type TestUser } from '../helpers/factories';
import { call } from '../helpers/request';
import { follow, newUser } from './helpers';

// The feed picks its page with a merge walk over the followed authors' feed-key index and reads
// `articlesCount` from the authors' maintained counters (users.published_articles_count). These
// tests hold it to what the feed returned before: the generic query (follows joined to articles,
// sorted, counted), which `listPageQuery` still builds for `followedBy`.

interface Query {
  toSQL(): { sql: string; params: unknown[] };
}

const feedFilters = (readerId: string): ArticleFilters => ({ status: 'published', followedBy: readerId });

/** The feed as the generic query lists and counts it: every page, newest first, and the total. */
async function reference(readerId: string) {
  const db = createDb(env.DB);
  const rows: ArticleListRow[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = await listPageQuery(db, feedFilters(readerId), readerId, 100, offset);
    rows.push(...page);
    if (page.length < 100) break;
  }
  const counted = await env.DB.prepare(
    `SELECT count(*) AS n FROM follows f JOIN articles a ON a.author_id = f.followee_id
     WHERE f.follower_id = ? AND a.status = 'published'`,
  )
    .bind(readerId)
    .first<{ n: number }>();
  return { rows, count: counted!.n };
}

/**
 * Asserts that every page of the feed (several page sizes, every offset up to one past the end, and
 * every cursor page from the first to the last) answers exactly the reference's slice and total, in
 * one D1 round trip; returns the total.
 */
async function expectFeedAsBefore(step: string, reader: TestUser, readerId: string): Promise<number> {
  const expected = await reference(readerId);
  const presented = expected.rows.map((row) => toArticleListItem(row, viewerOf(readerId)));
  for (const limit of [1, 2, 3, 20]) {
    for (let offset = 0; offset <= expected.count + 1; offset += limit) {
      const res = await call('GET', `/api/articles/feed?limit=${limit}&offset=${offset}`, { token: reader.token });
      expect(res.status, `${step}: limit ${limit} offset ${offset}`).toBe(200);
      expect(res.d1, `${step}: one round trip`).toBe(1);
      const articles = presented.slice(offset, offset + limit);
      expect(res.body, `${step}: limit ${limit} offset ${offset}`).toEqual({
        articles,
        articlesCount: expected.count,
        // A cursor for the page after this one, while the total says there is one.
        nextBefore: offset + limit < expected.count ? articleCursorOf(expected.rows[offset + limit - 1]!) : null,
      });
    }
    // Cursor pages: following `nextBefore` from the first page lists every article once, in order.
    const walked: unknown[] = [];
    let path = `/api/articles/feed?limit=${limit}`;
    for (let pages = 0; ; pages++) {
      const res = await call('GET', path, { token: reader.token });
      expect([res.status, res.d1], `${step}: ${path}`).toEqual([200, 1]);
      expect(res.body.articlesCount, `${step}: ${path}`).toBe(expected.count);
      walked.push(...res.body.articles);
      if (res.body.nextBefore === null) break;
      expect(res.body.articles, `${step}: ${path} is full`).toHaveLength(limit);
      expect(pages, `${step}: the cursor walk ends`).toBeLessThanOrEqual(expected.count);
      path = `/api/articles/feed?limit=${limit}&before=${res.body.nextBefore}`;
    }
    expect(walked, `${step}: cursor pages of ${limit}`).toEqual(presented);
  }
  // The rows themselves (every field the presenter may use) match the generic query's.
  const db = createDb(env.DB);
  const [page] = await db.batch([feedPageQuery(db, readerId, 100, 0)]);
  expect(sortNewestFirst(page), `${step}: rows`).toEqual(expected.rows.slice(0, 100));
  return expected.count;
}

const put = (user: TestUser, slug: string, article: Record<string, unknown>) =>
  call('PUT', `/api/articles/${slug}`, { token: user.token, body: { article } });

describe('GET /api/articles/feed (merge walk and maintained counts)', () => {
  beforeAll(async () => {
    // The first account of the file becomes the admin, who may not delete their account.
    await registerUser();
  });

  it('lists and counts exactly as before through publish, unpublish, delete, cron publishing, follows and account deletion', async () => {
    const reader = await newUser();
    const readerId = await userId(reader.username);
    const [alice, bob, carol] = [await newUser(), await newUser(), await newUser()];
    await follow(reader, alice);
    await follow(reader, bob);
    expect(await expectFeedAsBefore('following authors without articles', reader, readerId)).toBe(0);

    const t0 = Date.parse('2031-01-01T00:00:00.000Z');
    // Interleaved times, and ties in published_at within one author (ordered by id).
    const a1 = await createArticle(alice, { at: t0 });
    await createArticle(alice, { at: t0 + 2000 });
    await createArticle(alice, { at: t0 + 2000 });
    await createArticle(alice, { at: t0 + 2000 });
    const b1 = await createArticle(bob, { at: t0 + 1000, visibility: 'paid' });
    await createArticle(bob, { at: t0 + 2000, visibility: 'members' });
    const b3 = await createArticle(bob, { at: t0 + 3000 });
    await createArticle(carol, { at: t0 + 1500 });
    const aliceDraft = await createArticle(alice, { at: t0 + 4000, status: 'draft' });
    await createArticle(bob, { at: t0 + 5000, status: 'scheduled' });
    // Viewer flags: a favorite and a purchase of the paid article.
    await favorite(readerId, b3.slug);
    await env.DB.prepare(
      'INSERT INTO purchases (user_id, article_id, gateway_payment_id, created_at) VALUES (?, ?, ?, ?)',
    )
      .bind(readerId, b1.id, unique('pi'), t0)
      .run();
    expect(await expectFeedAsBefore('published, draft, scheduled, flags', reader, readerId)).toBe(7);
    const first = await call('GET', '/api/articles/feed?limit=1', { token: reader.token });
    expect(first.body.articles[0]).toMatchObject({ slug: b3.slug, favorited: true, author: { following: true } });

    expect((await put(alice, aliceDraft.slug, { status: 'published' })).status).toBe(200);
    expect(await expectFeedAsBefore('draft -> published', reader, readerId)).toBe(8);

    expect((await put(bob, b3.slug, { status: 'draft' })).status).toBe(200);
    expect(await expectFeedAsBefore('published -> draft', reader, readerId)).toBe(7);
    expect((await put(bob, b3.slug, { status: 'published', title: unique('Back ') })).status).toBe(200);
    expect(await expectFeedAsBefore('republished (keeps its place)', reader, readerId)).toBe(8);

    expect((await call('DELETE', `/api/articles/${a1.slug}`, { token: alice.token })).status).toBe(204);
    expect(await expectFeedAsBefore('deleted', reader, readerId)).toBe(7);

    const db = createDb(env.DB);
    expect(await publishScheduledJob({ db, env, now: new Date(t0 + 5000 + 2 * 3600_000) })).toMatchObject({
      published: expect.any(Number),
    });
    expect(await expectFeedAsBefore('published by the cron job', reader, readerId)).toBe(8);

    await follow(reader, carol);
    expect(await expectFeedAsBefore('followed one more', reader, readerId)).toBe(9);
    expect((await call('DELETE', `/api/profiles/${alice.username}/follow`, { token: reader.token })).status).toBe(200);
    expect(await expectFeedAsBefore('unfollowed', reader, readerId)).toBe(5);
    expect((await call('POST', `/api/profiles/${alice.username}/follow`, { token: reader.token })).status).toBe(200);
    expect(await expectFeedAsBefore('followed again', reader, readerId)).toBe(9);

    // Bob leaves: his published articles stay (credited to the anonymised account), his follows go.
    const left = await call('DELETE', '/api/user', { token: bob.token, body: { password: bob.password } });
    expect(left.status).toBe(204);
    expect(await expectFeedAsBefore('a followed author deleted their account', reader, readerId)).toBe(5);

    // The writes left nothing for the daily job to repair in the authors' counts.
    const stored = await env.DB.prepare(
      `SELECT count(*) AS n FROM users u WHERE u.published_articles_count <>
         (SELECT count(*) FROM articles a WHERE a.author_id = u.id AND a.status = 'published')`,
    ).first<{ n: number }>();
    expect(stored!.n).toBe(0);
  });

  it('answers ?author= with the author counter, exact through writes (0 for an unknown author)', async () => {
    const jake = await newUser();
    const tag = unique('authortag');
    const a = await createArticle(jake, { tagList: [tag] });
    await createArticle(jake, { status: 'draft' });
    const list = async (query: string) => (await call('GET', `/api/articles?${query}`)).body;
    expect((await list(`author=${jake.username}`)).articlesCount).toBe(1);
    expect((await list(`author=${jake.username.toUpperCase()}`)).articlesCount).toBe(1);
    expect(await list(`author=${unique('nobody')}`)).toEqual({ articles: [], articlesCount: 0, nextBefore: null });
    expect((await put(jake, a.slug, { status: 'draft' })).status).toBe(200);
    const after = await call('GET', `/api/articles?author=${jake.username}&limit=1`);
    expect(after.body).toEqual({ articles: [], articlesCount: 0, nextBefore: null });
    // Author with a tag still counts the matches.
    expect((await list(`author=${jake.username}&tag=${tag}`)).articlesCount).toBe(0);
  });
});

describe('GET /api/articles/feed?before= (cursor pages)', () => {
  it('continues below the cursor while new articles are published, where offset pages repeat one', async () => {
    const reader = await newUser();
    const author = await newUser();
    await follow(reader, author);
    const t0 = Date.parse('2031-03-01T00:00:00.000Z');
    const written = [];
    for (let i = 0; i < 5; i++) written.push(await createArticle(author, { at: t0 + i * 1000 }));
    const slugs = (res: { body: { articles: { slug: string }[] } }) => res.body.articles.map((a) => a.slug);
    const newestFirst = written.map((a) => a.slug).reverse();

    const first = await call('GET', '/api/articles/feed?limit=2', { token: reader.token });
    expect(slugs(first)).toEqual(newestFirst.slice(0, 2));
    await createArticle(author, { at: t0 + 10_000 });

    const next = await call('GET', `/api/articles/feed?limit=2&before=${first.body.nextBefore}`, {
      token: reader.token,
    });
    expect(slugs(next)).toEqual(newestFirst.slice(2, 4));
    const byOffset = await call('GET', '/api/articles/feed?limit=2&offset=2', { token: reader.token });
    expect(slugs(byOffset)).toEqual(newestFirst.slice(1, 3));
    // `offset` counts from the cursor.
    const skipped = await call('GET', `/api/articles/feed?limit=2&offset=1&before=${first.body.nextBefore}`, {
      token: reader.token,
    });
    expect(slugs(skipped)).toEqual(newestFirst.slice(3, 5));
    expect(skipped.body.nextBefore).toBe(articleCursorOf({ publishedAt: new Date(t0), id: written[0]!.id }));

    // The last page is not full: no cursor. A full last page is followed by one empty page.
    const last = await call('GET', `/api/articles/feed?limit=2&before=${next.body.nextBefore}`, {
      token: reader.token,
    });
    expect([slugs(last), last.body.nextBefore]).toEqual([newestFirst.slice(4), null]);
    const end = await call('GET', `/api/articles/feed?limit=1&before=${skipped.body.nextBefore}`, {
      token: reader.token,
    });
    expect(end.body).toEqual({ articles: [], articlesCount: 6, nextBefore: null });
  });

  it('refuses a malformed cursor with 422 and names it', async () => {
    const reader = await newUser();
    for (const bad of ['abc', '1', `${'9'.repeat(30)}0`, '%3A', `${'1'.repeat(29)}x`]) {
      const res = await call('GET', `/api/articles/feed?before=${bad}`, { token: reader.token });
      expect([res.status, Object.keys(res.body.errors)], bad).toEqual([422, ['before']]);
    }
  });
});

describe('feed cost', () => {
  async function rowsRead(queries: Query[]): Promise<number> {
    let total = 0;
    for (const query of queries) {
      const { sql, params } = query.toSQL();
      total += (
        await env.DB.prepare(sql)
          .bind(...params)
          .all()
      ).meta.rows_read;
    }
    return total;
  }

  it('reads at most 5 x page size rows for a first page, however many articles the followed authors wrote', async () => {
    const reader = await newUser();
    const readerId = await userId(reader.username);
    const authors = [await newUser(), await newUser(), await newUser()];
    const authorIds = await Promise.all(authors.map((a) => userId(a.username)));
    const db = createDb(env.DB);
    const limit = 20;
    const measure = async (offset: number, before?: string) =>
      rowsRead([feedPageQuery(db, readerId, limit, offset, before), countQueryFor(db, feedFilters(readerId))]);
    /** The `nextBefore` cursor after the first `position` articles of the feed, as the API gives it. */
    const cursorAfter = async (position: number) => {
      const res = await call('GET', `/api/articles/feed?limit=${limit}&offset=${position - limit}`, {
        token: reader.token,
      });
      expect(res.body.nextBefore).toMatch(/^\d{30}$/);
      return res.body.nextBefore as string;
    };
    const measureAll = async () => ({
      first: await measure(0),
      second: await measure(20),
      deep: await measure(200),
      secondByCursor: await measure(0, await cursorAfter(20)),
      deepByCursor: await measure(0, await cursorAfter(200)),
    });

    for (const [i, id] of authorIds.entries()) await seedPublishedArticles(id, 150, unique(`cost${i}`), 1e12 + i * 7);
    for (const author of authors) await follow(reader, author);
    const small = await measureAll();
    for (const [i, id] of authorIds.entries()) await seedPublishedArticles(id, 300, unique(`more${i}`), 2e12 + i * 7);
    const large = await measureAll();
    console.warn(
      `[feed rows read, 3 authors, page of 20] 450 articles ${JSON.stringify(small)}; 1,350 ${JSON.stringify(large)}`,
    );

    // The bound for a page of 20, and independent of how much the authors wrote.
    expect(large.first).toBeLessThanOrEqual(5 * limit);
    expect(large).toEqual(small);
    // A cursor page costs what the first page costs, however deep it is.
    expect([large.secondByCursor, large.deepByCursor]).toEqual([large.first, large.first]);
    // The stated bound: 2 per followed author (follows entry, newest key) + 2 per walked article
    // (queue row, next key) + 2 per listed article (its row, its author) + the count (2 per author),
    // plus a few rows of the walk's bookkeeping.
    const bound = (offset: number) => 4 * authors.length + 2 * (offset + limit) + 2 * limit + 5;
    expect(large.first).toBeLessThanOrEqual(bound(0));
    expect(large.second).toBeLessThanOrEqual(bound(20));
    expect(large.deep).toBeLessThanOrEqual(bound(200));

    const res = await call('GET', '/api/articles/feed?offset=20', { token: reader.token });
    expect(res.body.articlesCount).toBe(1350);
    expect(res.body.articles).toHaveLength(20);
    expect([res.d1, res.kv]).toEqual([1, 1]);
  });
});
