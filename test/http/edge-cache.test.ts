import { afterEach, describe, expect, it, vi } from 'vitest';
import { lookUpPublicRead } from '../../src/http/edge-cache';
import { postArticle } from '../articles/helpers';
import { registerUser, unique, type TestUser } from '../helpers/factories';
import { call, currentLocation, readFromAnotherLocation, useLocation } from '../helpers/request';
import { userWithRole } from '../helpers/roles';

const BOUND_SECONDS = 30; // PUBLIC_CACHE_SECONDS in wrangler.toml

afterEach(() => {
  vi.useRealTimers();
});

const anon = (path: string, headers?: Record<string, string>) => call('GET', path, { headers });

/** Reads `path` anonymously twice: the second read must come from the edge cache, without D1. */
async function expectCachedAfterOneRead(path: string) {
  const first = await anon(path);
  expect(first.status).toBe(200);
  expect(first.headers.get('Folio-Cache')).toBe('miss');
  expect(first.d1).toBe(1);
  const second = await anon(path);
  expect(second.status).toBe(200);
  expect(second.headers.get('Folio-Cache')).toBe('hit');
  expect(second.d1).toBe(0);
  expect(second.kv).toBe(0);
  expect(second.body).toEqual(first.body);
  expect(second.headers.get('ETag')).toBe(first.headers.get('ETag'));
  return second;
}

async function setup() {
  const author = await registerUser();
  const tag = unique('edge');
  const article = await postArticle(author, { tagList: [tag] });
  return { author, tag, article };
}

describe('anonymous public reads from the edge cache', () => {
  it('serves lists, filters, an article, its comments, profiles and tags without D1 on the second read', async () => {
    const { author, tag, article } = await setup();
    await call('POST', `/api/articles/${article.slug}/comments`, {
      token: author.token,
      body: { comment: { body: 'first!' } },
    });
    for (const path of [
      '/api/articles',
      `/api/articles?tag=${tag}`,
      `/api/articles?author=${author.username}&limit=5`,
      `/api/articles/${article.slug}`,
      `/api/articles/${article.slug}/comments`,
      `/api/profiles/${author.username}`,
      '/api/tags',
    ]) {
      const hit = await expectCachedAfterOneRead(path);
      expect(hit.headers.get('Cache-Control')).toBe('public, max-age=0, must-revalidate');
      expect(hit.headers.get('Vary')).toContain('Authorization');
      expect(hit.headers.get('Content-Type')).toMatch(/^application\/json/);
      // Headers that belong to each request are the current request's, never the first reader's.
      expect(hit.headers.get('X-Request-Id')).toMatch(/^test-/);
      expect(hit.headers.get('X-Frame-Options')).toBe('DENY');
    }
  });

  it('shares an entry between the same parameters in another order, and answers If-None-Match with 304', async () => {
    const { author } = await setup();
    const first = await anon(`/api/articles?author=${author.username}&limit=10&offset=0`);
    const reordered = await anon(`/api/articles?offset=0&limit=10&author=${author.username}`);
    expect(reordered.headers.get('Folio-Cache')).toBe('hit');
    const etag = first.headers.get('ETag')!;
    const notModified = await anon(`/api/articles?author=${author.username}&limit=10&offset=0`, {
      'If-None-Match': etag,
    });
    expect(notModified.status).toBe(304);
    expect(notModified.d1).toBe(0);
    expect(notModified.body).toBeNull();
  });

  it('never stores or serves signed-in reads: they are private and computed for the viewer', async () => {
    const { author, article } = await setup();
    const reader = await registerUser();
    await call('POST', `/api/articles/${article.slug}/favorite`, { token: reader.token });
    await anon(`/api/articles/${article.slug}`); // an anonymous copy is now cached
    const signedIn = await call('GET', `/api/articles/${article.slug}`, { token: reader.token });
    expect(signedIn.headers.get('Folio-Cache')).toBeNull();
    expect(signedIn.headers.get('Cache-Control')).toBe('private, no-cache');
    expect(signedIn.d1).toBe(1);
    expect(signedIn.body.article.favorited).toBe(true);
    const feed = await call('GET', '/api/articles/feed', { token: author.token });
    expect(feed.headers.get('Cache-Control')).toBe('private, no-cache');
    // A bad token is read as anonymous but the response is not stored under the anonymous key.
    const stale = await call('GET', `/api/profiles/${author.username}`, { token: 'not-a-token' });
    expect(stale.status).toBe(200);
    expect(stale.headers.get('Folio-Cache')).toBeNull();
  });

  it('does not cache errors', async () => {
    const missing = await anon('/api/articles/no-such-slug');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('Cache-Control')).toBe('no-store');
    expect((await anon('/api/articles/no-such-slug')).d1).toBe(1);
  });
});

describe('lookup', () => {
  /** A cache whose lookups stay pending until the test answers them, recording the keys asked for. */
  function slowCache() {
    const asked = new Map<string, (found: Response | undefined) => void>();
    const cache = {
      match: (key: string) => new Promise<Response | undefined>((resolve) => asked.set(key, resolve)),
      put: async () => undefined,
    } as unknown as Cache;
    return { cache, asked };
  }
  const url = new URL('https://folio.test/api/articles?tag=x&limit=5');
  const version = (token: string) =>
    new Response(null, { headers: { 'Folio-Version': token, 'Folio-Version-At': String(Date.now()) } });
  const entry = (token: string) => new Response('{"articles":[]}', { headers: { 'Folio-Version': token } });

  it('asks for the version and the entry at once, so a hit waits for one cache round trip', async () => {
    const { cache, asked } = slowCache();
    const lookup = lookUpPublicRead(cache, url, 30);
    await Promise.resolve();
    // Both lookups are out before either has answered.
    const [versionKey, entryKey] = [...asked.keys()];
    expect(asked.size).toBe(2);
    expect(entryKey).toBe('https://folio.test/__folio/public-reads/api/articles?limit=5&tag=x');
    asked.get(entryKey!)!(entry('v1'));
    asked.get(versionKey!)!(version('v1'));
    const found = await lookup;
    expect(found.version).toBe('v1');
    expect(await found.entry!.json()).toEqual({ articles: [] });
  });

  it('never serves an entry stored under an older version', async () => {
    const { cache, asked } = slowCache();
    const lookup = lookUpPublicRead(cache, url, 30);
    await Promise.resolve();
    const [versionKey, entryKey] = [...asked.keys()];
    asked.get(versionKey!)!(version('v2'));
    asked.get(entryKey!)!(entry('v1'));
    const found = await lookup;
    expect(found.version).toBe('v2');
    expect(found.entry).toBeUndefined();
  });
});

describe('invalidation', () => {
  async function cachedList(author: TestUser) {
    await anon(`/api/articles?author=${author.username}`);
    expect((await anon(`/api/articles?author=${author.username}`)).headers.get('Folio-Cache')).toBe('hit');
  }

  it('a new article shows up in the anonymous list at once where it was written', async () => {
    const { author } = await setup();
    await cachedList(author);
    await anon('/api/articles');
    const created = await postArticle(author, { title: 'Fresh off the press' });
    const list = await anon('/api/articles');
    expect(list.headers.get('Folio-Cache')).toBe('miss');
    expect(list.body.articles[0].slug).toBe(created.slug);
    const byAuthor = await anon(`/api/articles?author=${author.username}`);
    expect(byAuthor.body.articlesCount).toBe(2);
  });

  it('each kind of write drops the cached copies it changes', async () => {
    const { author, article, tag } = await setup();
    const reader = await registerUser();
    const read = async (path: string) => (await anon(path)).body;
    const primeAll = async () => {
      for (const path of [
        `/api/articles/${article.slug}`,
        `/api/articles/${article.slug}/comments`,
        `/api/profiles/${author.username}`,
        `/api/articles?tag=${tag}`,
        '/api/tags',
      ])
        await anon(path);
    };

    await primeAll();
    await call('PUT', `/api/articles/${article.slug}`, {
      token: author.token,
      body: { article: { description: 'edited' } },
    });
    expect((await read(`/api/articles/${article.slug}`)).article.description).toBe('edited');

    await primeAll();
    const comment = await call('POST', `/api/articles/${article.slug}/comments`, {
      token: reader.token,
      body: { comment: { body: 'nice' } },
    });
    expect((await read(`/api/articles/${article.slug}/comments`)).comments).toHaveLength(1);

    await primeAll();
    await call('DELETE', `/api/articles/${article.slug}/comments/${comment.body.comment.id}`, { token: reader.token });
    expect((await read(`/api/articles/${article.slug}/comments`)).comments).toHaveLength(0);

    await primeAll();
    await call('POST', `/api/articles/${article.slug}/favorite`, { token: reader.token });
    expect((await read(`/api/articles/${article.slug}`)).article.favoritesCount).toBe(1);
    expect((await read(`/api/articles?tag=${tag}`)).articles[0].favoritesCount).toBe(1);

    await primeAll();
    await call('PUT', '/api/user', { token: author.token, body: { user: { bio: 'new bio' } } });
    expect((await read(`/api/profiles/${author.username}`)).profile.bio).toBe('new bio');
    expect((await read(`/api/articles/${article.slug}`)).article.author.bio).toBe('new bio');

    await primeAll();
    expect((await call('DELETE', `/api/articles/${article.slug}`, { token: author.token })).status).toBe(204);
    expect((await anon(`/api/articles/${article.slug}`)).status).toBe(404);
    expect((await read('/api/tags')).tags).not.toContain(tag);
  });

  it("a draft's creation, edits and deletion keep the cache; publishing it drops it", async () => {
    const { author } = await setup();
    const hit = async (path: string) => (await anon(path)).headers.get('Folio-Cache');
    const list = `/api/articles?author=${author.username}`;
    await anon(list);
    await anon('/api/tags');
    expect(await hit(list)).toBe('hit');

    // Drafts are invisible to anonymous readers: an author's autosaves leave the location's cache alone.
    const draft = await postArticle(author, { status: 'draft', tagList: [unique('drafttag')] });
    const edited = await call('PUT', `/api/articles/${draft.slug}`, {
      token: author.token,
      body: { article: { body: 'autosave 1' } },
    });
    expect(edited.status).toBe(200);
    expect(await hit(list)).toBe('hit');
    expect(await hit('/api/tags')).toBe('hit');

    const published = await call('PUT', `/api/articles/${draft.slug}`, {
      token: author.token,
      body: { article: { status: 'published' } },
    });
    expect(published.status).toBe(200);
    const after = await anon(list);
    expect(after.headers.get('Folio-Cache')).toBe('miss');
    expect(after.body.articlesCount).toBe(2);

    // Unpublishing is a public change too; deleting the draft it became is not.
    await call('PUT', `/api/articles/${draft.slug}`, { token: author.token, body: { article: { status: 'draft' } } });
    expect((await anon(list)).body.articlesCount).toBe(1);
    expect(await hit(list)).toBe('hit');
    expect((await call('DELETE', `/api/articles/${draft.slug}`, { token: author.token })).status).toBe(204);
    expect(await hit(list)).toBe('hit');
  });

  it('an account change no one else sees (email, password) keeps the cache', async () => {
    const { author } = await setup();
    const profile = `/api/profiles/${author.username}`;
    await anon(profile);
    const changed = await call('PUT', '/api/user', {
      token: author.token,
      body: { user: { email: `${unique('moved')}@example.com`, password: 'password456' } },
    });
    expect(changed.status).toBe(200);
    expect((await anon(profile)).headers.get('Folio-Cache')).toBe('hit');
    const edited = await call('PUT', '/api/user', {
      token: changed.body.user.token,
      body: { user: { bio: 'public now' } },
    });
    expect(edited.status).toBe(200);
    const fresh = await anon(profile);
    expect(fresh.headers.get('Folio-Cache')).toBe('miss');
    expect(fresh.body.profile.bio).toBe('public now');
  });

  it('of the admin API, hiding and showing a comment drops the cache; a ban or a role change does not', async () => {
    const { article } = await setup();
    const admin = await userWithRole('admin');
    const troll = await userWithRole('member');
    const posted = await call('POST', `/api/articles/${article.slug}/comments`, {
      token: troll.token,
      body: { comment: { body: 'troll' } },
    });
    const comments = `/api/articles/${article.slug}/comments`;
    await anon(comments);
    expect(
      (
        await call('PUT', `/api/admin/users/${troll.id}/role`, {
          token: admin.token,
          body: { user: { role: 'author' } },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call('POST', `/api/admin/users/${troll.id}/ban`, {
          token: admin.token,
          body: { ban: { reason: 'spam' } },
        })
      ).status,
    ).toBe(200);
    expect((await anon(comments)).headers.get('Folio-Cache')).toBe('hit');

    const hidden = await call('POST', `/api/admin/comments/${posted.body.comment.id}/hide`, { token: admin.token });
    expect(hidden.status).toBe(200);
    const after = await anon(comments);
    expect(after.headers.get('Folio-Cache')).toBe('miss');
    expect(after.body.comments).toEqual([]);
  });

  it('a follow keeps the cache: no anonymous response shows it', async () => {
    const { author } = await setup();
    const fan = await registerUser();
    const profile = `/api/profiles/${author.username}`;
    await anon(profile);
    expect((await call('POST', `${profile}/follow`, { token: fan.token })).status).toBe(200);
    const cached = await anon(profile);
    expect(cached.headers.get('Folio-Cache')).toBe('hit');
    expect(cached.body.profile.following).toBe(false);
    // The follower's own, signed-in read is computed for them.
    expect((await call('GET', profile, { token: fan.token })).body.profile.following).toBe(true);
  });

  it('a refused write keeps the cache', async () => {
    const { article } = await setup();
    const mallory = await registerUser();
    await anon(`/api/articles/${article.slug}`);
    const refused = await call('DELETE', `/api/articles/${article.slug}`, { token: mallory.token });
    expect(refused.status).toBe(403);
    expect((await anon(`/api/articles/${article.slug}`)).headers.get('Folio-Cache')).toBe('hit');
  });

  it(`a write made in another location shows up here within ${BOUND_SECONDS} s`, async () => {
    const { author } = await setup();
    const list = `/api/articles?author=${author.username}`;
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const here = currentLocation();
    expect((await anon(list)).body.articlesCount).toBe(1);

    // The write goes through another location, whose purge does not reach this one.
    readFromAnotherLocation();
    await postArticle(author, { title: 'Written far away' });
    useLocation(here);

    // Within the bound this location may still serve its copy...
    vi.setSystemTime(Date.now() + (BOUND_SECONDS - 5) * 1000);
    const stale = await anon(list);
    expect(stale.headers.get('Folio-Cache')).toBe('hit');
    expect(stale.body.articlesCount).toBe(1);
    // ...and never once the bound has passed.
    vi.setSystemTime(Date.now() + 5_000);
    const fresh = await anon(list);
    expect(fresh.headers.get('Folio-Cache')).toBe('miss');
    expect(fresh.body.articlesCount).toBe(2);
  });
});
