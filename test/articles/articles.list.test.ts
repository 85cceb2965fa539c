import { describe, expect, it } from 'vitest';
import { unique } from '../helpers/factories';
import { call } from '../helpers/request';
import { createArticle } from '../helpers/content';
import { follow, newUser, postArticle } from './helpers';

const slugs = (res: { body: { articles: { slug: string }[] } }) => res.body.articles.map((a) => a.slug);

describe('GET /api/articles', () => {
  it('lists articles newest first, without a body key, for anonymous readers', async () => {
    const jake = await newUser();
    const tag = unique('t');
    const older = await postArticle(jake, { tagList: [tag] });
    const newer = await postArticle(jake, { tagList: [tag] });
    const res = await call('GET', `/api/articles?tag=${tag}`);
    expect(res.status).toBe(200);
    expect(slugs(res)).toEqual([newer.slug, older.slug]);
    expect(res.body.articlesCount).toBe(2);
    for (const item of res.body.articles) {
      expect(item).not.toHaveProperty('body');
      expect(item).toMatchObject({
        favorited: false,
        locked: false,
        author: { username: jake.username, following: false },
      });
    }
    const global = await call('GET', '/api/articles?limit=100');
    expect(global.body.articles.findIndex((a: { slug: string }) => a.slug === newer.slug)).toBeLessThan(
      global.body.articles.findIndex((a: { slug: string }) => a.slug === older.slug),
    );
  });

  it('orders by publication time, newest first', async () => {
    const jake = await newUser();
    const tag = unique('t');
    // Written (and published) at controlled times, through the article service.
    const a = await createArticle(jake, { tagList: [tag], at: Date.UTC(2030, 0, 3) });
    const b = await createArticle(jake, { tagList: [tag], at: Date.UTC(2030, 0, 1) });
    const c = await createArticle(jake, { tagList: [tag], at: Date.UTC(2030, 0, 2) });
    const res = await call('GET', `/api/articles?tag=${tag}`);
    expect(slugs(res)).toEqual([a.slug, c.slug, b.slug]);
    expect(res.body.articles[0].createdAt).toBe('2030-01-03T00:00:00.000Z');
  });

  it('filters by author (case-insensitive username), tag and favorited, and combines them', async () => {
    const jake = await newUser();
    const jane = await newUser();
    const fan = await newUser();
    const tag = unique('t');
    const j1 = await postArticle(jake, { tagList: [tag] });
    const j2 = await postArticle(jake, { tagList: ['other'] });
    const n1 = await postArticle(jane, { tagList: [tag] });
    await call('POST', `/api/articles/${j1.slug}/favorite`, { token: fan.token });
    await call('POST', `/api/articles/${n1.slug}/favorite`, { token: fan.token });

    expect(slugs(await call('GET', `/api/articles?author=${jake.username.toUpperCase()}`))).toEqual([j2.slug, j1.slug]);
    expect(slugs(await call('GET', `/api/articles?tag=${tag}`))).toEqual([n1.slug, j1.slug]);
    expect(slugs(await call('GET', `/api/articles?favorited=${fan.username}`))).toEqual([n1.slug, j1.slug]);
    expect(slugs(await call('GET', `/api/articles?author=${jake.username}&tag=${tag}`))).toEqual([j1.slug]);
    expect(slugs(await call('GET', `/api/articles?favorited=${fan.username}&author=${jane.username}`))).toEqual([
      n1.slug,
    ]);
    const all3 = await call('GET', `/api/articles?favorited=${fan.username}&author=${jake.username}&tag=${tag}`);
    expect(slugs(all3)).toEqual([j1.slug]);
    expect(all3.body.articlesCount).toBe(1);
    const none = await call('GET', `/api/articles?favorited=${fan.username}&author=${jake.username}&tag=other`);
    expect(none.body).toEqual({ articles: [], articlesCount: 0, nextBefore: null });
    expect((await call('GET', '/api/articles?author=nobody-at-all')).body).toEqual({
      articles: [],
      articlesCount: 0,
      nextBefore: null,
    });
    expect((await call('GET', '/api/articles?tag=no-such-tag')).body).toEqual({
      articles: [],
      articlesCount: 0,
      nextBefore: null,
    });
  });

  it('pages with limit and offset while articlesCount stays the total', async () => {
    const jake = await newUser();
    const tag = unique('t');
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await postArticle(jake, { tagList: [tag] }));
    const newestFirst = made.map((a) => a.slug).reverse();
    const page1 = await call('GET', `/api/articles?tag=${tag}&limit=2`);
    const page2 = await call('GET', `/api/articles?tag=${tag}&limit=2&offset=2`);
    const page3 = await call('GET', `/api/articles?tag=${tag}&limit=2&offset=4`);
    expect([...slugs(page1), ...slugs(page2), ...slugs(page3)]).toEqual(newestFirst);
    expect([page1, page2, page3].map((p) => p.body.articlesCount)).toEqual([5, 5, 5]);
    const past = await call('GET', `/api/articles?tag=${tag}&offset=1000000000`);
    expect(past.body).toEqual({ articles: [], articlesCount: 5, nextBefore: null });
    const byAuthor = await call('GET', `/api/articles?author=${jake.username}&limit=1&offset=1`);
    expect(slugs(byAuthor)).toEqual([newestFirst[1]]);
    expect(byAuthor.body.articlesCount).toBe(5);
  });

  it('defaults to 20 per page', async () => {
    const jake = await newUser();
    const tag = unique('t');
    for (let i = 0; i < 21; i++) await postArticle(jake, { tagList: [tag] });
    const res = await call('GET', `/api/articles?tag=${tag}`);
    expect(res.body.articles).toHaveLength(20);
    expect(res.body.articlesCount).toBe(21);
  });

  it('returns 422 for limits outside 1..100 and negative or non-numeric offsets', async () => {
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'limit=-1', 'limit=2.5', 'limit=']) {
      const res = await call('GET', `/api/articles?${query}`);
      expect(res.status, query).toBe(422);
      expect(res.body).toEqual({ errors: { limit: ['must be an integer between 1 and 100'] } });
    }
    for (const query of ['offset=-1', 'offset=x', 'offset=1e3']) {
      const res = await call('GET', `/api/articles?${query}`);
      expect(res.status, query).toBe(422);
      expect(Object.keys(res.body.errors)).toEqual(['offset']);
    }
    expect((await call('GET', '/api/articles?limit=100&offset=0')).status).toBe(200);
  });
});

describe('GET /api/articles/feed', () => {
  it('returns 401 without a token', async () => {
    const res = await call('GET', '/api/articles/feed');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: { token: ['is missing'] } });
  });

  it('lists articles by followed authors only, newest first, with following true', async () => {
    const reader = await newUser();
    const jake = await newUser();
    const jane = await newUser();
    const stranger = await newUser();
    await postArticle(stranger);
    await postArticle(reader);
    const before = await call('GET', '/api/articles/feed', { token: reader.token });
    expect(before.body).toEqual({ articles: [], articlesCount: 0, nextBefore: null });

    const j1 = await postArticle(jake);
    const n1 = await postArticle(jane);
    const j2 = await postArticle(jake);
    await follow(reader, jake);
    await follow(reader, jane);
    const res = await call('GET', '/api/articles/feed', { token: reader.token });
    expect(res.status).toBe(200);
    expect(slugs(res)).toEqual([j2.slug, n1.slug, j1.slug]);
    expect(res.body.articlesCount).toBe(3);
    expect(res.body.articles.every((a: { author: { following: boolean } }) => a.author.following)).toBe(true);
    expect(res.body.articles[0]).not.toHaveProperty('body');

    const paged = await call('GET', '/api/articles/feed?limit=1&offset=1', { token: reader.token });
    expect(slugs(paged)).toEqual([n1.slug]);
    expect(paged.body.articlesCount).toBe(3);
    expect((await call('GET', '/api/articles/feed?limit=0', { token: reader.token })).status).toBe(422);
  });

  it('follows the follow and unfollow endpoints: unfollowing removes that author from the feed', async () => {
    const reader = await newUser();
    const [jake, jane] = [await newUser(), await newUser()];
    const j = await postArticle(jake);
    const n = await postArticle(jane);
    for (const author of [jake, jane]) {
      expect((await call('POST', `/api/profiles/${author.username}/follow`, { token: reader.token })).status).toBe(200);
    }
    expect(slugs(await call('GET', '/api/articles/feed', { token: reader.token }))).toEqual([n.slug, j.slug]);

    await call('DELETE', `/api/profiles/${jane.username}/follow`, { token: reader.token });
    const after = await call('GET', '/api/articles/feed', { token: reader.token });
    expect(slugs(after)).toEqual([j.slug]);
    expect(after.body.articlesCount).toBe(1);
  });

  it('is not shadowed by an article slug', async () => {
    const reader = await newUser();
    const res = await call('GET', '/api/articles/feed', { token: reader.token });
    expect(res.body).toHaveProperty('articlesCount');
  });
});

describe('POST /api/articles/{slug}/favorite', () => {
  it('counts favorites from several users, is idempotent, and shows favorited per viewer', async () => {
    const jake = await newUser();
    const ann = await newUser();
    const bob = await newUser();
    const a = await postArticle(jake);

    const first = await call('POST', `/api/articles/${a.slug}/favorite`, { token: ann.token });
    expect(first.status).toBe(200);
    expect(first.body.article).toMatchObject({ slug: a.slug, favorited: true, favoritesCount: 1, body: a.body });
    expect(first.d1).toBe(1);
    const again = await call('POST', `/api/articles/${a.slug}/favorite`, { token: ann.token });
    expect(again.body.article).toMatchObject({ favorited: true, favoritesCount: 1 });
    const bobs = await call('POST', `/api/articles/${a.slug}/favorite`, { token: bob.token });
    expect(bobs.body.article).toMatchObject({ favorited: true, favoritesCount: 2 });

    expect((await call('GET', `/api/articles/${a.slug}`, { token: jake.token })).body.article).toMatchObject({
      favorited: false,
      favoritesCount: 2,
    });
    expect((await call('GET', `/api/articles/${a.slug}`)).body.article).toMatchObject({
      favorited: false,
      favoritesCount: 2,
    });
    const annList = await call('GET', `/api/articles?author=${jake.username}`, { token: ann.token });
    expect(annList.body.articles[0]).toMatchObject({ favorited: true, favoritesCount: 2 });
    const jakeList = await call('GET', `/api/articles?author=${jake.username}`, { token: jake.token });
    expect(jakeList.body.articles[0]).toMatchObject({ favorited: false, favoritesCount: 2 });

    const un = await call('DELETE', `/api/articles/${a.slug}/favorite`, { token: ann.token });
    expect(un.status).toBe(200);
    expect(un.body.article).toMatchObject({ favorited: false, favoritesCount: 1 });
    expect(un.d1).toBe(1);
    const unAgain = await call('DELETE', `/api/articles/${a.slug}/favorite`, { token: ann.token });
    expect(unAgain.body.article).toMatchObject({ favorited: false, favoritesCount: 1 });
    const neverFavorited = await call('DELETE', `/api/articles/${a.slug}/favorite`, { token: jake.token });
    expect(neverFavorited.body.article).toMatchObject({ favorited: false, favoritesCount: 1 });
  });

  it('keeps the count exact under parallel favorites and unfavorites', async () => {
    const jake = await newUser();
    const fans = await Promise.all([newUser(), newUser(), newUser(), newUser()]);
    const a = await postArticle(jake);
    await Promise.all(
      fans.flatMap((fan) =>
        [1, 2, 3].map(() => call('POST', `/api/articles/${a.slug}/favorite`, { token: fan.token })),
      ),
    );
    expect((await call('GET', `/api/articles/${a.slug}`)).body.article.favoritesCount).toBe(4);
    await Promise.all(
      [1, 2, 3].map(() => call('DELETE', `/api/articles/${a.slug}/favorite`, { token: fans[0]!.token })),
    );
    expect((await call('GET', `/api/articles/${a.slug}`)).body.article.favoritesCount).toBe(3);
  });

  it('returns 401 without a token (before the slug is looked up) and 404 for an unknown article', async () => {
    const ann = await newUser();
    for (const method of ['POST', 'DELETE']) {
      const anon = await call(method, '/api/articles/no-such-article/favorite');
      expect(anon.status).toBe(401);
      expect(anon.body).toEqual({ errors: { token: ['is missing'] } });
      const missing = await call(method, '/api/articles/no-such-article/favorite', { token: ann.token });
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ errors: { article: ['not found'] } });
    }
  });
});

describe('conditional GETs', () => {
  it('sends a weak ETag on detail and answers If-None-Match with 304 and no body', async () => {
    const jake = await newUser();
    const a = await postArticle(jake);
    const first = await call('GET', `/api/articles/${a.slug}`);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^W\/"[\w-]+"$/);
    const again = await call('GET', `/api/articles/${a.slug}`, { headers: { 'If-None-Match': etag! } });
    expect(again.status).toBe(304);
    expect(again.body).toBeNull();
    expect(again.headers.get('etag')).toBe(etag);
    expect(
      (await call('GET', `/api/articles/${a.slug}`, { headers: { 'If-None-Match': 'W/"other", *' } })).status,
    ).toBe(304);
    expect((await call('GET', `/api/articles/${a.slug}`, { headers: { 'If-None-Match': 'W/"stale"' } })).status).toBe(
      200,
    );

    await call('PUT', `/api/articles/${a.slug}`, { token: jake.token, body: { article: { description: 'changed' } } });
    const changed = await call('GET', `/api/articles/${a.slug}`, { headers: { 'If-None-Match': etag! } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
  });

  it('gives each viewer their own ETag on detail, lists and the feed', async () => {
    const jake = await newUser();
    const ann = await newUser();
    const a = await postArticle(jake);
    await call('POST', `/api/articles/${a.slug}/favorite`, { token: ann.token });
    await follow(ann, jake);
    for (const path of [`/api/articles/${a.slug}`, `/api/articles?author=${jake.username}`]) {
      const anon = await call('GET', path);
      const annView = await call('GET', path, { token: ann.token });
      expect(annView.headers.get('etag')).not.toBe(anon.headers.get('etag'));
      expect(annView.headers.get('vary')).toContain('Authorization');
      const crossed = await call('GET', path, {
        token: ann.token,
        headers: { 'If-None-Match': anon.headers.get('etag')! },
      });
      expect(crossed.status).toBe(200);
      const own = await call('GET', path, {
        token: ann.token,
        headers: { 'If-None-Match': annView.headers.get('etag')! },
      });
      expect(own.status).toBe(304);
    }
    const feed = await call('GET', '/api/articles/feed', { token: ann.token });
    expect(feed.headers.get('etag')).toBeTruthy();
    expect(
      (
        await call('GET', '/api/articles/feed', {
          token: ann.token,
          headers: { 'If-None-Match': feed.headers.get('etag')! },
        })
      ).status,
    ).toBe(304);
    await call('DELETE', `/api/articles/${a.slug}/favorite`, { token: ann.token });
    expect(
      (
        await call('GET', '/api/articles/feed', {
          token: ann.token,
          headers: { 'If-None-Match': feed.headers.get('etag')! },
        })
      ).status,
    ).toBe(200);
  });
});
