import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { DELETED_RETENTION_MS } from '../../src/privacy/privacy.service';
import { sessionKey } from '../../src/sessions/sessions.kv';
import { login, registerUser, type TestUser, sessionIdOf } from '../helpers/factories';
import { call } from '../helpers/request';
import { userWithRole } from '../helpers/roles';
import { DAILY, jobResult, runCron } from '../maintenance/cron';

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8]);

/** A member with one of each kind of data: published and draft articles, a comment, a favorite, follows, an upload. */
async function activeMember(other: TestUser) {
  const user = await registerUser();
  const post = (body: unknown) => call('POST', '/api/articles', { token: user.token, body });
  const published = await post({
    article: { title: `Pub ${user.username}`, description: 'd', body: 'published body' },
  });
  const draft = await post({
    article: { title: `Draft ${user.username}`, description: 'd', body: 'secret draft', status: 'draft' },
  });
  const theirs = await call('POST', '/api/articles', {
    token: other.token,
    body: { article: { title: `Other ${other.username}`, description: 'd', body: 'other body' } },
  });
  const slug = theirs.body.article.slug;
  const comment = await call('POST', `/api/articles/${slug}/comments`, {
    token: user.token,
    body: { comment: { body: `comment by ${user.username}` } },
  });
  await call('POST', `/api/articles/${slug}/favorite`, { token: user.token });
  await call('POST', `/api/profiles/${other.username}/follow`, { token: user.token });
  await call('POST', `/api/profiles/${user.username}/follow`, { token: other.token });
  const upload = await call('POST', '/api/media', {
    token: user.token,
    bytes: PNG,
    headers: { 'Content-Type': 'image/png' },
  });
  return {
    user,
    published: published.body.article.slug as string,
    draft: draft.body.article.slug as string,
    otherSlug: slug as string,
    commentId: comment.body.comment.id as number,
    mediaUrl: upload.body.media.url as string,
  };
}

describe('GET /api/user/export', () => {
  it("contains each kind of the member's data and nothing private of other members", async () => {
    const other = await registerUser();
    const m = await activeMember(other);
    // The other member's own private data, which must not appear.
    await call('POST', '/api/articles', {
      token: other.token,
      body: { article: { title: 'Other draft', description: 'd', body: 'OTHER-PRIVATE-DRAFT', status: 'draft' } },
    });
    const res = await call('GET', '/api/user/export', { token: m.user.token });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Disposition')).toMatch(/^attachment; filename="folio-export-/);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const x = res.body;
    expect(x.format).toBe('folio-export/1');
    expect(x.profile).toMatchObject({ username: m.user.username, email: m.user.email, role: expect.any(String) });
    expect(x.articles.map((a: any) => a.slug).sort()).toEqual([m.published, m.draft].sort());
    expect(x.articles.find((a: any) => a.slug === m.draft)).toMatchObject({ status: 'draft', body: 'secret draft' });
    expect(x.comments).toEqual([
      expect.objectContaining({ id: m.commentId, article: m.otherSlug, body: `comment by ${m.user.username}` }),
    ]);
    expect(x.favorites).toEqual([expect.objectContaining({ article: m.otherSlug })]);
    expect(x.following).toEqual([expect.objectContaining({ username: other.username })]);
    expect(x.followers).toEqual([expect.objectContaining({ username: other.username })]);
    expect(x.sessions.length).toBeGreaterThanOrEqual(1);
    expect(x.sessions[0]).toHaveProperty('userAgent');
    expect(x.media).toEqual([
      expect.objectContaining({ path: new URL(m.mediaUrl).pathname, contentType: 'image/png' }),
    ]);
    const text = JSON.stringify(x);
    expect(text).not.toContain(other.email);
    expect(text).not.toContain('OTHER-PRIVATE-DRAFT');
    expect(text).not.toContain('other body');
    expect(text).not.toContain('password');
  });

  it('is limited to once a day (429 with Retry-After), per member', async () => {
    const [a, b] = await Promise.all([registerUser(), registerUser()]);
    expect((await call('GET', '/api/user/export', { token: a.token })).status).toBe(200);
    const again = await call('GET', '/api/user/export', { token: a.token });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect((await call('GET', '/api/user/export', { token: b.token })).status).toBe(200);
  });

  it('pages through large sections (more than one page of comments)', async () => {
    const user = await registerUser();
    const id = (await env.DB.prepare('SELECT id FROM users WHERE username = ?')
      .bind(user.username)
      .first<{ id: string }>())!.id;
    const article = await call('POST', '/api/articles', {
      token: user.token,
      body: { article: { title: 'Many', description: 'd', body: 'b' } },
    });
    const articleId = (await env.DB.prepare('SELECT id FROM articles WHERE slug = ?')
      .bind(article.body.article.slug)
      .first<{ id: number }>())!.id;
    const stmt = env.DB.prepare(
      'INSERT INTO comments (article_id, author_id, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    );
    await env.DB.batch(Array.from({ length: 1203 }, (_, i) => stmt.bind(articleId, id, `c${i}`, i, i)));
    const res = await call('GET', '/api/user/export', { token: user.token });
    expect(res.body.comments).toHaveLength(1203);
    expect(new Set(res.body.comments.map((c: any) => c.id)).size).toBe(1203);
  });

  it('needs a token', async () => {
    expect((await call('GET', '/api/user/export')).status).toBe(401);
  });
});

describe('DELETE /api/user', () => {
  it('requires the password again (403 when wrong, 422 when missing) and changes nothing then', async () => {
    const user = await registerUser();
    const wrong = await call('DELETE', '/api/user', { token: user.token, body: { password: 'not-my-password' } });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toEqual({ errors: { password: ['is invalid'] } });
    expect((await call('DELETE', '/api/user', { token: user.token, body: {} })).status).toBe(422);
    expect((await call('GET', '/api/user', { token: user.token })).status).toBe(200);
  });

  it('anonymises the account, signs it out everywhere, frees the username and email, and keeps other views coherent', async () => {
    const other = await registerUser();
    const m = await activeMember(other);
    const second = await login(m.user.email, m.user.password);
    const before = await call('GET', `/api/articles/${m.otherSlug}`);
    expect(before.body.article.favoritesCount).toBe(1);

    const res = await call('DELETE', '/api/user', { token: m.user.token, body: { password: m.user.password } });
    expect(res.status).toBe(204);

    // Signed out everywhere (D1 and this location's KV copies).
    expect((await call('GET', '/api/user', { token: m.user.token })).status).toBe(401);
    expect((await call('GET', '/api/user', { token: second.body.user.token })).status).toBe(401);
    expect(await env.SESSIONS.get(sessionKey(sessionIdOf(second.body.user.token)))).toBeNull();
    expect((await login(m.user.email, m.user.password)).status).toBe(401);

    // Others' views: the comment is gone, the favorite count dropped, the follow is gone both ways.
    const comments = await call('GET', `/api/articles/${m.otherSlug}/comments`, { token: other.token });
    expect(comments.body.comments.map((c: any) => c.id)).not.toContain(m.commentId);
    expect((await call('GET', `/api/articles/${m.otherSlug}`)).body.article.favoritesCount).toBe(0);
    expect((await call('GET', `/api/profiles/${m.user.username}`)).status).toBe(404);
    // The draft is gone; the published article stays, credited to the anonymised name.
    expect((await call('GET', `/api/articles/${m.draft}`)).status).toBe(404);
    const kept = await call('GET', `/api/articles/${m.published}`, { token: other.token });
    expect(kept.status).toBe(200);
    expect(kept.body.article.author).toEqual({
      username: expect.stringMatching(/^deleted-/),
      bio: null,
      image: null,
      following: false,
    });
    // The upload is gone from R2.
    expect((await call('GET', new URL(m.mediaUrl).pathname)).status).toBe(404);

    // The username and email are free again.
    const again = await call('POST', '/api/users', {
      body: { user: { username: m.user.username, email: m.user.email, password: 'another-password' } },
    });
    expect(again.status).toBe(201);
  });

  it('refuses to delete the last admin (409)', async () => {
    const admin = await userWithRole('admin');
    await env.DB.prepare("UPDATE users SET role = 'member' WHERE role = 'admin' AND username <> ?")
      .bind(admin.username)
      .run();
    const res = await call('DELETE', '/api/user', { token: admin.token, body: { password: admin.password } });
    expect(res.status).toBe(409);
    expect((await call('GET', '/api/user', { token: admin.token })).status).toBe(200);
  });
});

describe('daily cron: hard delete after the retention period', () => {
  it('removes anonymised accounts with no articles once retention has passed, keeps article authors', async () => {
    const other = await registerUser();
    const [withArticle, without] = [await activeMember(other), await registerUser()];
    for (const u of [withArticle.user, without]) {
      expect((await call('DELETE', '/api/user', { token: u.token, body: { password: u.password } })).status).toBe(204);
    }
    const ids = await env.DB.prepare('SELECT id, username FROM users WHERE email LIKE ?')
      .bind('%@deleted.invalid')
      .all<{ id: string }>();
    const soon = await runCron(DAILY, Date.now() + 1000);
    expect(jobResult(soon, 'purge')?.deletedAccounts).toBe(0);
    const later = await runCron(DAILY, Date.now() + DELETED_RETENTION_MS + 60_000);
    expect(jobResult(later, 'purge')?.deletedAccounts).toBeGreaterThanOrEqual(1);
    const left = await env.DB.prepare('SELECT id FROM users WHERE email LIKE ?')
      .bind('%@deleted.invalid')
      .all<{ id: string }>();
    expect(left.results.length).toBeLessThan(ids.results.length);
    // The one credited with a published article stays.
    expect((await call('GET', `/api/articles/${withArticle.published}`)).status).toBe(200);
  });
});
