/// <reference types="vite/client" />
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { CRON_JOBS } from '../../src/maintenance/scheduled';
import { createArticle } from '../helpers/content';
import wranglerToml from '../../wrangler.toml?raw';
import { DAILY, EVERY_5_MINUTES, insertUser, runCron } from './cron';

const NOW = Date.parse('2030-07-01T00:00:00.000Z');

describe('scheduled handler', () => {
  it('maps exactly the cron triggers declared in wrangler.toml', () => {
    const declared = /^crons\s*=\s*\[(.*)\]/m.exec(wranglerToml)?.[1];
    const crons = [...(declared ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect(crons.sort()).toEqual(Object.keys(CRON_JOBS).sort());
    expect(crons).toEqual(expect.arrayContaining([EVERY_5_MINUTES, DAILY]));
  });

  it('logs an unknown cron and runs nothing', async () => {
    const userId = await insertUser(NOW);
    // Scheduled an hour ahead, so due a minute before NOW; then a drifted favorites count.
    const article = await createArticle(userId, { status: 'scheduled', at: NOW - 3_660_000 });
    await env.DB.prepare('UPDATE articles SET favorites_count = 7 WHERE id = ?').bind(article.id).run();
    const state = () =>
      env.DB.prepare('SELECT status, favorites_count, published_at FROM articles WHERE id = ?')
        .bind(article.id)
        .first();
    const before = await state();

    const logs = await runCron('0 12 * * *', NOW);

    expect(logs).toEqual([
      expect.objectContaining({ level: 'error', message: 'no jobs for cron', cron: '0 12 * * *' }),
    ]);
    // Neither the publisher nor the counter repair touched the due, drifted article.
    expect(await state()).toEqual(before);
  });
});
