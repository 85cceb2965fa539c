import { describe, expect, it } from 'vitest';
import { unique } from './helpers/factories';
import { call } from './helpers/request';

/** The ISO 8601 check the RealWorld API test suite applies to every timestamp. */
const ISO_8601 = /^\d{4,}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d\.\d+(?:[+-][0-2]\d:[0-5]\d|Z)$/;

function expectArticle(article: Record<string, any>, withBody = true) {
  expect(Object.keys(article)).toEqual(
    expect.arrayContaining([
      'slug',
      'title',
      'description',
      'tagList',
      'createdAt',
      'updatedAt',
      'favorited',
      'favoritesCount',
      'author',
    ]),
  );
  expect('body' in article).toBe(withBody);
  expect(Array.isArray(article.tagList)).toBe(true);
  expect(article.createdAt).toMatch(ISO_8601);
  expect(article.updatedAt).toMatch(ISO_8601);
  expect(Object.keys(article.author).sort()).toEqual(['bio', 'following', 'image', 'username']);
}

/**
 * One user journey in the order a RealWorld front end (and the official API test suite) runs it,
 * so a regression in how the pieces fit together shows up even when each endpoint's own tests pass.
 */
describe('a RealWorld front end against Folio', () => {
  it('registers, writes, browses, comments, favorites, follows and cleans up', async () => {
    const name = unique('rw');
    const email = `${name}@example.com`;
    const reg = await call('POST', '/api/users', {
      body: { user: { email, password: 'password123', username: name } },
    });
    expect(reg.status).toBe(201);
    expect(Object.keys(reg.body.user)).toEqual(expect.arrayContaining(['email', 'username', 'bio', 'image', 'token']));

    const loginRes = await call('POST', '/api/users/login', { body: { user: { email, password: 'password123' } } });
    expect(loginRes.status).toBe(200);
    const token = loginRes.body.user.token;

    const updated = await call('PUT', '/api/user', {
      token,
      body: { user: { email, bio: 'bio', image: 'https://example.com/me.png' } },
    });
    expect(updated.body.user).toMatchObject({ email, bio: 'bio' });

    const reader = await call('POST', '/api/users', {
      body: { user: { email: `${name}r@example.com`, password: 'password123', username: `${name}r` } },
    });
    const readerToken = reader.body.user.token;

    // Write
    const created = await call('POST', '/api/articles', {
      token,
      body: {
        article: {
          title: 'How to train your dragon',
          description: 'Ever wonder how?',
          body: 'Very carefully.',
          tagList: ['training', 'dragons'],
        },
      },
    });
    expect(created.status).toBe(201);
    expectArticle(created.body.article);
    expect(created.body.article).toMatchObject({
      tagList: ['training', 'dragons'],
      favorited: false,
      favoritesCount: 0,
    });
    const slug = created.body.article.slug;

    // Browse: global, by author, by tag, single, anonymous and signed in
    for (const t of [undefined, readerToken]) {
      const all = await call('GET', `/api/articles?author=${name}`, { token: t });
      expect(all.status).toBe(200);
      expect(all.body.articlesCount).toBe(1);
      expectArticle(all.body.articles[0], false);
      const byTag = await call('GET', '/api/articles?tag=dragons&limit=100', { token: t });
      expect(byTag.body.articles.some((a: { slug: string }) => a.slug === slug)).toBe(true);
      const single = await call('GET', `/api/articles/${slug}`, { token: t });
      expectArticle(single.body.article);
      expect(single.body.article.body).toBe('Very carefully.');
    }

    // Follow → feed; profile
    const followed = await call('POST', `/api/profiles/${name}/follow`, { token: readerToken });
    expect(followed.body.profile).toEqual({
      username: name,
      bio: 'bio',
      image: 'https://example.com/me.png',
      following: true,
    });
    const feed = await call('GET', '/api/articles/feed', { token: readerToken });
    expect(feed.body.articlesCount).toBe(1);
    expect(feed.body.articles[0]).toMatchObject({ slug, author: { following: true } });

    // Favorite
    const fav = await call('POST', `/api/articles/${slug}/favorite`, { token: readerToken });
    expect(fav.body.article).toMatchObject({ favorited: true, favoritesCount: 1 });
    const favorited = await call('GET', `/api/articles?favorited=${name}r`, { token: readerToken });
    expect(favorited.body.articles.map((a: { slug: string }) => a.slug)).toEqual([slug]);
    const unfav = await call('DELETE', `/api/articles/${slug}/favorite`, { token: readerToken });
    expect(unfav.body.article).toMatchObject({ favorited: false, favoritesCount: 0 });

    // Comment
    const comment = await call('POST', `/api/articles/${slug}/comments`, {
      token: readerToken,
      body: { comment: { body: 'Thank you so much!' } },
    });
    expect(comment.status).toBe(201);
    expect(Number.isInteger(comment.body.comment.id)).toBe(true);
    expect(comment.body.comment.createdAt).toMatch(ISO_8601);
    const comments = await call('GET', `/api/articles/${slug}/comments`);
    expect(comments.body.comments.map((c: { id: number }) => c.id)).toEqual([comment.body.comment.id]);

    // Update, then clean up
    const edited = await call('PUT', `/api/articles/${slug}`, { token, body: { article: { body: 'With two hands' } } });
    expect(edited.body.article).toMatchObject({ body: 'With two hands', tagList: ['training', 'dragons'] });
    expect(edited.body.article.createdAt).toBe(created.body.article.createdAt);
    const tags = await call('GET', '/api/tags');
    expect(tags.body.tags).toEqual(expect.arrayContaining(['training', 'dragons']));

    expect(
      (await call('DELETE', `/api/articles/${slug}/comments/${comment.body.comment.id}`, { token: readerToken }))
        .status,
    ).toBe(204);
    expect((await call('DELETE', `/api/articles/${slug}`, { token })).status).toBe(204);
    expect((await call('GET', `/api/articles/${slug}`)).status).toBe(404);
    expect((await call('DELETE', `/api/profiles/${name}/follow`, { token: readerToken })).body.profile.following).toBe(
      false,
    );
  });
});
