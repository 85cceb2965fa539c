import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { RECONCILE_CHUNK } from '../../src/maintenance/content.jobs';
import { call } from '../helpers/request';
import { DAILY, insertUser, jobResult, runCron } from './cron';

const NOW = Date.parse('2030-03-01T03:17:00.000Z');

let seq = 0;

const bumpPublished = (n: number) =>
  env.DB.prepare("UPDATE site_counters SET value = value + ? WHERE name = 'published_articles'").bind(n);
const publishedCounter = async () =>
  (await env.DB.prepare("SELECT value FROM site_counters WHERE name = 'published_articles'").first<{ value: number }>())
    ?.value;
const publishedActual = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM articles WHERE status = 'published'").first<{ n: number }>())!.n;

/** Inserts an article row directly, keeping the published-articles counter right (as the service does). */
async function insertArticle(
  authorId: string,
  status: 'published' | 'draft' | 'scheduled',
  options: { id?: number; favoritesCount?: number } = {},
) {
  const slug = `maint-${Date.now().toString(36)}-${++seq}-${Math.floor(Math.random() * 1e9).toString(36)}`;
  if (status === 'published') await bumpPublished(1).run();
  const row = await env.DB.prepare(
    `INSERT INTO articles (id, slug, title, description, body, author_id, status, published_at, favorites_count, created_at, updated_at)
     VALUES (?, ?, 'T', 'D', 'B', ?, ?, ?, ?, ?, ?) RETURNING id`,
  )
    .bind(
      options.id ?? null,
      slug,
      authorId,
      status,
      status === 'published' ? NOW : null,
      options.favoritesCount ?? 0,
      NOW,
      NOW,
    )
    .first<{ id: number }>();
  return row!.id;
}

async function insertTag(articlesCount: number) {
  const row = await env.DB.prepare('INSERT INTO tags (name, articles_count) VALUES (?, ?) RETURNING id')
    .bind(`tag-${Date.now().toString(36)}-${++seq}-${Math.floor(Math.random() * 1e9).toString(36)}`, articlesCount)
    .first<{ id: number }>();
  return row!.id;
}

/** Links an article to a tag, with the publication time the writes give the link (NULL unless published). */
const link = (articleId: number, tagId: number) =>
  env.DB.prepare(
    `INSERT INTO article_tags (article_id, tag_id, position, published_at)
     VALUES (?1, ?2, 0, (SELECT published_at FROM articles WHERE id = ?1 AND status = 'published'))`,
  )
    .bind(articleId, tagId)
    .run();
const favorite = (userId: string, articleId: number) =>
  env.DB.prepare('INSERT INTO favorites (user_id, article_id, created_at) VALUES (?, ?, ?)')
    .bind(userId, articleId, NOW)
    .run();

const favoritesCount = async (id: number) =>
  (await env.DB.prepare('SELECT favorites_count AS n FROM articles WHERE id = ?').bind(id).first<{ n: number }>())!.n;
const linkPublishedAt = async (articleId: number, tagId: number) =>
  (await env.DB.prepare('SELECT published_at AS at FROM article_tags WHERE article_id = ? AND tag_id = ?')
    .bind(articleId, tagId)
    .first<{ at: number | null }>())!.at;
const tagCount = async (id: number) =>
  (await env.DB.prepare('SELECT articles_count AS n FROM tags WHERE id = ?').bind(id).first<{ n: number }>())!.n;

/** A consistent little graph: 2 published articles and a draft, 1 tag on all three, 3 favorites. */
async function consistentFixture() {
  const [a, b, c] = [await insertUser(NOW), await insertUser(NOW), await insertUser(NOW)];
  const first = await insertArticle(a, 'published', { favoritesCount: 2 });
  const second = await insertArticle(a, 'published', { favoritesCount: 1 });
  const draft = await insertArticle(b, 'draft');
  const tag = await insertTag(2);
  for (const article of [first, second, draft]) await link(article, tag);
  await favorite(b, first);
  await favorite(c, first);
  await favorite(c, second);
  return { first, second, draft, tag };
}

describe('daily cron: counter reconciliation', () => {
  it('detects drifted favorites_count and tags.articles_count, logs them and repairs them', async () => {
    const { first, second, draft, tag } = await consistentFixture();
    // A far id puts one drifted row in a later reconciliation chunk.
    const author = await insertUser(NOW);
    const far = await insertArticle(author, 'published', { id: RECONCILE_CHUNK * 2 + 7 });
    await favorite(await insertUser(NOW), far);
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
    const tag = await insertTag(0);
    // More published articles than one reconciliation chunk holds, all carrying one tag.
    const inserted = await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO articles (slug, title, description, body, author_id, status, published_at, created_at, updated_at)
       SELECT 'bulk-' || ? || '-' || i, 'T', 'D', 'B', ?, 'published', ?, ?, ? FROM n RETURNING id`,
    )
      .bind(RECONCILE_CHUNK + 10, seq++, author, NOW, NOW, NOW)
      .all<{ id: number }>();
    const ids = inserted.results.map((r) => r.id);
    await bumpPublished(ids.length).run();
    await env.DB.prepare(
      'INSERT INTO article_tags (article_id, tag_id, position, published_at) SELECT id, ?, 0, published_at FROM articles WHERE author_id = ?',
    )
      .bind(tag, author)
      .run();
    const last = ids.at(-1)!;
    await env.DB.prepare('UPDATE articles SET favorites_count = 5 WHERE id = ?').bind(last).run();

    const logs = await runCron(DAILY, NOW);

    expect(await favoritesCount(last)).toBe(0);
    expect(await tagCount(tag)).toBe(RECONCILE_CHUNK + 10);
    expect(jobResult(logs, 'reconcileCounters')).toMatchObject({ favoritesCountFixed: 1, tagArticlesCountFixed: 1 });
  });

  it('detects drifted article_tags.published_at (the tag list order), logs it and repairs it', async () => {
    const { first, second, draft, tag } = await consistentFixture();
    const other = await insertTag(2);
    await link(first, other);
    await link(second, other);
    const author = await insertUser(NOW);
    const far = await insertArticle(author, 'published', { id: RECONCILE_CHUNK * 20 + 9 });
    const farTag = await insertTag(1);
    await link(far, farTag);
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
    });
    const before = await snapshot();

    const logs = await runCron(DAILY, NOW);

    expect(await snapshot()).toEqual(before);
    expect(logs.filter((l) => l.message === 'counter drift repaired')).toEqual([]);
    expect(jobResult(logs, 'reconcileCounters')).toMatchObject({
      favoritesCountFixed: 0,
      tagArticlesCountFixed: 0,
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
