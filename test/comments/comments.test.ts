import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createArticle, insertComment, userId } from '../helpers/content';
import { registerUser, unique } from '../helpers/factories';
import { call } from '../helpers/request';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function comment(slug: string, token: string, body = 'Nice article') {
  return call('POST', `/api/articles/${slug}/comments`, { token, body: { comment: { body } } });
}

describe('POST /api/articles/:slug/comments', () => {
  it('creates a comment: 201 with an integer id, ms timestamps and the author profile', async () => {
    const author = await registerUser();
    const article = await createArticle(author);
    const res = await comment(article.slug, author.token, '  His name was my name too.  ');
    expect(res.status).toBe(201);
    expect(Number.isInteger(res.body.comment.id)).toBe(true);
    expect(res.body.comment).toEqual({
      id: res.body.comment.id,
      createdAt: expect.stringMatching(ISO_MS),
      updatedAt: res.body.comment.createdAt,
      body: 'His name was my name too.',
      author: { username: author.username, bio: null, image: null, following: false },
    });
  });

  it('lets any signed-in user comment on a published public article', async () => {
    const [author, reader] = await Promise.all([registerUser(), registerUser()]);
    const article = await createArticle(author);
    const res = await comment(article.slug, reader.token);
    expect(res.status).toBe(201);
    expect(res.body.comment.author.username).toBe(reader.username);
  });

  it('returns 401 without a token, before checking the article or the body', async () => {
    const res = await call('POST', `/api/articles/${unique('missing-')}/comments`, { body: { comment: { body: '' } } });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: { token: ['is missing'] } });
  });

  it('returns 404 article for an unknown slug', async () => {
    const user = await registerUser();
    const res = await comment(unique('missing-'), user.token);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: { article: ['not found'] } });
  });

  it.each([
    ['an empty body', { comment: { body: '' } }, "can't be blank"],
    ['a blank body', { comment: { body: '   \n ' } }, "can't be blank"],
    ['a missing body', { comment: {} }, "can't be blank"],
    ['a body that is not a string', { comment: { body: 42 } }, undefined],
    [
      'a body over 5000 characters',
      { comment: { body: 'x'.repeat(5001) } },
      'is too long (maximum is 5000 characters)',
    ],
  ])('returns 422 for %s', async (_label, body, message) => {
    const user = await registerUser();
    const article = await createArticle(user);
    const res = await call('POST', `/api/articles/${article.slug}/comments`, { token: user.token, body });
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.errors)).toEqual(['body']);
    if (message) expect(res.body.errors.body).toEqual([message]);
  });

  it('returns 422 comment when the comment object is missing', async () => {
    const user = await registerUser();
    const article = await createArticle(user);
    const res = await call('POST', `/api/articles/${article.slug}/comments`, { token: user.token, body: {} });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ errors: { comment: ["can't be blank"] } });
  });

  it('accepts exactly 5000 characters', async () => {
    const user = await registerUser();
    const article = await createArticle(user);
    const res = await comment(article.slug, user.token, 'x'.repeat(5000));
    expect(res.status).toBe(201);
  });

  it("returns 404 article on someone else's draft or scheduled article, but lets the author comment", async () => {
    const [author, reader] = await Promise.all([registerUser(), registerUser()]);
    for (const status of ['draft', 'scheduled'] as const) {
      const article = await createArticle(author, { status });
      const res = await comment(article.slug, reader.token);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ errors: { article: ['not found'] } });
      expect((await comment(article.slug, author.token)).status).toBe(201);
    }
  });

  it('requires access to a locked article: 403 for members on a paid one, members may comment on members-only', async () => {
    const [author, reader] = await Promise.all([registerUser(), registerUser()]);
    const paid = await createArticle(author, { visibility: 'paid' });
    const res = await comment(paid.slug, reader.token);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: { article: ['forbidden'] } });
    expect((await comment(paid.slug, author.token)).status).toBe(201);

    const members = await createArticle(author, { visibility: 'members' });
    expect((await comment(members.slug, reader.token)).status).toBe(201);
  });

  it('limits each user to 10 comments a minute, then answers 429 with Retry-After and stores nothing more', async () => {
    const [user, other] = await Promise.all([registerUser(), registerUser()]);
    const article = await createArticle(user);
    for (let i = 0; i < 10; i++) expect((await comment(article.slug, user.token, `comment ${i}`)).status).toBe(201);
    const limited = await comment(article.slug, user.token, 'one too many');
    expect(limited.status).toBe(429);
    expect(limited.body.errors).toHaveProperty('rate');
    const retryAfter = Number(limited.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const stored = await env.DB.prepare('SELECT count(*) AS n FROM comments WHERE article_id = ?')
      .bind(article.id)
      .first<{ n: number }>();
    expect(stored?.n).toBe(10);
    // The limit is per user.
    expect((await comment(article.slug, other.token)).status).toBe(201);
  });

  it('costs at most two D1 round trips and one KV read', async () => {
    const user = await registerUser();
    const article = await createArticle(user);
    const res = await comment(article.slug, user.token);
    expect(res.status).toBe(201);
    expect(res.d1).toBeLessThanOrEqual(2);
    expect(res.kv).toBe(1);
  });
});

describe('GET /api/articles/:slug/comments', () => {
  it('lists comments newest first, with the viewer-specific following of each author', async () => {
    const [author, b, c] = await Promise.all([registerUser(), registerUser(), registerUser()]);
    const article = await createArticle(author);
    const t = Date.now();
    await insertComment(article.id, await userId(b.username), 'first', t - 2000);
    await insertComment(article.id, await userId(c.username), 'second', t - 1000);
    await call('POST', `/api/profiles/${b.username}/follow`, { token: author.token });

    const mine = await call('GET', `/api/articles/${article.slug}/comments`, { token: author.token });
    expect(mine.status).toBe(200);
    expect(mine.body.comments.map((x: any) => [x.body, x.author.username, x.author.following])).toEqual([
      ['second', c.username, false],
      ['first', b.username, true],
    ]);
    const first = mine.body.comments[1];
    expect(Number.isInteger(first.id)).toBe(true);
    expect(first.createdAt).toBe(new Date(t - 2000).toISOString());
    expect(first.updatedAt).toBe(first.createdAt);
    expect(Object.keys(first).sort()).toEqual(['author', 'body', 'createdAt', 'id', 'updatedAt']);

    const anonymous = await call('GET', `/api/articles/${article.slug}/comments`);
    expect(anonymous.body.comments.map((x: any) => x.author.following)).toEqual([false, false]);
  });

  it('returns an empty list for an article without comments', async () => {
    const author = await registerUser();
    const article = await createArticle(author);
    const res = await call('GET', `/api/articles/${article.slug}/comments`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ comments: [] });
  });

  it("shows only the article's own comments", async () => {
    const author = await registerUser();
    const [one, two] = await Promise.all([createArticle(author), createArticle(author)]);
    await comment(one.slug, author.token, 'on one');
    await comment(two.slug, author.token, 'on two');
    const res = await call('GET', `/api/articles/${one.slug}/comments`);
    expect(res.body.comments.map((x: any) => x.body)).toEqual(['on one']);
  });

  it('returns 404 article for an unknown slug', async () => {
    const res = await call('GET', `/api/articles/${unique('missing-')}/comments`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: { article: ['not found'] } });
  });

  it("returns 404 article for someone else's draft, but shows the author its comments", async () => {
    const [author, reader] = await Promise.all([registerUser(), registerUser()]);
    const draft = await createArticle(author, { status: 'draft' });
    await comment(draft.slug, author.token, 'note to self');
    expect((await call('GET', `/api/articles/${draft.slug}/comments`)).status).toBe(404);
    expect((await call('GET', `/api/articles/${draft.slug}/comments`, { token: reader.token })).status).toBe(404);
    const own = await call('GET', `/api/articles/${draft.slug}/comments`, { token: author.token });
    expect(own.body.comments.map((x: any) => x.body)).toEqual(['note to self']);
  });

  it('withholds the discussion of a locked article from viewers without access (empty list)', async () => {
    const [author, member] = await Promise.all([registerUser(), registerUser()]);
    const members = await createArticle(author, { visibility: 'members' });
    await comment(members.slug, author.token, 'members talk');
    const anonymous = await call('GET', `/api/articles/${members.slug}/comments`);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ comments: [] });
    const signedIn = await call('GET', `/api/articles/${members.slug}/comments`, { token: member.token });
    expect(signedIn.body.comments).toHaveLength(1);

    const paid = await createArticle(author, { visibility: 'paid' });
    await comment(paid.slug, author.token, 'paid talk');
    expect((await call('GET', `/api/articles/${paid.slug}/comments`, { token: member.token })).body).toEqual({
      comments: [],
    });
    expect(
      (await call('GET', `/api/articles/${paid.slug}/comments`, { token: author.token })).body.comments,
    ).toHaveLength(1);
  });

  it('costs one D1 round trip (plus one KV read when signed in), whatever the number of comments and authors', async () => {
    const reader = await registerUser();
    const authors = await Promise.all(Array.from({ length: 50 }, () => registerUser()));
    const article = await createArticle(authors[0]!);
    const single = await createArticle(authors[0]!);
    const ids = await Promise.all(authors.map((a) => userId(a.username)));
    await Promise.all(ids.map((id, i) => insertComment(article.id, id, `comment ${i}`, Date.now() - i)));
    await insertComment(single.id, ids[0]!, 'only one');
    await Promise.all(
      authors.slice(0, 5).map((a) => call('POST', `/api/profiles/${a.username}/follow`, { token: reader.token })),
    );

    const one = await call('GET', `/api/articles/${single.slug}/comments`, { token: reader.token });
    const fifty = await call('GET', `/api/articles/${article.slug}/comments`, { token: reader.token });
    expect(one.body.comments).toHaveLength(1);
    expect(fifty.body.comments).toHaveLength(50);
    expect(fifty.body.comments.filter((x: any) => x.author.following)).toHaveLength(5);
    expect(new Set(fifty.body.comments.map((x: any) => x.author.username)).size).toBe(50);
    expect(one.d1).toBe(1);
    expect(fifty.d1).toBe(1);
    expect(fifty.kv).toBe(1);

    const anonymous = await call('GET', `/api/articles/${article.slug}/comments`);
    expect(anonymous.d1).toBe(1);
    expect(anonymous.kv).toBe(0);
  });
});

describe('DELETE /api/articles/:slug/comments/:id', () => {
  it("deletes the caller's own comment: 204, and the other comments stay", async () => {
    const user = await registerUser();
    const article = await createArticle(user);
    const first = (await comment(article.slug, user.token, 'First comment')).body.comment.id;
    await comment(article.slug, user.token, 'Second comment');
    const res = await call('DELETE', `/api/articles/${article.slug}/comments/${first}`, { token: user.token });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    const list = await call('GET', `/api/articles/${article.slug}/comments`);
    expect(list.body.comments.map((x: any) => x.body)).toEqual(['Second comment']);
  });

  it("lets the article's author delete anyone's comment (moderation)", async () => {
    const [author, commenter] = await Promise.all([registerUser(), registerUser()]);
    const article = await createArticle(author);
    const id = (await comment(article.slug, commenter.token, 'spam')).body.comment.id;
    const res = await call('DELETE', `/api/articles/${article.slug}/comments/${id}`, { token: author.token });
    expect(res.status).toBe(204);
    expect((await call('GET', `/api/articles/${article.slug}/comments`)).body.comments).toEqual([]);
  });

  it("returns 403 comment when deleting someone else's comment on someone else's article", async () => {
    const [author, commenter, other] = await Promise.all([registerUser(), registerUser(), registerUser()]);
    const article = await createArticle(author);
    const id = (await comment(article.slug, commenter.token)).body.comment.id;
    const res = await call('DELETE', `/api/articles/${article.slug}/comments/${id}`, { token: other.token });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: { comment: ['forbidden'] } });
    expect((await call('GET', `/api/articles/${article.slug}/comments`)).body.comments).toHaveLength(1);
  });

  it('returns 401 without a token, before checking the article or the id', async () => {
    for (const id of ['1', 'abc']) {
      const res = await call('DELETE', `/api/articles/${unique('missing-')}/comments/${id}`);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ errors: { token: ['is missing'] } });
    }
  });

  it('returns 404 article for an unknown slug', async () => {
    const user = await registerUser();
    const res = await call('DELETE', `/api/articles/${unique('missing-')}/comments/99999`, { token: user.token });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: { article: ['not found'] } });
  });

  it('returns 404 comment for an unknown id, or an id belonging to another article', async () => {
    const user = await registerUser();
    const [one, two] = await Promise.all([createArticle(user), createArticle(user)]);
    const onTwo = (await comment(two.slug, user.token)).body.comment.id;
    for (const id of [99999999, onTwo]) {
      const res = await call('DELETE', `/api/articles/${one.slug}/comments/${id}`, { token: user.token });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ errors: { comment: ['not found'] } });
    }
    expect((await call('GET', `/api/articles/${two.slug}/comments`)).body.comments).toHaveLength(1);
  });

  it.each(['abc', '1.5', '-1', '0', '1e3', '12345678901234567890'])(
    'returns 422 id for the non-integer id %s',
    async (id) => {
      const user = await registerUser();
      const article = await createArticle(user);
      const res = await call('DELETE', `/api/articles/${article.slug}/comments/${id}`, { token: user.token });
      expect(res.status).toBe(422);
      expect(res.body).toEqual({ errors: { id: ['must be a positive integer'] } });
    },
  );

  it("returns 404 article for a comment on someone else's draft", async () => {
    const [author, other] = await Promise.all([registerUser(), registerUser()]);
    const draft = await createArticle(author, { status: 'draft' });
    const id = (await comment(draft.slug, author.token)).body.comment.id;
    const res = await call('DELETE', `/api/articles/${draft.slug}/comments/${id}`, { token: other.token });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: { article: ['not found'] } });
  });

  it('lets a commenter delete their comment on a locked article they can no longer read', async () => {
    const [author, commenter] = await Promise.all([registerUser(), registerUser()]);
    const article = await createArticle(author);
    const id = (await comment(article.slug, commenter.token)).body.comment.id;
    await env.DB.prepare("UPDATE articles SET visibility = 'paid' WHERE id = ?").bind(article.id).run();
    const res = await call('DELETE', `/api/articles/${article.slug}/comments/${id}`, { token: commenter.token });
    expect(res.status).toBe(204);
  });

  it('costs at most two D1 round trips and one KV read', async () => {
    const user = await registerUser();
    const article = await createArticle(user);
    const id = (await comment(article.slug, user.token)).body.comment.id;
    const res = await call('DELETE', `/api/articles/${article.slug}/comments/${id}`, { token: user.token });
    expect(res.status).toBe(204);
    expect(res.d1).toBeLessThanOrEqual(2);
    expect(res.kv).toBe(1);
  });
});

describe('comments on an article created through POST /api/articles', () => {
  it('follows the RealWorld flow: create, list (with and without auth), delete', async () => {
    const user = await registerUser();
    const created = await call('POST', '/api/articles', {
      token: user.token,
      body: { article: { title: `Comment Article ${unique()}`, description: 'For comments', body: 'Article body' } },
    });
    expect(created.status).toBe(201);
    const slug = created.body.article.slug;
    const id = (await comment(slug, user.token, 'Test comment body')).body.comment.id;
    for (const token of [user.token, undefined]) {
      const list = await call('GET', `/api/articles/${slug}/comments`, { token });
      expect(list.body.comments).toEqual([expect.objectContaining({ id, body: 'Test comment body' })]);
    }
    expect((await call('DELETE', `/api/articles/${slug}/comments/${id}`, { token: user.token })).status).toBe(204);
    expect((await call('GET', `/api/articles/${slug}/comments`)).body).toEqual({ comments: [] });
  });
});

describe('OpenAPI document', () => {
  it('documents the comment and profile routes, with the comment id as an integer', async () => {
    const doc = (await call('GET', '/api/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/profiles/{username}',
        '/api/profiles/{username}/follow',
        '/api/articles/{slug}/comments',
        '/api/articles/{slug}/comments/{id}',
      ]),
    );
    const params = doc.paths['/api/articles/{slug}/comments/{id}'].delete.parameters;
    expect(params.find((p: any) => p.name === 'id').schema.type).toBe('integer');
    expect(doc.components.schemas.Comment.properties.id.type).toBe('integer');
  });
});
