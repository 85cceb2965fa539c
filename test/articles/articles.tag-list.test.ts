import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { publishDueArticles } from '../../src/articles/articles.service';
import { createDb } from '../../src/db/client';
import { reconcileCountersJob } from '../../src/maintenance/content.jobs';
import { unique, type TestUser } from '../helpers/factories';
import { call, readFromAnotherLocation } from '../helpers/request';
import { newUser, postArticle } from './helpers';

// A published tag list walks article_tags' own copy of each article's publication time
// (article_tags.published_at). These tests check after every kind of write that it lists exactly
// what the unfiltered list shows for that tag, in the same order, including ties on publishedAt.

interface Item {
  slug: string;
  tagList: string[];
  publishedAt: string;
}

/** Every article of `path`, walking pages of `limit` (small pages cross page boundaries inside ties). */
async function walk(path: string, token: string | undefined, limit: number) {
  const sep = path.includes('?') ? '&' : '?';
  const items: Item[] = [];
  const counts = new Set<number>();
  for (let offset = 0; ; offset += limit) {
    const res = await call('GET', `${path}${sep}limit=${limit}&offset=${offset}`, { token });
    expect(res.status, path).toBe(200);
    expect(res.d1, path).toBe(1);
    counts.add(res.body.articlesCount);
    items.push(...res.body.articles);
    if (res.body.articles.length < limit) break;
  }
  expect(counts.size, `${path}: one articlesCount on every page`).toBe(1);
  return { items, count: [...counts][0]! };
}

/** Links whose published_at differs from their article's (NULL unless published). */
const driftedLinks = async () =>
  (await env.DB.prepare(
    `SELECT count(*) AS n FROM article_tags at JOIN articles a ON a.id = at.article_id
     WHERE at.published_at IS NOT (CASE WHEN a.status = 'published' THEN a.published_at END)`,
  ).first<{ n: number }>())!.n;

/**
 * Asserts that each tag list equals the unfiltered list filtered by that tag (same items, same order,
 * same fields), anonymous and signed in, with pages of 100 and of 2, and returns the slugs per tag.
 */
async function expectTagListsMatch(step: string, tags: string[], viewer: TestUser) {
  // Lists are checked where they are computed: from a location whose edge cache holds no copy yet.
  readFromAnotherLocation();
  expect(await driftedLinks(), `${step}: article_tags.published_at in step with the articles`).toBe(0);
  const slugs: Record<string, string[]> = {};
  for (const token of [undefined, viewer.token]) {
    const all = (await walk('/api/articles', token, 100)).items;
    for (const tag of tags) {
      const expected = all.filter((a) => a.tagList.includes(tag));
      for (const limit of [100, 2]) {
        const byTag = await walk(`/api/articles?tag=${tag}`, token, limit);
        expect(byTag.items, `${step}: ?tag=${tag} (limit ${limit}, ${token ? 'signed in' : 'anonymous'})`).toEqual(
          expected,
        );
        expect(byTag.count, `${step}: ?tag=${tag} articlesCount`).toBe(expected.length);
      }
      slugs[tag] = expected.map((a) => a.slug);
    }
  }
  return slugs;
}

const put = async (user: TestUser, slug: string, article: Record<string, unknown>) => {
  const res = await call('PUT', `/api/articles/${slug}`, { token: user.token, body: { article } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.article as { slug: string; publishedAt: string | null };
};

describe('GET /api/articles?tag=', () => {
  it('lists what the unfiltered list shows for the tag, in the same order, through every kind of write', async () => {
    const jake = await newUser();
    const jane = await newUser();
    const [a, b] = [unique('tla'), unique('tlb')];
    const check = (step: string) => expectTagListsMatch(step, [a, b], jane);

    const p1 = await postArticle(jake, { tagList: [a, b] });
    const p2 = await postArticle(jane, { tagList: [a], visibility: 'members' });
    const p3 = await postArticle(jake, { tagList: [b] });
    const d1 = await postArticle(jake, { status: 'draft', tagList: [a] });
    // Three articles due at the same instant: published with equal publishedAt (a tie).
    const at = new Date(Date.now() + 3600_000).toISOString();
    const s1 = await postArticle(jake, { status: 'scheduled', publishAt: at, tagList: [a] });
    const s2 = await postArticle(jane, { status: 'scheduled', publishAt: at, tagList: [a, b] });
    const s3 = await postArticle(jake, { status: 'scheduled', publishAt: at, tagList: [b, a] });
    await call('POST', `/api/articles/${p1.slug}/favorite`, { token: jane.token });
    expect(await check('created')).toEqual({ [a]: [p2.slug, p1.slug], [b]: [p3.slug, p1.slug] });

    await put(jake, p3.slug, { tagList: [a] });
    expect(await check('retagged')).toEqual({ [a]: [p3.slug, p2.slug, p1.slug], [b]: [p1.slug] });

    await put(jake, p1.slug, { status: 'draft' });
    expect(await check('published -> draft')).toEqual({ [a]: [p3.slug, p2.slug], [b]: [] });
    // Republishing keeps the first publication time, so the article returns to its place.
    await put(jake, p1.slug, { status: 'published' });
    await check('draft -> published again');
    await put(jake, d1.slug, { status: 'published', tagList: [b, a] });
    expect(await check('draft -> published with new tags')).toEqual({
      [a]: [d1.slug, p3.slug, p2.slug, p1.slug],
      [b]: [d1.slug, p1.slug],
    });

    const p2Renamed = await put(jane, p2.slug, { title: unique('Renamed ') });
    expect(p2Renamed.slug).not.toBe(p2.slug);
    await check('title (and slug) changed');

    await put(jake, p3.slug, { status: 'scheduled', publishAt: new Date(Date.now() + 7200_000).toISOString() });
    await check('published -> scheduled');

    expect(await publishDueArticles(createDb(env.DB), new Date(Date.now() + 3 * 3600_000))).toBeGreaterThanOrEqual(4);
    const due = await check('due articles published');
    // The tie on publishedAt is broken by id, newest first, exactly as in the unfiltered list.
    const published = await Promise.all(
      [s1, s2, s3].map(async (s) => (await call('GET', `/api/articles/${s.slug}`)).body.article.publishedAt),
    );
    expect(new Set(published)).toEqual(new Set([at]));
    expect(due[a]!.filter((slug) => [s1.slug, s2.slug, s3.slug].includes(slug))).toEqual([s3.slug, s2.slug, s1.slug]);
    expect(due[b]!.filter((slug) => [s1.slug, s2.slug, s3.slug].includes(slug))).toEqual([s3.slug, s2.slug]);

    await put(jane, s2.slug, { tagList: [b] });
    await put(jake, s3.slug, { tagList: [], description: 'untagged' });
    await check('tie members retagged');
    await put(jake, s3.slug, { tagList: [a] });
    await put(jake, s1.slug, { title: unique('Tie title ') });
    await check('tie members retagged back and retitled');

    expect((await call('DELETE', `/api/articles/${d1.slug}`, { token: jake.token })).status).toBe(204);
    expect((await call('DELETE', `/api/articles/${s2.slug}`, { token: jane.token })).status).toBe(204);
    await check('deleted');

    // The writes left nothing for the daily reconciliation to repair.
    expect(await reconcileCountersJob({ db: createDb(env.DB), env, now: new Date() })).toMatchObject({
      tagLinkPublishedAtFixed: 0,
    });
  });

  it('keeps its order under parallel edits of the same articles', async () => {
    const jake = await newUser();
    const tag = unique('tlpar');
    const made = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        postArticle(jake, { tagList: [tag], status: i % 2 === 0 ? 'published' : 'draft' }),
      ),
    );
    await Promise.all(
      made.flatMap((article, i) => [
        call('PUT', `/api/articles/${article.slug}`, { token: jake.token, body: { article: { status: 'published' } } }),
        call('PUT', `/api/articles/${article.slug}`, {
          token: jake.token,
          body: { article: { status: i % 3 === 0 ? 'draft' : 'published', tagList: [tag, 'x'] } },
        }),
        call('PUT', `/api/articles/${article.slug}`, { token: jake.token, body: { article: { status: 'draft' } } }),
      ]),
    );
    await expectTagListsMatch('parallel edits', [tag], jake);
  });
});
