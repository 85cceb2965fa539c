import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { RECONCILE_CHUNK } from '../../src/maintenance/content.jobs';
import { createArticle, favorite, seedPublishedArticles } from '../helpers/content';
import { unique } from '../helpers/factories';
import { call } from '../helpers/request';
import { DAILY, insertUser, jobResult, runCron } from './cron';

const NOW = Date.parse('2030-03-01T03:17:00.000Z');

const publishedCounter = async () =>
  (await env.DB.prepare("SELECT value FROM site_counters WHERE name = 'published_articles'").first<{ value: number }>())
    ?.value;
const publishedActual = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM articles WHERE status = 'published'").first<{ n: number }>())!.n;

const tagId = async (name: string) =>
  (await env.DB.prepare('SELECT id FROM tags WHERE name = ?').bind(name).first<{ id: number }>())!.id;

/** Makes the next article id `id` (to place an article in a later reconciliation chunk). */
const nextArticleId = (id: number) =>
  env.DB.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'articles'")
    .bind(id - 1)
    .run();

/** A published article at NOW through the article service, with its tags; returns its id and slug. */
const publishedArticle = (authorId: string, tagList: string[]) => createArticle(authorId, { tagList, at: NOW });

const favoritesCount = async (id: number) =>
  (await env.DB.prepare('SELECT favorites_count AS n FROM articles WHERE id = ?').bind(id).first<{ n: number }>())!.n;
const linkPublishedAt = async (articleId: number, tagId: number) =>
  (await env.DB.prepare('SELECT published_at AS at FROM article_tags WHERE article_id = ? AND tag_id = ?')
    .bind(articleId, tagId)
    .first<{ at: number | null }>())!.at;
const tagCount = async (id: number) =>
  (await env.DB.prepare('SELECT articles_count AS n FROM tags WHERE id = ?').bind(id).first<{ n: number }>())!.n;

/**
 * A consistent little graph, written through the services: 2 published articles and a draft, 1 tag
 * on all three (and `other` on the two published ones), 3 favorites.
 */
async function consistentFixture() {
  const [a, b, c] = [await insertUser(NOW), await insertUser(NOW), await insertUser(NOW)];
  const tagName = unique('tag');
  const otherName = unique('other');
  const first = await publishedArticle(a, [tagName, otherName]);
  const second = await publishedArticle(a, [tagName, otherName]);
  const draft = await createArticle(b, { status: 'draft', tagList: [tagName], at: NOW });
  await favorite(b, first.slug, NOW);
  await favorite(c, first.slug, NOW);
  await favorite(c, second.slug, NOW);
  return {
    first: first.id,
    second: second.id,
    draft: draft.id,
    tag: await tagId(tagName),
    other: await tagId(otherName),
  };
}

describe('daily cron: counter reconciliation', () => {
  it('detects drifted favorites_count and tags.articles_count, logs them and repairs them', async () => {
    const { first, second, draft, tag } = await consistentFixture();
    // A far id puts one drifted row in a later reconciliation chunk.
    await nextArticleId(RECONCILE_CHUNK * 2 + 7);
    const farArticle = await publishedArticle(await insertUser(NOW), []);
    const far = farArticle.id;
    await favorite(await insertUser(NOW), farArticle.slug, NOW);
    // Corrupt the counters directly.
    await env.DB.batch([
      env.DB.prepare('UPDATE articles SET favorites_count = 9 WHERE id = ?').bind(first),
      env.DB.prepare('UPDATE articles SET favorites_count = 0 WHERE id = ?').bind(far),
      // Counting the draft is a typical drift: the tag must count published articles only.
      env.DB.prepare('UPDATE tags SET articles_count = 3 WHERE id = ?').bind(tag),
    ]);

    const logs = await runCron(DAILY, NOW);

    expect(await favoritesCount(first)).toBe(2);
    expect(await favoritesCount(second)).toBe(1);
    expect(await favoritesCount(draft)).toBe(0);
    expect(await favoritesCount(far)).toBe(1);
    expect(await tagCount(tag)).toBe(2);

    const favoritesDrift = logs.find(
      (l) => l.message === 'counter drift repaired' && l.counter === 'articles.favorites_count',
    );
    expect(favoritesDrift).toMatchObject({ level: 'warn', mismatches: 2 });
    expect(String(favoritesDrift?.sampleIds).split(',')).toEqual([String(first), String(far)]);
    expect(favoritesDrift?.sample).toBe(`${first}:9->2,${far}:0->1`);
    const tagDrift = logs.find((l) => l.message === 'counter drift repaired' && l.counter === 'tags.articles_count');
    expect(tagDrift).toMatchObject({ level: 'warn', mismatches: 1, sampleIds: String(tag), sample: `${tag}:3->2` });
    expect(jobResult(logs, 'reconcileCounters')).toMatchObject({ favoritesCountFixed: 2, tagArticlesCountFixed: 1 });
  });

  it('walks every chunk of ids, so drift past the first chunk is repaired too', async () => {
    const author = await insertUser(NOW);
    const tagName = unique('bulk');
    // More published articles than one reconciliation chunk holds, all carrying one tag.
    await seedPublishedArticles(author, RECONCILE_CHUNK + 10, tagName, NOW - 86_400_000);
    const tag = await tagId(tagName);
    const last = (await env.DB.prepare('SELECT max(id) AS id FROM articles WHERE author_id = ?')
      .bind(author)
      .first<{ id: number }>())!.id;
    // Drift: the last article's favorites (past the first chunk) and the tag's count (counted over every chunk).
    await env.DB.batch([
      env.DB.prepare('UPDATE articles SET favorites_count = 5 WHERE id = ?').bind(last),
      env.DB.prepare('UPDATE tags SET articles_count = 0 WHERE id = ?').bind(tag),
    ]);

    const logs = await runCron(DAILY, NOW);

    expect(await favoritesCount(last)).toBe(0);
    expect(await tagCount(tag)).toBe(RECONCILE_CHUNK + 10);
    expect(jobResult(logs, 'reconcileCounters')).toMatchObject({ favoritesCountFixed: 1, tagArticlesCountFixed: 1 });
  });

  it('detects drifted article_tags.published_at (the tag list order), logs it and repairs it', async () => {
    const { first, second, draft, tag, other } = await consistentFixture();
    await nextArticleId(RECONCILE_CHUNK * 20 + 9);
    const farTagName = unique('far');
    const far = (await publishedArticle(await insertUser(NOW), [farTagName])).id;
    const farTag = await tagId(farTagName);
    const wrongTime = NOW - 86_400_000;
    await env.DB.batch([
      // Both links of a published article with a stale time, a published article's link lost, a
      // draft's link listed as published, and one in a later reconciliation chunk.
      env.DB.prepare('UPDATE article_tags SET published_at = ? WHERE article_id = ?').bind(wrongTime, first),
      env.DB.prepare('UPDATE article_tags SET published_at = NULL WHERE article_id = ? AND tag_id = ?').bind(
        second,
        other,
      ),
      env.DB.prepare('UPDATE article_tags SET published_at = ? WHERE article_id = ?').bind(NOW, draft),
      env.DB.prepare('UPDATE article_tags SET published_at = NULL WHERE article_id = ?').bind(far),
    ]);

    const logs = await runCron(DAILY, NOW);

    expect(
      await Promise.all([
        linkPublishedAt(first, tag),
        linkPublishedAt(first, other),
        linkPublishedAt(second, tag),
        linkPublishedAt(second, other),
        linkPublishedAt(draft, tag),
        linkPublishedAt(far, farTag),
      ]),
    ).toEqual([NOW, NOW, NOW, NOW, null, NOW]);
    const drift = logs.find((l) => l.message === 'counter drift repaired' && l.counter === 'article_tags.published_at');
    expect(drift).toMatchObject({ level: 'warn', mismatches: 5, sampleIds: [first, second, draft, far].join(',') });
    expect(drift?.sample).toBe(
      `${first}:${wrongTime}->${NOW},${second}:null->${NOW},${draft}:${NOW}->null,${far}:null->${NOW}`,
    );
    expect(jobResult(logs, 'reconcileCounters')).toMatchObject({
      tagLinkPublishedAtFixed: 5,
      tagArticlesCountFixed: 0,
    });
    const again = await runCron(DAILY, NOW);
    expect(jobResult(again, 'reconcileCounters')).toMatchObject({ tagLinkPublishedAtFixed: 0 });
  });

  it('detects drifted users.published_articles_count (the feed and ?author= counts), logs it and repairs it in every chunk of user ids', async () => {
    const author = await insertUser(NOW);
    await publishedArticle(author, []);
    await publishedArticle(author, []);
    await createArticle(author, { status: 'draft', at: NOW });
    // More users than one reconciliation chunk holds, with ids that sort before insertUser's, so the
    // next user (and its drift) lands past the first chunk of user ids.
    await env.DB.prepare(
      `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
       INSERT INTO users (id, email, username, password_hash, created_at, updated_at)
       SELECT 'usr_0' || printf('%06d', i), 'filler' || i || ?, 'filler' || i || ?, 'x', ?, ? FROM seq`,
    )
      .bind(RECONCILE_CHUNK, `@${unique('f')}.example.com`, unique('_'), NOW, NOW)
      .run();
    const late = await insertUser(NOW);
    await publishedArticle(late, []);
    const filler = 'usr_0000003';
    await env.DB.batch([
      // Counting the draft, a lost increment, a count on an account without articles.
      env.DB.prepare('UPDATE users SET published_articles_count = 3 WHERE id = ?').bind(author),
      env.DB.prepare('UPDATE users SET published_articles_count = 0 WHERE id = ?').bind(late),
      env.DB.prepare('UPDATE users SET published_articles_count = 4 WHERE id = ?').bind(filler),
    ]);
    const listedCount = async (username: string) =>
      (await call('GET', `/api/articles?author=${username}&limit=1&_=${unique()}`)).body.articlesCount;
    expect(await listedCount(author)).toBe(3);

    const logs = await runCron(DAILY, NOW);

    const stored = async (id: string) =>
      (await env.DB.prepare('SELECT published_articles_count AS n FROM users WHERE id = ?')
        .bind(id)
        .first<{ n: number }>())!.n;
    expect([await stored(author), await stored(late), await stored(filler)]).toEqual([2, 1, 0]);
    const drift = logs.find(
      (l) => l.message === 'counter drift repaired' && l.counter === 'users.published_articles_count',
    );
    expect(drift).toMatchObject({ level: 'warn', mismatches: 3 });
    expect(new Set(String(drift?.sample).split(','))).toEqual(
      new Set([`${filler}:4->0`, `${author}:3->2`, `${late}:0->1`]),
    );
    expect(jobResult(logs, 'reconcileCounters')).toMatchObject({ authorPublishedCountFixed: 3 });
    expect(await listedCount(author)).toBe(2);
    const again = await runCron(DAILY, NOW);
    expect(jobResult(again, 'reconcileCounters')).toMatchObject({ authorPublishedCountFixed: 0 });
  });

  it('changes nothing when the counters are right', async () => {
    await consistentFixture();
    const snapshot = async () => ({
      articles: (await env.DB.prepare('SELECT id, favorites_count, updated_at FROM articles ORDER BY id').all())
        .results,
      tags: (await env.DB.prepare('SELECT id, articles_count FROM tags ORDER BY id').all()).results,
      links: (
        await env.DB.prepare(
          'SELECT article_id, tag_id, published_at FROM article_tags ORDER BY article_id, tag_id',
        ).all()
      ).results,
      siteCounters: (await env.DB.prepare('SELECT name, value FROM site_counters ORDER BY name').all()).results,
      authorCounts: (await env.DB.prepare('SELECT id, published_articles_count FROM users ORDER BY id').all()).results,
    });
    const before = await snapshot();

    const logs = await runCron(DAILY, NOW);

    expect(await snapshot()).toEqual(before);
    expect(logs.filter((l) => l.message === 'counter drift repaired')).toEqual([]);
    expect(jobResult(logs, 'reconcileCounters')).toMatchObject({
      favoritesCountFixed: 0,
      tagArticlesCountFixed: 0,
      authorPublishedCountFixed: 0,
      tagLinkPublishedAtFixed: 0,
      publishedArticlesFixed: 0,
    });
  });

  it('detects a drifted site_counters.published_articles, logs it and repairs it', async () => {
    await consistentFixture();
    const actual = await publishedActual();
    expect(await publishedCounter()).toBe(actual);
    await env.DB.prepare("UPDATE site_counters SET value = value + 40 WHERE name = 'published_articles'").run();

    const logs = await runCron(DAILY, NOW);

    expect(await publishedCounter()).toBe(actual);
    const drift = logs.find(
      (l) => l.message === 'counter drift repaired' && l.counter === 'site_counters.published_articles',
    );
    expect(drift).toMatchObject({
      level: 'warn',
      mismatches: 1,
      sampleIds: 'published_articles',
      sample: `published_articles:${actual + 40}->${actual}`,
    });
    expect(jobResult(logs, 'reconcileCounters')).toMatchObject({ publishedArticlesFixed: 1 });
    // Repaired: the unfiltered list counts right again, and the next run finds nothing.
    expect((await call('GET', '/api/articles?limit=1')).body.articlesCount).toBe(actual);
    const again = await runCron(DAILY, NOW);
    expect(jobResult(again, 'reconcileCounters')).toMatchObject({ publishedArticlesFixed: 0 });
  });

  it('recreates a missing site_counters row', async () => {
    await consistentFixture();
    const actual = await publishedActual();
    await env.DB.prepare("DELETE FROM site_counters WHERE name = 'published_articles'").run();

    const logs = await runCron(DAILY, NOW);

    expect(await publishedCounter()).toBe(actual);
    expect(logs.find((l) => l.counter === 'site_counters.published_articles')).toMatchObject({
      sample: `published_articles:missing->${actual}`,
    });
  });

  it('runs PRAGMA optimize after the other daily jobs', async () => {
    const logs = await runCron(DAILY, NOW);
    const finished = logs.filter((l) => l.message === 'job finished').map((l) => l.job);
    expect(finished).toEqual(['purge', 'reconcileCounters', 'optimize']);
    expect(jobResult(logs, 'optimize')).toMatchObject({ optimized: 1 });
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
  });
});
