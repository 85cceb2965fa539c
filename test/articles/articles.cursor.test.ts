import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { listPageQuery, type ArticleCursor, type ArticleFilters } from '../../src/articles/articles.queries';
import { createDb } from '../../src/db/client';
import { createArticle, favorite, seedPublishedArticles, userId } from '../helpers/content';
import { unique, type TestUser } from '../helpers/factories';
import { call } from '../helpers/request';
import { newUser } from './helpers';

// `GET /api/articles?before=` (Folio extension): published lists page by the previous page's
// `nextBefore` as well as by offset. (The feed's cursor is tested with the feed: articles.feed.test.ts.)

type Listed = string;

/** Every article of `query`, by offset pages of `limit`. */
async function byOffset(query: string, limit: number, token?: string): Promise<Listed[]> {
  const all: Listed[] = [];
  for (let offset = 0; ; offset += limit) {
    const res = await call('GET', `/api/articles?${query}&limit=${limit}&offset=${offset}`, { token });
    expect(res.status).toBe(200);
    all.push(...res.body.articles.map((a: { slug: string }) => a.slug));
    if (res.body.articles.length < limit) return all;
  }
}

/** Every article of `query`, following `nextBefore` from the first page; each page one D1 round trip. */
async function byCursor(query: string, limit: number, token?: string): Promise<Listed[]> {
  const all: Listed[] = [];
  let path = `/api/articles?${query}&limit=${limit}`;
  for (let pages = 0; pages < 100; pages++) {
    const res = await call('GET', path, { token });
    expect([res.status, res.d1 <= 1], path).toEqual([200, true]);
    all.push(...res.body.articles.map((a: { slug: string }) => a.slug));
    if (res.body.nextBefore === null) return all;
    expect(res.body.articles, `${path} is full`).toHaveLength(limit);
    path = `/api/articles?${query}&limit=${limit}&before=${res.body.nextBefore}`;
  }
  throw new Error(`the cursor walk of ${query} did not end`);
}

describe('GET /api/articles?before= (cursor pages)', () => {
  it('lists every published list exactly as offset pages do, with ties in publishedAt', async () => {
    const [alice, bob, fan] = [await newUser(), await newUser(), await newUser()];
    const tag = unique('cur');
    const t0 = Date.parse('2032-01-01T00:00:00.000Z');
    const plan: [TestUser, number, string[]][] = [
      [alice, 0, [tag]],
      [bob, 1000, [tag]],
      [alice, 2000, []],
      [alice, 2000, [tag]],
      [bob, 2000, [tag]],
      [alice, 3000, [tag]],
      [bob, 4000, []],
    ];
    const written = [];
    for (const [author, at, tagList] of plan) written.push(await createArticle(author, { at: t0 + at, tagList }));
    await createArticle(alice, { at: t0 + 5000, tagList: [tag], status: 'draft' });
    const fanId = await userId(fan.username);
    for (const i of [0, 2, 3, 4, 6]) await favorite(fanId, written[i]!.slug);

    const lists = [
      `tag=${tag}`,
      `author=${alice.username}`,
      `author=${alice.username}&tag=${tag}`,
      `favorited=${fan.username}`,
      `favorited=${fan.username}&tag=${tag}`,
    ];
    for (const query of lists) {
      const expected = await byOffset(query, 100);
      expect(expected.length, query).toBeGreaterThan(2);
      for (const limit of [1, 2, 3]) {
        expect(await byCursor(query, limit), `${query}, pages of ${limit}`).toEqual(expected);
        expect(await byCursor(query, limit, fan.token), `${query}, signed in`).toEqual(expected);
      }
    }
    // The whole site's list too (anonymous: through the edge cache).
    expect(await byCursor('', 7)).toEqual(await byOffset('', 7));
  });

  it('continues below the cursor while new articles are published, where offset pages repeat one', async () => {
    const author = await newUser();
    // In the past, so the article published during the walk is the newest.
    const t0 = Date.parse('2020-02-01T00:00:00.000Z');
    const written = [];
    for (let i = 0; i < 4; i++) written.push(await createArticle(author, { at: t0 + i * 1000 }));
    const newestFirst = written.map((a) => a.slug).reverse();
    const slugs = (res: { body: { articles: { slug: string }[] } }) => res.body.articles.map((a) => a.slug);
    const list = `/api/articles?author=${author.username}&limit=2`;

    const first = await call('GET', list);
    expect(slugs(first)).toEqual(newestFirst.slice(0, 2));
    const published = await call('POST', '/api/articles', {
      token: author.token,
      body: { article: { title: unique('Newer '), description: 'd', body: 'b' } },
    });
    expect(published.status).toBe(201);

    const next = await call('GET', `${list}&before=${first.body.nextBefore}`);
    expect([slugs(next), next.body.articlesCount]).toEqual([newestFirst.slice(2, 4), 5]);
    expect(slugs(await call('GET', `${list}&offset=2`))).toEqual(newestFirst.slice(1, 3));
    // A full last cursor page is followed by one empty page.
    const end = await call('GET', `${list}&before=${next.body.nextBefore}`);
    expect(end.body).toEqual({ articles: [], articlesCount: 5, nextBefore: null });
  });

  it('gives no cursor on search results and drafts, and refuses one there (422)', async () => {
    const author = await newUser();
    await createArticle(author, { title: unique('Searchable zebra '), status: 'draft' });
    const cursor = '0'.repeat(15) + '1'.padStart(15, '0');
    const search = await call('GET', '/api/articles?q=zebra&limit=1');
    expect(search.body.nextBefore).toBeNull();
    const drafts = await call('GET', '/api/articles?status=draft&limit=1', { token: author.token });
    expect([drafts.body.articles.length, drafts.body.nextBefore]).toEqual([1, null]);

    for (const [path, token] of [
      [`/api/articles?q=zebra&before=${cursor}`, undefined],
      [`/api/articles?status=draft&before=${cursor}`, author.token],
      ['/api/articles?before=123', undefined],
      ['/api/articles?before=', undefined],
    ] as const) {
      const res = await call('GET', path, { token });
      expect([res.status, Object.keys(res.body.errors ?? {})], path).toEqual([422, ['before']]);
    }
  });

  it('reads what the first page reads at any depth: one range seek of the list index, no sort', async () => {
    const author = await newUser();
    const authorId = await userId(author.username);
    const tag = unique('deep');
    const n = 600;
    await seedPublishedArticles(authorId, n, tag, Date.UTC(2021, 0, 1));
    const db = createDb(env.DB);
    const rowsRead = async (filters: ArticleFilters, offset: number, below?: ArticleCursor) => {
      const { sql, params } = listPageQuery(db, filters, null, 20, offset, below).toSQL();
      const res = await env.DB.prepare(sql)
        .bind(...params)
        .all<{ id: number }>();
      return { rows: res.results.length, rowsRead: res.meta.rows_read };
    };
    /** The cursor after the first `position` articles of a list, as the API gives it. */
    const cursorAfter = async (query: string, position: number): Promise<ArticleCursor> => {
      const res = await call('GET', `/api/articles?${query}&limit=20&offset=${position - 20}`);
      const cursor = res.body.nextBefore as string;
      expect(cursor).toMatch(/^\d{30}$/);
      return { at: Number(cursor.slice(0, 15)), id: Number(cursor.slice(15)) };
    };

    for (const [query, filters] of [
      [`tag=${tag}`, { status: 'published', tag }],
      [`author=${author.username}`, { status: 'published', author: author.username }],
    ] as const) {
      const first = await rowsRead(filters, 0);
      const deepByOffset = await rowsRead(filters, 500);
      const deepByCursor = await rowsRead(filters, 0, await cursorAfter(query, 500));
      expect([first.rows, deepByOffset.rows, deepByCursor.rows], query).toEqual([20, 20, 20]);
      expect(deepByOffset.rowsRead, query).toBeGreaterThan(first.rowsRead + 400);
      expect(deepByCursor.rowsRead, query).toBeLessThanOrEqual(first.rowsRead + 1);

      // The page-ids subquery (the outer query only orders the page's 20 rows) seeks the list's index
      // at the cursor and walks it in list order.
      const { sql, params } = listPageQuery(db, filters, null, 20, 0, { at: 1, id: 1 }).toSQL();
      const plan = (
        await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .bind(...params)
          .all<{ id: number; parent: number; detail: string }>()
      ).results;
      const root = plan.find((s) => s.parent === 0 && s.detail.startsWith('LIST SUBQUERY'))!;
      const inside = new Set([root.id]);
      for (const step of plan) if (inside.has(step.parent)) inside.add(step.id);
      const pageIds = plan.filter((s) => s.id !== root.id && inside.has(s.id)).map((s) => s.detail);
      const described = pageIds.join('\n');
      expect(
        pageIds.filter((s) => s.includes('TEMP B-TREE') || /^SCAN /.test(s)),
        described,
      ).toEqual([]);
      // A range of the list's index ending at the cursor: SQLite shows the row value, or (on the author
      // index) its leading column, checking the id of ties in published_at as it walks.
      const seek =
        /^SEARCH \w+ USING (COVERING )?INDEX \w+ \(.*(\(published_at,(id|article_id)\)<\(\?,\?\)|published_at<\?)\)$/;
      expect(
        pageIds.some((s) => seek.test(s)),
        described,
      ).toBe(true);
    }
  });
});
