import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { unique } from '../helpers/factories';
import { call } from '../helpers/request';
import { countRows, userId } from '../helpers/content';
import { newUser, postArticle } from './helpers';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('POST /api/articles', () => {
  it('creates an article (201) with the RealWorld shape and Folio fields', async () => {
    const jake = await newUser();
    const title = unique('How to train your dragon ');
    const res = await call('POST', '/api/articles', {
      token: jake.token,
      body: {
        article: {
          title,
          description: 'Ever wonder how?',
          body: 'You have to believe',
          tagList: ['dragons', 'training'],
        },
      },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toContain('application/json');
    const a = res.body.article;
    expect(a).toEqual({
      slug: expect.stringMatching(/^how-to-train-your-dragon-/),
      title,
      description: 'Ever wonder how?',
      body: 'You have to believe',
      tagList: ['dragons', 'training'],
      createdAt: expect.stringMatching(ISO_MS),
      updatedAt: expect.stringMatching(ISO_MS),
      favorited: false,
      favoritesCount: 0,
      author: { username: jake.username, bio: null, image: null, following: false },
      status: 'published',
      visibility: 'public',
      publishAt: null,
      publishedAt: a.createdAt,
      price: null,
      currency: null,
      locked: false,
    });
    expect(a.updatedAt).toBe(a.createdAt);
    expect(res.d1).toBe(1);
  });

  it('trims tags, drops blanks and duplicates, and keeps the order sent', async () => {
    const jake = await newUser();
    const a = await postArticle(jake, { tagList: [' zeta ', 'alpha', '', '   ', 'zeta', 'Alpha', 'mid'] });
    expect(a.tagList).toEqual(['zeta', 'alpha', 'Alpha', 'mid']);
    const fetched = await call('GET', `/api/articles/${a.slug}`);
    expect(fetched.body.article.tagList).toEqual(['zeta', 'alpha', 'Alpha', 'mid']);
  });

  it('defaults tagList to []', async () => {
    const jake = await newUser();
    const a = await postArticle(jake);
    expect(a.tagList).toEqual([]);
  });

  it('gives duplicate titles distinct slugs', async () => {
    const jake = await newUser();
    const title = unique('Same title ');
    const first = await postArticle(jake, { title });
    const second = await postArticle(jake, { title });
    const third = await postArticle(await newUser(), { title });
    expect(first.slug).toBe(title.toLowerCase().replace(/ /g, '-'));
    expect(second.slug).toMatch(new RegExp(`^${first.slug}-[a-z0-9]{6}$`));
    expect(new Set([first.slug, second.slug, third.slug]).size).toBe(3);
    for (const a of [first, second, third]) {
      expect((await call('GET', `/api/articles/${a.slug}`)).body.article.slug).toBe(a.slug);
    }
  });

  it('gives parallel articles with the same title distinct slugs', async () => {
    const jake = await newUser();
    const title = unique('Parallel ');
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map(() =>
        call('POST', '/api/articles', { token: jake.token, body: { article: { title, description: 'd', body: 'b' } } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => r.body.article.slug)).size).toBe(5);
  });

  it('never gives the slug "feed", which would be shadowed by the feed route', async () => {
    const jake = await newUser();
    const a = await postArticle(jake, { title: 'Feed' });
    expect(a.slug).toMatch(/^feed-[a-z0-9]{6}$/);
    expect((await call('GET', `/api/articles/${a.slug}`)).status).toBe(200);
  });

  it('slugifies accents and symbols, and titles without letters', async () => {
    const jake = await newUser();
    expect((await postArticle(jake, { title: `Crème Brûlée: ${unique('x')}!` })).slug).toMatch(
      /^creme-brulee-x[a-z0-9]+$/,
    );
    expect((await postArticle(jake, { title: '!!!' })).slug).toMatch(/^article(-[a-z0-9]{6})?$/);
  });

  it('returns 422 "can\'t be blank" for blank or missing title, description and body', async () => {
    const jake = await newUser();
    const res = await call('POST', '/api/articles', {
      token: jake.token,
      body: { article: { title: '  ', body: '' } },
    });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      errors: { title: ["can't be blank"], description: ["can't be blank"], body: ["can't be blank"] },
    });
    const missing = await call('POST', '/api/articles', { token: jake.token, body: {} });
    expect(missing.status).toBe(422);
    expect(missing.body.errors.article).toEqual(["can't be blank"]);
  });

  it('returns 422 for a tagList that is not an array of strings', async () => {
    const jake = await newUser();
    const answers = [];
    for (const tagList of [null, 'dragons', [1, 2]]) {
      const res = await call('POST', '/api/articles', {
        token: jake.token,
        body: { article: { title: 't', description: 'd', body: 'b', tagList } },
      });
      answers.push([res.status, res.body]);
    }
    expect(answers).toEqual([
      [422, { errors: { tagList: ["can't be blank"] } }],
      [422, { errors: { tagList: ['must be an array of strings'] } }],
      [422, { errors: { tagList: ['must be an array of strings'] } }],
    ]);
  });

  it('returns 401 without a token, before validating the body', async () => {
    const res = await call('POST', '/api/articles', { body: { article: {} } });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: { token: ['is missing'] } });
  });

  it('limits new articles to 30 per account per hour: the 31st is a 429 that leaves nothing behind', async () => {
    // ARTICLE_CREATE_LIMIT_PER_HOUR in wrangler.toml. Time is fixed mid-window so the hour cannot turn.
    const hour = 3_600_000;
    vi.useFakeTimers({ toFake: ['Date'], now: Math.floor(Date.now() / hour) * hour + 60_000 });
    try {
      const jake = await newUser();
      const other = await newUser();
      const create = (user: typeof jake, title: string, headers?: Record<string, string>) =>
        call('POST', '/api/articles', {
          token: user.token,
          headers,
          body: { article: { title, description: 'd', body: 'b', tagList: [unique('limit')] } },
        });
      for (let i = 0; i < 30; i++) expect((await create(jake, unique('Post '))).status).toBe(201);

      const title = unique('One too many ');
      const refused = await create(jake, title);
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ errors: { rate: ['too many requests, try again later'] } });
      expect(Number(refused.headers.get('Retry-After'))).toBe(3600 - 60);
      expect(refused.d1).toBe(1);
      expect((await create(jake, title, { 'Idempotency-Key': unique('k') })).status).toBe(429);
      // Nothing of the refused article: no row, no tag, no search row, no webhook, no idempotency claim.
      const jakeId = await userId(jake.username);
      expect(await countRows('SELECT 1 FROM articles WHERE author_id = ?', jakeId)).toBe(30);
      expect(await countRows('SELECT 1 FROM articles WHERE title = ?', title)).toBe(0);
      expect(await countRows('SELECT 1 FROM idempotency_keys WHERE user_id = ?', jakeId)).toBe(0);
      expect(await countRows('SELECT 1 FROM users WHERE id = ? AND published_articles_count = 30', jakeId)).toBe(1);
      expect((await call('GET', `/api/articles?author=${jake.username}&limit=1`)).body.articlesCount).toBe(30);
      // Per account: others still publish.
      expect((await create(other, unique('Other '))).status).toBe(201);

      // The next hour opens a new window.
      vi.setSystemTime(Date.now() + hour);
      expect((await create(jake, unique('Next hour '))).status).toBe(201);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('GET /api/articles/{slug}', () => {
  it('returns the article to anonymous readers', async () => {
    const jake = await newUser();
    const a = await postArticle(jake, { body: 'The full body' });
    const res = await call('GET', `/api/articles/${a.slug}`);
    expect(res.status).toBe(200);
    expect(res.body.article).toMatchObject({ slug: a.slug, body: 'The full body', favorited: false, locked: false });
    expect(res.body.article.author.following).toBe(false);
  });

  it('returns 404 for an unknown slug', async () => {
    const res = await call('GET', '/api/articles/no-such-article');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: { article: ['not found'] } });
  });
});

describe('PUT /api/articles/{slug}', () => {
  it('updates fields, regenerates the slug from a new title, and keeps createdAt', async () => {
    const jake = await newUser();
    const a = await postArticle(jake, { tagList: ['keep'] });
    // A second later, by the clock the Worker reads (timers stay real, so I/O is unaffected).
    const later = new Date(Date.parse(a.updatedAt) + 1000);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(later);
    const title = unique('Did you train your dragon ');
    const res = await call('PUT', `/api/articles/${a.slug}`, {
      token: jake.token,
      body: { article: { title, body: 'New body' } },
    }).finally(() => vi.useRealTimers());
    expect(res.status).toBe(200);
    const u = res.body.article;
    expect(u).toMatchObject({ title, body: 'New body', description: a.description, tagList: ['keep'] });
    expect(u.slug).toBe(title.toLowerCase().replace(/ /g, '-'));
    expect(u.createdAt).toBe(a.createdAt);
    expect(u.updatedAt).toBe(later.toISOString());
    expect(res.d1).toBeLessThanOrEqual(2);

    expect((await call('GET', `/api/articles/${a.slug}`)).status).toBe(404);
    expect((await call('GET', `/api/articles/${u.slug}`)).body.article.title).toBe(title);
  });

  it('keeps the slug when the new title slugifies to the same slug', async () => {
    const jake = await newUser();
    const title = unique('Stable slug ');
    const a = await postArticle(jake, { title });
    const res = await call('PUT', `/api/articles/${a.slug}`, {
      token: jake.token,
      body: { article: { title: `${title.toUpperCase()}!` } },
    });
    expect(res.body.article.slug).toBe(a.slug);
  });

  it('gives a new title that is already taken a suffixed slug', async () => {
    const jake = await newUser();
    const taken = await postArticle(jake);
    const other = await postArticle(jake);
    const res = await call('PUT', `/api/articles/${other.slug}`, {
      token: jake.token,
      body: { article: { title: taken.title } },
    });
    expect(res.status).toBe(200);
    expect(res.body.article.slug).toMatch(new RegExp(`^${taken.slug}-[a-z0-9]{6}$`));
  });

  it('keeps tags when tagList is omitted, clears them with [], refuses null', async () => {
    const jake = await newUser();
    const a = await postArticle(jake, { tagList: ['one', 'two'] });
    const kept = await call('PUT', `/api/articles/${a.slug}`, {
      token: jake.token,
      body: { article: { description: 'changed' } },
    });
    expect(kept.body.article.tagList).toEqual(['one', 'two']);
    const replaced = await call('PUT', `/api/articles/${a.slug}`, {
      token: jake.token,
      body: { article: { tagList: ['two', ' three ', 'two'] } },
    });
    expect(replaced.body.article.tagList).toEqual(['two', 'three']);
    const nulled = await call('PUT', `/api/articles/${a.slug}`, {
      token: jake.token,
      body: { article: { tagList: null } },
    });
    expect(nulled.status).toBe(422);
    expect(nulled.body).toEqual({ errors: { tagList: ["can't be blank"] } });
    const cleared = await call('PUT', `/api/articles/${a.slug}`, {
      token: jake.token,
      body: { article: { tagList: [] } },
    });
    expect(cleared.body.article.tagList).toEqual([]);
    const links = await env.DB.prepare(
      'SELECT count(*) AS n FROM article_tags WHERE article_id = (SELECT id FROM articles WHERE slug = ?)',
    )
      .bind(a.slug)
      .first<{ n: number }>();
    expect(links?.n).toBe(0);
  });

  it('returns 422 for a blank title', async () => {
    const jake = await newUser();
    const a = await postArticle(jake);
    const res = await call('PUT', `/api/articles/${a.slug}`, { token: jake.token, body: { article: { title: ' ' } } });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ errors: { title: ["can't be blank"] } });
  });

  it("returns 403 for another user's article and changes nothing", async () => {
    const jake = await newUser();
    const mallory = await newUser();
    const a = await postArticle(jake);
    const res = await call('PUT', `/api/articles/${a.slug}`, {
      token: mallory.token,
      body: { article: { title: 'Hijacked' } },
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: { article: ['forbidden'] } });
    expect((await call('GET', `/api/articles/${a.slug}`)).body.article.title).toBe(a.title);
  });

  it('returns 401 without a token (even for an unknown slug) and 404 for an unknown slug', async () => {
    const jake = await newUser();
    const anon = await call('PUT', '/api/articles/no-such-article', { body: { article: { title: 'x' } } });
    expect(anon.status).toBe(401);
    expect(anon.body).toEqual({ errors: { token: ['is missing'] } });
    const missing = await call('PUT', '/api/articles/no-such-article', {
      token: jake.token,
      body: { article: { title: 'x' } },
    });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ errors: { article: ['not found'] } });
  });
});

describe('DELETE /api/articles/{slug}', () => {
  it('deletes the article (204) with its comments, favorites, tag links, search row and tag counts, in one round trip', async () => {
    const jake = await newUser();
    const fan = await newUser();
    const tag = unique('deltag');
    const a = await postArticle(jake, { tagList: [tag], body: 'zebracorn unique words' });
    await call('POST', `/api/articles/${a.slug}/favorite`, { token: fan.token });
    const id = (await env.DB.prepare('SELECT id FROM articles WHERE slug = ?').bind(a.slug).first<{ id: number }>())!
      .id;
    await env.DB.prepare(
      'INSERT INTO comments (article_id, author_id, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    )
      .bind(id, await userId(fan.username), 'Nice', Date.now(), Date.now())
      .run();
    expect((await call('GET', '/api/tags')).body.tags).toContain(tag);

    const res = await call('DELETE', `/api/articles/${a.slug}`, { token: jake.token });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    expect(res.d1).toBe(1);

    const counts = await env.DB.batch([
      env.DB.prepare('SELECT count(*) AS n FROM articles WHERE id = ?').bind(id),
      env.DB.prepare('SELECT count(*) AS n FROM comments WHERE article_id = ?').bind(id),
      env.DB.prepare('SELECT count(*) AS n FROM favorites WHERE article_id = ?').bind(id),
      env.DB.prepare('SELECT count(*) AS n FROM article_tags WHERE article_id = ?').bind(id),
      env.DB.prepare('SELECT count(*) AS n FROM articles_fts WHERE rowid = ?').bind(id),
      env.DB.prepare('SELECT articles_count AS n FROM tags WHERE name = ?').bind(tag),
    ]);
    expect(counts.map((r) => (r.results[0] as { n: number }).n)).toEqual([0, 0, 0, 0, 0, 0]);
    expect((await call('GET', `/api/articles/${a.slug}`)).status).toBe(404);
    expect((await call('GET', '/api/tags')).body.tags).not.toContain(tag);
    expect((await call('GET', '/api/articles?q=zebracorn')).body.articlesCount).toBe(0);
  });

  it("returns 403 for another user's article and keeps it", async () => {
    const jake = await newUser();
    const mallory = await newUser();
    const a = await postArticle(jake, { tagList: ['kept'] });
    const res = await call('DELETE', `/api/articles/${a.slug}`, { token: mallory.token });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: { article: ['forbidden'] } });
    expect((await call('GET', `/api/articles/${a.slug}`)).status).toBe(200);
    expect((await call('GET', '/api/tags')).body.tags).toContain('kept');
  });

  it('returns 401 without a token and 404 for an unknown slug', async () => {
    const jake = await newUser();
    expect((await call('DELETE', '/api/articles/no-such-article')).status).toBe(401);
    const res = await call('DELETE', '/api/articles/no-such-article', { token: jake.token });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: { article: ['not found'] } });
  });
});
