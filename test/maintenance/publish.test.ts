import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { registerUser, unique } from '../helpers/factories';
import { call } from '../helpers/request';
import { DAILY, EVERY_5_MINUTES, jobResult, runCron } from './cron';

const MINUTE = 60_000;
const DAY_MS = 24 * 60 * MINUTE;

async function scheduleArticle(publishAt: number) {
  const author = await registerUser();
  const tag = unique('sched');
  const res = await call('POST', '/api/articles', {
    token: author.token,
    body: {
      article: {
        title: `Scheduled ${tag}`,
        description: 'Later',
        body: 'Worth the wait',
        tagList: [tag],
        status: 'scheduled',
        publishAt: new Date(publishAt).toISOString(),
      },
    },
  });
  expect(res.status).toBe(201);
  return { author, tag, slug: res.body.article.slug as string };
}

const row = (slug: string) =>
  env.DB.prepare('SELECT status, publish_at, published_at FROM articles WHERE slug = ?')
    .bind(slug)
    .first<{ status: string; publish_at: number | null; published_at: number | null }>();
const tagCount = async (name: string) =>
  (await env.DB.prepare('SELECT articles_count AS n FROM tags WHERE name = ?').bind(name).first<{ n: number }>())?.n;

describe('*/5 cron: scheduled publishing', () => {
  it('publishes a scheduled article at its publishAt and not before', async () => {
    // Cron fires on 5-minute boundaries; publishAt sits on one, an hour ahead.
    const publishAt = Math.ceil((Date.now() + 60 * MINUTE) / (5 * MINUTE)) * 5 * MINUTE;
    const { tag, slug } = await scheduleArticle(publishAt);
    expect((await call('GET', `/api/articles/${slug}`)).status).toBe(404);

    const early = await runCron(EVERY_5_MINUTES, publishAt - 5 * MINUTE);
    expect(await row(slug)).toMatchObject({ status: 'scheduled', published_at: null });
    expect(jobResult(early, 'publishScheduled')).toMatchObject({ published: 0 });
    expect(await tagCount(tag)).toBe(0);

    const onTime = await runCron(EVERY_5_MINUTES, publishAt);
    expect(jobResult(onTime, 'publishScheduled')).toMatchObject({ published: 1 });
    expect(await row(slug)).toMatchObject({ status: 'published', publish_at: null, published_at: publishAt });

    const read = await call('GET', `/api/articles/${slug}`);
    expect(read.status).toBe(200);
    expect(read.body.article).toMatchObject({ slug, status: 'published', tagList: [tag] });
    const listed = await call('GET', `/api/articles?tag=${tag}`);
    expect(listed.body.articlesCount).toBe(1);
    expect(listed.body.articles[0].slug).toBe(slug);
    expect((await call('GET', '/api/articles?q=worth')).body.articles.map((a: { slug: string }) => a.slug)).toContain(
      slug,
    );
    expect(await tagCount(tag)).toBe(1);
  });

  it('publishes once: a later run leaves the article and the tag count alone', async () => {
    const publishAt = Math.ceil((Date.now() + 60 * MINUTE) / (5 * MINUTE)) * 5 * MINUTE;
    const { tag, slug } = await scheduleArticle(publishAt);

    await runCron(EVERY_5_MINUTES, publishAt + 5 * MINUTE);
    const published = await row(slug);
    const again = await runCron(EVERY_5_MINUTES, publishAt + 10 * MINUTE);

    expect(await row(slug)).toEqual(published);
    expect(published).toMatchObject({ status: 'published', published_at: publishAt });
    expect(jobResult(again, 'publishScheduled')).toMatchObject({ published: 0 });
    expect(await tagCount(tag)).toBe(1);
    // The publisher keeps the tag counter right: the daily reconciliation finds no drift for it.
    const daily = await runCron(DAILY, publishAt + DAY_MS);
    expect(daily.filter((l) => l.message === 'counter drift repaired')).toEqual([]);
  });
});
