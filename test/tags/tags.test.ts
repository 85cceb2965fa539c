import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { unique } from '../helpers/factories';
import { call } from '../helpers/request';
import { newUser, postArticle } from '../articles/helpers';

const countOf = async (name: string) =>
  (await env.DB.prepare('SELECT articles_count AS n FROM tags WHERE name = ?').bind(name).first<{ n: number }>())?.n;

describe('GET /api/tags', () => {
  it('lists every tag in use by a published article, without a top-N cut, in one round trip', async () => {
    const jake = await newUser();
    const prefix = unique('many');
    const names = Array.from({ length: 45 }, (_, i) => `${prefix}-${i}`);
    for (let i = 0; i < names.length; i += 15) await postArticle(jake, { tagList: names.slice(i, i + 15) });
    const res = await call('GET', '/api/tags');
    expect(res.status).toBe(200);
    expect(res.body.tags).toEqual(expect.arrayContaining(names));
    expect(new Set(res.body.tags).size).toBe(res.body.tags.length);
    expect([res.d1, res.kv]).toEqual([1, 0]);
  });

  it('orders tags by use, most used first', async () => {
    const jake = await newUser();
    const rare = unique('rare');
    const common = unique('common');
    await postArticle(jake, { tagList: [rare, common] });
    await postArticle(jake, { tagList: [common] });
    const tags: string[] = (await call('GET', '/api/tags')).body.tags;
    expect(tags.indexOf(common)).toBeLessThan(tags.indexOf(rare));
  });

  it('counts published articles only and drops tags no published article carries', async () => {
    const jake = await newUser();
    const shared = unique('shared');
    const draftOnly = unique('draftonly');
    const a = await postArticle(jake, { tagList: [shared] });
    const b = await postArticle(jake, { tagList: [shared] });
    await postArticle(jake, { tagList: [shared, draftOnly], status: 'draft' });
    await postArticle(jake, {
      tagList: [draftOnly],
      status: 'scheduled',
      publishAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(await countOf(shared)).toBe(2);
    expect(await countOf(draftOnly)).toBe(0);
    let tags: string[] = (await call('GET', '/api/tags')).body.tags;
    expect(tags).toContain(shared);
    expect(tags).not.toContain(draftOnly);

    // Retagging moves the counts; favoriting does not touch them.
    await call('PUT', `/api/articles/${a.slug}`, { token: jake.token, body: { article: { tagList: [draftOnly] } } });
    await call('POST', `/api/articles/${b.slug}/favorite`, { token: jake.token });
    expect([await countOf(shared), await countOf(draftOnly)]).toEqual([1, 1]);
    await call('PUT', `/api/articles/${b.slug}`, { token: jake.token, body: { article: { tagList: [] } } });
    expect(await countOf(shared)).toBe(0);
    tags = (await call('GET', '/api/tags')).body.tags;
    expect(tags).not.toContain(shared);
    expect(tags).toContain(draftOnly);
  });

  it('sends an ETag and answers a matching If-None-Match with 304', async () => {
    const first = await call('GET', '/api/tags');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\//);
    const again = await call('GET', '/api/tags', { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.body).toBeNull();
  });
});
