import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { publishDueArticles } from '../../src/articles/articles.service';
import { createDb } from '../../src/db/client';
import { reconcileCountersJob } from '../../src/maintenance/content.jobs';
import { unique, type TestUser } from '../helpers/factories';
import { call, readFromAnotherLocation } from '../helpers/request';
import { newUser, postArticle } from './helpers';

// The unfiltered list and the tag-only list read `articlesCount` from counters maintained by the
// writes (site_counters.published_articles, tags.articles_count) instead of counting: these tests
// compare the reported count with what the list really shows after every kind of write.

const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

/** Walks every page of `path`: the `articlesCount` each page reports and the articles really listed. */
async function walk(path: string, token?: string) {
  const sep = path.includes('?') ? '&' : '?';
  const counts = new Set<number>();
  let listed = 0;
  for (let offset = 0; ; offset += 100) {
    const res = await call('GET', `${path}${sep}limit=100&offset=${offset}`, { token });
    expect(res.status, path).toBe(200);
    expect(res.d1, path).toBe(1);
    counts.add(res.body.articlesCount);
    listed += res.body.articles.length;
    if (res.body.articles.length < 100) break;
  }
  expect([...counts], `${path}: every page reports the same total`).toHaveLength(1);
  return { count: [...counts][0]!, listed };
}

const publishedInDb = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM articles WHERE status = 'published'").first<{ n: number }>())!.n;

/**
 * Asserts that the unfiltered list and each tag list report exactly the number of articles they list
 * (anonymous and signed in), and that each tag list holds `expected[tag]` articles.
 */
async function expectExactCounts(step: string, expected: Record<string, number>, viewer: TestUser) {
  // Counts are checked where they are computed: from a location whose edge cache holds no copy yet.
  readFromAnotherLocation();
  const all = await walk('/api/articles');
  expect(all.count, `${step}: unfiltered list`).toBe(all.listed);
  expect(all.count, `${step}: unfiltered list vs a recount`).toBe(await publishedInDb());
  expect((await walk('/api/articles', viewer.token)).count, `${step}: unfiltered list, signed in`).toBe(all.count);
  for (const [tag, n] of Object.entries(expected)) {
    const byTag = await walk(`/api/articles?tag=${tag}`);
    expect(byTag, `${step}: ?tag=${tag}`).toEqual({ count: n, listed: n });
    expect((await walk(`/api/articles?tag=${tag}`, viewer.token)).count, `${step}: ?tag=${tag}, signed in`).toBe(n);
  }
  return all.count;
}

const put = (user: TestUser, slug: string, article: Record<string, unknown>) =>
  call('PUT', `/api/articles/${slug}`, { token: user.token, body: { article } });

describe('articlesCount of the unfiltered and tag lists', () => {
  it('stays exact through create, update (status, tags, visibility, title), delete and refused writes', async () => {
    const jake = await newUser();
    const mallory = await newUser();
    const [a, b, c] = [unique('cnta'), unique('cntb'), unique('cntc')];
    const base = await expectExactCounts('start', { [a]: 0, [b]: 0, [c]: 0 }, mallory);
    const total = async (step: string, delta: number, tags: Record<string, number>) =>
      expect(await expectExactCounts(step, tags, mallory), `${step}: unfiltered total`).toBe(base + delta);

    // Every visibility is listed (locked ones too), so every one is counted.
    const p1 = await postArticle(jake, { tagList: [a, b] });
    const p2 = await postArticle(jake, { tagList: [a], visibility: 'members' });
    const p3 = await postArticle(jake, { tagList: [b], visibility: 'paid' });
    const anonTagB = await call('GET', `/api/articles?tag=${b}`);
    expect(anonTagB.body.articles.map((x: { slug: string; locked: boolean }) => [x.slug, x.locked])).toEqual([
      [p3.slug, true],
      [p1.slug, false],
    ]);
    await total('create published (public, members, paid)', 3, { [a]: 2, [b]: 2, [c]: 0 });

    const d1 = await postArticle(jake, { status: 'draft', tagList: [a] });
    const s1 = await postArticle(jake, { status: 'scheduled', publishAt: inAnHour(), tagList: [a, c] });
    await total('create draft and scheduled', 3, { [a]: 2, [b]: 2, [c]: 0 });

    expect((await put(jake, d1.slug, { status: 'published' })).status).toBe(200);
    await total('draft -> published', 4, { [a]: 3, [b]: 2, [c]: 0 });

    expect((await put(jake, p1.slug, { status: 'draft', tagList: [c] })).status).toBe(200);
    await total('published -> draft with new tags', 3, { [a]: 2, [b]: 1, [c]: 0 });

    const p1Renamed = await put(jake, p1.slug, { tagList: [a, b, c], title: unique('Draft title ') });
    expect(p1Renamed.status).toBe(200);
    const p1Slug = p1Renamed.body.article.slug as string;
    expect((await put(jake, p1Slug, { status: 'scheduled', publishAt: inAnHour() })).status).toBe(200);
    await total('tags of a draft, draft -> scheduled', 3, { [a]: 2, [b]: 1, [c]: 0 });

    expect((await put(jake, p2.slug, { status: 'scheduled', publishAt: inAnHour() })).status).toBe(200);
    await total('published -> scheduled', 2, { [a]: 1, [b]: 1, [c]: 0 });

    expect((await put(jake, p2.slug, { status: 'published' })).status).toBe(200);
    await total('scheduled -> published', 3, { [a]: 2, [b]: 1, [c]: 0 });

    const retitled = await put(jake, p3.slug, { tagList: [c], visibility: 'public', title: unique('New title ') });
    expect(retitled.status).toBe(200);
    const p3Slug = retitled.body.article.slug as string;
    await total('published: tags, visibility and slug changed', 3, { [a]: 2, [b]: 0, [c]: 1 });

    expect((await put(jake, p3Slug, { status: 'published', description: 'still published' })).status).toBe(200);
    expect((await put(jake, p3Slug, { tagList: [] })).status).toBe(200);
    await total('published -> published, tags cleared', 3, { [a]: 2, [b]: 0, [c]: 0 });

    expect((await put(mallory, p3Slug, { status: 'draft' })).status).toBe(403);
    expect((await call('DELETE', `/api/articles/${p2.slug}`, { token: mallory.token })).status).toBe(403);
    expect((await call('DELETE', `/api/articles/${s1.slug}`, { token: mallory.token })).status).toBe(404);
    await total('refused update and deletes', 3, { [a]: 2, [b]: 0, [c]: 0 });

    expect((await call('DELETE', `/api/articles/${d1.slug}`, { token: jake.token })).status).toBe(204);
    await total('delete a published article', 2, { [a]: 1, [b]: 0, [c]: 0 });
    expect((await call('DELETE', `/api/articles/${p1Slug}`, { token: jake.token })).status).toBe(204);
    expect((await call('DELETE', `/api/articles/${s1.slug}`, { token: jake.token })).status).toBe(204);
    await total('delete a scheduled article twice over', 2, { [a]: 1, [b]: 0, [c]: 0 });

    // The writes left nothing for the daily reconciliation to repair. (The job is called directly:
    // runCron's console spies would undo call()'s request-log capture for the later tests.)
    expect(await reconcileCountersJob({ db: createDb(env.DB), env, now: new Date() })).toEqual({
      favoritesCountFixed: 0,
      tagArticlesCountFixed: 0,
      authorPublishedCountFixed: 0,
      tagLinkPublishedAtFixed: 0,
      publishedArticlesFixed: 0,
    });
  });

  it('stays exact when publishDueArticles publishes scheduled articles', async () => {
    const jake = await newUser();
    const tag = unique('cntdue');
    const first = await postArticle(jake, { status: 'scheduled', publishAt: inAnHour(), tagList: [tag] });
    await postArticle(jake, { status: 'scheduled', publishAt: inAnHour(), tagList: [tag] });
    const before = await expectExactCounts('scheduled', { [tag]: 0 }, jake);

    const db = createDb(env.DB);
    expect(await publishDueArticles(db, new Date())).toBe(0);
    await expectExactCounts('nothing due', { [tag]: 0 }, jake);
    const published = await publishDueArticles(db, new Date(Date.now() + 2 * 3600_000));
    expect(published).toBeGreaterThanOrEqual(2);
    const after = await expectExactCounts('published due', { [tag]: 2 }, jake);
    expect(after).toBe(before + published);
    expect(await publishDueArticles(db, new Date(Date.now() + 2 * 3600_000))).toBe(0);

    expect((await put(jake, first.slug, { status: 'draft' })).status).toBe(200);
    await expectExactCounts('unpublished again', { [tag]: 1 }, jake);
  });

  it('stays exact under parallel creates, status changes and deletes', async () => {
    const jake = await newUser();
    const tag = unique('cntpar');
    const made = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        postArticle(jake, { tagList: [tag], status: i % 2 === 0 ? 'published' : 'draft' }),
      ),
    );
    await expectExactCounts('parallel creates', { [tag]: 3 }, jake);

    // Several competing status flips per article: whatever wins, the counters follow the stored state.
    await Promise.all(
      made.flatMap((article, i) => [
        put(jake, article.slug, { status: 'published' }),
        put(jake, article.slug, { status: i % 3 === 0 ? 'draft' : 'published' }),
        put(jake, article.slug, { status: 'draft' }),
      ]),
    );
    const states = await Promise.all(
      made.map(async (x) => (await call('GET', `/api/articles/${x.slug}`, { token: jake.token })).body.article.status),
    );
    await expectExactCounts('parallel status flips', { [tag]: states.filter((s) => s === 'published').length }, jake);

    await Promise.all(
      made
        .slice(0, 3)
        .flatMap((x) => [
          call('DELETE', `/api/articles/${x.slug}`, { token: jake.token }),
          put(jake, x.slug, { status: 'published' }),
        ]),
    );
    const left = await Promise.all(
      made
        .slice(3)
        .map(async (x) => (await call('GET', `/api/articles/${x.slug}`, { token: jake.token })).body.article.status),
    );
    await expectExactCounts('parallel deletes', { [tag]: left.filter((s) => s === 'published').length }, jake);
  });
});
