import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { readableArticleQuery } from '../../src/articles/articles.queries';
import { publishDueArticles } from '../../src/articles/articles.service';
import { createDb } from '../../src/db/client';
import { unique } from '../helpers/factories';
import { call, readFromAnotherLocation } from '../helpers/request';
import { userId } from '../helpers/content';
import { follow, newUser, postArticle } from './helpers';

const slugs = (res: { body: { articles: { slug: string }[] } }) => res.body.articles.map((a) => a.slug);
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

/** Every read path a hidden article could leak through, as seen by `token` (anonymous when undefined). */
async function visibleSomewhere(slug: string, word: string, tag: string, authorName: string, token?: string) {
  const opts = { token };
  const places: Record<string, boolean> = {
    detail: (await call('GET', `/api/articles/${slug}`, opts)).status === 200,
    list: slugs(await call('GET', '/api/articles?limit=100', opts)).includes(slug),
    byAuthor: slugs(await call('GET', `/api/articles?author=${authorName}`, opts)).includes(slug),
    byTag: slugs(await call('GET', `/api/articles?tag=${tag}`, opts)).includes(slug),
    search: slugs(await call('GET', `/api/articles?q=${word}`, opts)).includes(slug),
    tags: (await call('GET', '/api/tags')).body.tags.includes(tag),
  };
  if (token) places.feed = slugs(await call('GET', '/api/articles/feed', opts)).includes(slug);
  return places;
}

describe('drafts and scheduled articles', () => {
  it('never show a draft to anyone but its author, through any read path', async () => {
    const jake = await newUser();
    const reader = await newUser();
    await follow(reader, jake);
    const word = unique('draftword');
    const tag = unique('drafttag');
    const draft = await postArticle(jake, { status: 'draft', tagList: [tag], body: `secret ${word}` });
    expect(draft).toMatchObject({ status: 'draft', publishedAt: null, publishAt: null });

    const hidden = { detail: false, list: false, byAuthor: false, byTag: false, search: false, tags: false };
    expect(await visibleSomewhere(draft.slug, word, tag, jake.username)).toEqual(hidden);
    expect(await visibleSomewhere(draft.slug, word, tag, jake.username, reader.token)).toEqual({
      ...hidden,
      feed: false,
    });
    // The author sees the detail, and lists it with status=draft, but it is not in public lists.
    const own = await visibleSomewhere(draft.slug, word, tag, jake.username, jake.token);
    expect(own).toEqual({ ...hidden, detail: true, feed: false });
    const drafts = await call('GET', '/api/articles?status=draft', { token: jake.token });
    expect(slugs(drafts)).toEqual([draft.slug]);
    expect(drafts.body.articlesCount).toBe(1);
    expect(slugs(await call('GET', '/api/articles?status=draft', { token: reader.token }))).toEqual([]);
  });

  it('returns 401 for status=draft or scheduled without a token, and 422 for an unknown status', async () => {
    for (const status of ['draft', 'scheduled']) {
      const res = await call('GET', `/api/articles?status=${status}`);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ errors: { token: ['is missing'] } });
    }
    expect((await call('GET', '/api/articles?status=deleted')).status).toBe(422);
  });

  it('does not let others favorite, edit or delete a draft (404), nor see it via readableArticleQuery', async () => {
    const jake = await newUser();
    const mallory = await newUser();
    const draft = await postArticle(jake, { status: 'draft' });
    for (const [method, path] of [
      ['POST', `/api/articles/${draft.slug}/favorite`],
      ['PUT', `/api/articles/${draft.slug}`],
      ['DELETE', `/api/articles/${draft.slug}`],
    ] as const) {
      const res = await call(method, path, {
        token: mallory.token,
        body: method === 'PUT' ? { article: { title: 'x' } } : undefined,
      });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const db = createDb(env.DB);
    expect(await readableArticleQuery(db, draft.slug, await userId(mallory.username))).toEqual([]);
    expect(await readableArticleQuery(db, draft.slug, null)).toEqual([]);
    expect((await readableArticleQuery(db, draft.slug, await userId(jake.username)))[0]).toMatchObject({
      slug: draft.slug,
      authorId: await userId(jake.username),
      status: 'draft',
      visibility: 'public',
    });
  });

  it('publishes a draft on update: it appears in lists, search and tags, with publishedAt set', async () => {
    const jake = await newUser();
    const word = unique('pubword');
    const tag = unique('pubtag');
    const draft = await postArticle(jake, { status: 'draft', tagList: [tag], body: `text ${word}` });
    const res = await call('PUT', `/api/articles/${draft.slug}`, {
      token: jake.token,
      body: { article: { status: 'published' } },
    });
    expect(res.status).toBe(200);
    expect(res.body.article).toMatchObject({ status: 'published', createdAt: draft.createdAt });
    expect(res.body.article.publishedAt).toBe(res.body.article.updatedAt);
    const seen = await visibleSomewhere(draft.slug, word, tag, jake.username);
    expect(seen).toEqual({ detail: true, list: true, byAuthor: true, byTag: true, search: true, tags: true });

    // Unpublishing hides it again and gives the tag count back.
    await call('PUT', `/api/articles/${draft.slug}`, { token: jake.token, body: { article: { status: 'draft' } } });
    expect(Object.values(await visibleSomewhere(draft.slug, word, tag, jake.username)).some(Boolean)).toBe(false);
    const count = await env.DB.prepare('SELECT articles_count AS n FROM tags WHERE name = ?')
      .bind(tag)
      .first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it('validates publishAt: required and in the future for scheduled, refused otherwise', async () => {
    const jake = await newUser();
    const post = (article: Record<string, unknown>) =>
      call('POST', '/api/articles', {
        token: jake.token,
        body: { article: { title: 't', description: 'd', body: 'b', ...article } },
      });
    expect((await post({ status: 'scheduled' })).body).toEqual({ errors: { publishAt: ["can't be blank"] } });
    expect((await post({ status: 'scheduled', publishAt: '2001-01-01T00:00:00Z' })).body).toEqual({
      errors: { publishAt: ['must be in the future'] },
    });
    expect((await post({ status: 'scheduled', publishAt: 'tomorrow' })).status).toBe(422);
    expect((await post({ publishAt: inAnHour() })).body).toEqual({
      errors: { publishAt: ['is only allowed for scheduled articles'] },
    });
    expect((await post({ status: 'later' })).status).toBe(422);
    expect((await post({ visibility: 'secret' })).status).toBe(422);
  });

  it('keeps scheduled articles hidden until publishDueArticles publishes them, then counts their tags', async () => {
    const jake = await newUser();
    const reader = await newUser();
    await follow(reader, jake);
    const word = unique('schedword');
    const tag = unique('schedtag');
    const publishAt = inAnHour();
    const scheduled = await postArticle(jake, { status: 'scheduled', publishAt, tagList: [tag], body: `soon ${word}` });
    expect(scheduled).toMatchObject({ status: 'scheduled', publishAt, publishedAt: null });
    expect(
      Object.values(await visibleSomewhere(scheduled.slug, word, tag, jake.username, reader.token)).some(Boolean),
    ).toBe(false);
    expect(slugs(await call('GET', '/api/articles?status=scheduled', { token: jake.token }))).toContain(scheduled.slug);

    const db = createDb(env.DB);
    expect(await publishDueArticles(db, new Date())).toBe(0);
    const published = await publishDueArticles(db, new Date(Date.now() + 2 * 3600_000));
    expect(published).toBeGreaterThanOrEqual(1);
    expect(await publishDueArticles(db, new Date(Date.now() + 2 * 3600_000))).toBe(0);

    // Cron published them without going through this location: read where nothing was cached yet.
    readFromAnotherLocation();
    const seen = await visibleSomewhere(scheduled.slug, word, tag, jake.username, reader.token);
    expect(seen).toEqual({
      detail: true,
      list: true,
      byAuthor: true,
      byTag: true,
      search: true,
      tags: true,
      feed: true,
    });
    const detail = await call('GET', `/api/articles/${scheduled.slug}`);
    expect(detail.body.article).toMatchObject({ status: 'published', publishAt: null, publishedAt: publishAt });
    const count = await env.DB.prepare('SELECT articles_count AS n FROM tags WHERE name = ?')
      .bind(tag)
      .first<{ n: number }>();
    expect(count?.n).toBe(1);
  });

  it('reschedules and unschedules on update', async () => {
    const jake = await newUser();
    const a = await postArticle(jake, { status: 'scheduled', publishAt: inAnHour() });
    const later = new Date(Date.now() + 7200_000).toISOString();
    const moved = await call('PUT', `/api/articles/${a.slug}`, {
      token: jake.token,
      body: { article: { publishAt: later } },
    });
    expect(moved.body.article).toMatchObject({ status: 'scheduled', publishAt: later });
    const past = await call('PUT', `/api/articles/${a.slug}`, {
      token: jake.token,
      body: { article: { publishAt: '2001-01-01T00:00:00.000Z' } },
    });
    expect(past.status).toBe(422);
    const edited = await call('PUT', `/api/articles/${a.slug}`, {
      token: jake.token,
      body: { article: { body: 'edited' } },
    });
    expect(edited.body.article).toMatchObject({ status: 'scheduled', publishAt: later });
    const drafted = await call('PUT', `/api/articles/${a.slug}`, {
      token: jake.token,
      body: { article: { status: 'draft' } },
    });
    expect(drafted.body.article).toMatchObject({ status: 'draft', publishAt: null });
    const noDate = await call('PUT', `/api/articles/${a.slug}`, {
      token: jake.token,
      body: { article: { status: 'scheduled' } },
    });
    expect(noDate.body).toEqual({ errors: { publishAt: ["can't be blank"] } });
  });
});

describe('visibility', () => {
  it('locks members-only bodies for anonymous readers but lists them', async () => {
    const jake = await newUser();
    const reader = await newUser();
    const tag = unique('memtag');
    const a = await postArticle(jake, { visibility: 'members', tagList: [tag], body: 'for members' });
    const anon = await call('GET', `/api/articles/${a.slug}`);
    expect(anon.status).toBe(200);
    expect(anon.body.article).toMatchObject({
      title: a.title,
      description: a.description,
      tagList: [tag],
      body: null,
      locked: true,
      visibility: 'members',
    });
    const member = await call('GET', `/api/articles/${a.slug}`, { token: reader.token });
    expect(member.body.article).toMatchObject({ body: 'for members', locked: false });
    const list = await call('GET', `/api/articles?tag=${tag}`);
    expect(list.body.articles[0]).toMatchObject({ slug: a.slug, locked: true });
    expect(list.body.articles[0]).not.toHaveProperty('body');
    expect((await call('GET', `/api/articles?tag=${tag}`, { token: reader.token })).body.articles[0].locked).toBe(
      false,
    );
  });

  it('locks paid bodies for everyone but the author (canReadBody)', async () => {
    const jake = await newUser();
    const reader = await newUser();
    const a = await postArticle(jake, { visibility: 'paid', body: 'premium' });
    expect(a).toMatchObject({ body: 'premium', locked: false });
    expect((await call('GET', `/api/articles/${a.slug}`, { token: reader.token })).body.article).toMatchObject({
      body: null,
      locked: true,
    });
    expect((await call('GET', `/api/articles/${a.slug}`)).body.article).toMatchObject({ body: null, locked: true });
    expect((await call('GET', `/api/articles/${a.slug}`, { token: jake.token })).body.article).toMatchObject({
      body: 'premium',
      locked: false,
    });
    const fav = await call('POST', `/api/articles/${a.slug}/favorite`, { token: reader.token });
    expect(fav.body.article).toMatchObject({ favorited: true, body: null, locked: true });
  });
});

describe('GET /api/articles?q= (full-text search)', () => {
  it('matches title, description and body, best match first, combinable with filters', async () => {
    const jake = await newUser();
    const jane = await newUser();
    const word = unique('fts');
    const tag = unique('ftstag');
    const inBody = await postArticle(jake, { body: `one mention of ${word} here` });
    const inTitle = await postArticle(jane, {
      title: `${word} ${word} all about it`,
      description: `${word} again`,
      tagList: [tag],
    });
    await postArticle(jake, { body: 'unrelated' });

    const res = await call('GET', `/api/articles?q=${word}`);
    expect(res.status).toBe(200);
    expect(slugs(res)).toEqual([inTitle.slug, inBody.slug]);
    expect(res.body.articlesCount).toBe(2);
    expect(res.body.articles[0]).not.toHaveProperty('body');
    expect(slugs(await call('GET', `/api/articles?q=${word}&tag=${tag}`))).toEqual([inTitle.slug]);
    expect(slugs(await call('GET', `/api/articles?q=${word}&author=${jake.username}`))).toEqual([inBody.slug]);
    const paged = await call('GET', `/api/articles?q=${word}&limit=1&offset=1`);
    expect(slugs(paged)).toEqual([inBody.slug]);
    expect(paged.body.articlesCount).toBe(2);
    // Porter stemming, and every word required.
    expect(slugs(await call('GET', `/api/articles?q=${encodeURIComponent(`${word} mentions`)}`))).toEqual([
      inBody.slug,
    ]);
  });

  it('treats FTS syntax as plain words and refuses a query without words', async () => {
    const jake = await newUser();
    const word = unique('syntax');
    const a = await postArticle(jake, { body: `plain ${word}` });
    for (const q of [`"${word}`, `${word} OR`, `${word}*`, `title:${word}`, `NEAR(${word}`, `-${word}`]) {
      const res = await call('GET', `/api/articles?q=${encodeURIComponent(q)}`);
      expect(res.status, q).toBe(200);
    }
    expect(slugs(await call('GET', `/api/articles?q=${encodeURIComponent(`"${word}`)}`))).toEqual([a.slug]);
    const res = await call('GET', `/api/articles?q=${encodeURIComponent('"*"')}`);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ errors: { q: ['must contain a word'] } });
  });

  it('follows updates and deletes, and never matches locked bodies', async () => {
    const jake = await newUser();
    const reader = await newUser();
    const before = unique('before');
    const after = unique('after');
    const gated = unique('gated');
    const a = await postArticle(jake, { body: `text ${before}` });
    await call('PUT', `/api/articles/${a.slug}`, { token: jake.token, body: { article: { body: `text ${after}` } } });
    expect(slugs(await call('GET', `/api/articles?q=${before}`))).toEqual([]);
    expect(slugs(await call('GET', `/api/articles?q=${after}`))).toEqual([a.slug]);

    // Members and paid articles are found by title and description, never by body, for anyone.
    const paid = await postArticle(jake, { visibility: 'paid', body: `premium ${gated}`, description: `${gated}desc` });
    const members = await postArticle(jake, { visibility: 'members', body: `members ${gated}` });
    for (const token of [undefined, reader.token, jake.token]) {
      expect(slugs(await call('GET', `/api/articles?q=${gated}`, { token }))).toEqual([]);
    }
    expect(slugs(await call('GET', `/api/articles?q=${gated}desc`))).toEqual([paid.slug]);
    // Making an article public indexes its body.
    await call('PUT', `/api/articles/${members.slug}`, {
      token: jake.token,
      body: { article: { visibility: 'public' } },
    });
    expect(slugs(await call('GET', `/api/articles?q=${gated}`))).toEqual([members.slug]);
  });
});
