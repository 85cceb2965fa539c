import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sessionKey } from '../../src/sessions/sessions.kv';
import { createArticle } from '../helpers/content';
import { login, registerUser, unique, sessionIdOf } from '../helpers/factories';
import { call } from '../helpers/request';
import { auditRows, userWithRole } from '../helpers/roles';

describe('GET /api/admin/users', () => {
  it('searches by username or email prefix, pages newest first with a keyset cursor and a total', async () => {
    const editor = await userWithRole('editor');
    const prefix = unique('srch');
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await registerUser({ username: `${prefix}${i}` }));
    const first = await call('GET', `/api/admin/users?q=${prefix.toUpperCase()}&limit=2`, { token: editor.token });
    expect(first.status).toBe(200);
    expect(first.d1).toBe(1);
    expect(first.body.usersCount).toBe(5);
    expect(first.body.users.map((u: any) => u.username)).toEqual([`${prefix}4`, `${prefix}3`]);
    expect(first.body.users[0]).toMatchObject({ role: 'member', ban: null, deletedAt: null, emailVerified: false });
    const second = await call('GET', `/api/admin/users?q=${prefix}&limit=2&cursor=${first.body.nextCursor}`, {
      token: editor.token,
    });
    expect(second.body.users.map((u: any) => u.username)).toEqual([`${prefix}2`, `${prefix}1`]);
    const third = await call('GET', `/api/admin/users?q=${prefix}&limit=2&cursor=${second.body.nextCursor}`, {
      token: editor.token,
    });
    expect(third.body.users.map((u: any) => u.username)).toEqual([`${prefix}0`]);
    expect(third.body.nextCursor).toBeNull();
    const byEmail = await call('GET', `/api/admin/users?q=${made[2]!.email}`, { token: editor.token });
    expect(byEmail.body.users.map((u: any) => u.username)).toEqual([made[2]!.username]);
  });

  it('filters by role and rejects a malformed cursor (422)', async () => {
    const admin = await userWithRole('admin');
    const author = await userWithRole('author');
    const res = await call('GET', '/api/admin/users?role=author&limit=100', { token: admin.token });
    expect(res.body.users.every((u: any) => u.role === 'author')).toBe(true);
    expect(res.body.users.map((u: any) => u.id)).toContain(author.id);
    const bad = await call('GET', '/api/admin/users?cursor=nope', { token: admin.token });
    expect(bad.status).toBe(422);
  });
});

describe('GET /api/admin/users/:id', () => {
  it('shows one account with its active sessions and articles; unknown ids 404', async () => {
    const [admin, user] = await Promise.all([userWithRole('admin'), userWithRole('member')]);
    await createArticle(user);
    const res = await call('GET', `/api/admin/users/${user.id}`, { token: admin.token });
    expect(res.status).toBe(200);
    // registration + login in userWithRole: two sessions.
    expect(res.body.user).toMatchObject({ id: user.id, email: user.email, activeSessions: 2, articlesCount: 1 });
    expect((await call('GET', '/api/admin/users/usr_missing', { token: admin.token })).status).toBe(404);
  });
});

describe('bans', () => {
  it('revokes every session, blocks login with the reason, and writes the audit row', async () => {
    const [admin, user] = await Promise.all([userWithRole('admin'), userWithRole('member')]);
    const until = new Date(Date.now() + 86_400_000).toISOString();
    const res = await call('POST', `/api/admin/users/${user.id}/ban`, {
      token: admin.token,
      body: { ban: { reason: 'spam', until } },
    });
    expect(res.status).toBe(200);
    expect(res.body.user.ban).toEqual({ at: expect.any(String), until, reason: 'spam', active: true });
    expect(await env.SESSIONS.get(sessionKey(sessionIdOf(user.token)))).toBeNull();
    expect((await call('GET', '/api/user', { token: user.token })).status).toBe(401);
    expect((await call('POST', '/api/users/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(401);
    const again = await login(user.email, user.password);
    expect(again.status).toBe(403);
    expect(again.body).toEqual({ errors: { user: [`is banned until ${until}`] } });
    // A wrong password still answers the generic 401: the ban is only told to the account's owner.
    expect((await login(user.email, 'wrong-password')).status).toBe(401);
    const audit = await auditRows(user.id);
    expect(audit.map((a) => a.action)).toEqual(['user.ban']);
    expect(JSON.parse(audit[0]!.before)).toEqual({
      role: 'member',
      bannedAt: null,
      bannedUntil: null,
      banReason: null,
    });
    expect(JSON.parse(audit[0]!.after)).toMatchObject({ banReason: 'spam', bannedUntil: Date.parse(until) });
  });

  it('blocks commenting for a session still accepted elsewhere (the SQL ban check)', async () => {
    const [author, user] = await Promise.all([registerUser(), userWithRole('member')]);
    const article = await createArticle(author);
    // As if the ban reached D1 while another location still holds this session's KV copy.
    await env.DB.prepare('UPDATE users SET banned_at = ?, ban_reason = ? WHERE id = ?')
      .bind(Date.now(), 'x', user.id)
      .run();
    const res = await call('POST', `/api/articles/${article.slug}/comments`, {
      token: user.token,
      body: { comment: { body: 'hi' } },
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: { user: ['is banned'] } });
    const { results } = await env.DB.prepare('SELECT id FROM comments WHERE author_id = ?').bind(user.id).all();
    expect(results).toHaveLength(0);
  });

  it('ends by itself at its expiry, and unban lifts it at once (audited)', async () => {
    const [admin, user] = await Promise.all([userWithRole('admin'), userWithRole('member')]);
    await env.DB.prepare('UPDATE users SET banned_at = ?, banned_until = ? WHERE id = ?')
      .bind(Date.now() - 10_000, Date.now() - 1000, user.id)
      .run();
    expect((await login(user.email, user.password)).status).toBe(200);
    await call('POST', `/api/admin/users/${user.id}/ban`, { token: admin.token, body: { ban: { reason: 'again' } } });
    expect((await login(user.email, user.password)).body).toEqual({ errors: { user: ['is banned'] } });
    const lifted = await call('DELETE', `/api/admin/users/${user.id}/ban`, { token: admin.token });
    expect(lifted.status).toBe(200);
    expect(lifted.body.user.ban).toBeNull();
    expect((await login(user.email, user.password)).status).toBe(200);
    expect((await auditRows(user.id)).map((a) => a.action)).toEqual(['user.ban', 'user.unban']);
  });

  it('refuses banning yourself, an admin, or with a past expiry (422), and writes nothing', async () => {
    const [admin, other, user] = await Promise.all([
      userWithRole('admin'),
      userWithRole('admin'),
      userWithRole('member'),
    ]);
    const ban = (id: string, body: unknown) => call('POST', `/api/admin/users/${id}/ban`, { token: admin.token, body });
    expect((await ban(admin.id, { ban: { reason: 'x' } })).status).toBe(422);
    expect((await ban(other.id, { ban: { reason: 'x' } })).status).toBe(422);
    expect((await ban(user.id, { ban: { reason: 'x', until: '2000-01-01T00:00:00Z' } })).status).toBe(422);
    expect((await ban(user.id, { ban: { reason: '' } })).status).toBe(422);
    expect(await auditRows(other.id)).toHaveLength(0);
    expect(await auditRows(user.id)).toHaveLength(0);
    expect((await call('GET', '/api/user', { token: user.token })).status).toBe(200);
  });
});

describe("an account's sessions", () => {
  it('lists them and revokes one or all (KV copies dropped, audited)', async () => {
    const [admin, user] = await Promise.all([userWithRole('admin'), userWithRole('member')]);
    const third = await login(user.email, user.password);
    const list = await call('GET', `/api/admin/users/${user.id}/sessions`, { token: admin.token });
    expect(list.status).toBe(200);
    expect(list.body.sessions).toHaveLength(3);
    const one = sessionIdOf(user.token);
    expect((await call('DELETE', `/api/admin/users/${user.id}/sessions/${one}`, { token: admin.token })).status).toBe(
      204,
    );
    expect(await env.SESSIONS.get(sessionKey(one))).toBeNull();
    expect((await call('GET', '/api/user', { token: user.token })).status).toBe(401);
    expect((await call('GET', '/api/user', { token: third.body.user.token })).status).toBe(200);
    expect((await call('DELETE', `/api/admin/users/${user.id}/sessions/${one}`, { token: admin.token })).status).toBe(
      404,
    );
    const all = await call('DELETE', `/api/admin/users/${user.id}/sessions`, { token: admin.token });
    expect(all.body).toEqual({ revoked: 2 });
    expect((await call('GET', '/api/user', { token: third.body.user.token })).status).toBe(401);
    const audit = await auditRows(user.id);
    expect(audit.map((a) => a.action)).toEqual(['session.revoke', 'session.revoke_all']);
    expect(JSON.parse(audit[0]!.before)).toEqual({ sessions: [one] });
  });
});

describe('GET /api/admin/audit', () => {
  it('pages newest first and filters by target; the log refuses UPDATE and DELETE', async () => {
    const [admin, a, b] = await Promise.all([userWithRole('admin'), userWithRole('member'), userWithRole('member')]);
    await call('PUT', `/api/admin/users/${a.id}/role`, { token: admin.token, body: { user: { role: 'author' } } });
    await call('PUT', `/api/admin/users/${b.id}/role`, { token: admin.token, body: { user: { role: 'author' } } });
    const page = await call('GET', '/api/admin/audit?limit=1', { token: admin.token });
    expect(page.status).toBe(200);
    expect(page.body.entries).toHaveLength(1);
    expect(page.body.entries[0]).toMatchObject({
      actor: { id: admin.id, username: admin.username },
      action: 'user.role.set',
      target: { type: 'user', id: b.id },
      before: { role: 'member' },
      after: { role: 'author' },
    });
    const next = await call('GET', `/api/admin/audit?limit=1&cursor=${page.body.nextCursor}`, { token: admin.token });
    expect(next.body.entries[0].target.id).toBe(a.id);
    const filtered = await call('GET', `/api/admin/audit?targetType=user&targetId=${a.id}`, { token: admin.token });
    expect(filtered.body.entries.map((e: any) => e.target.id)).toEqual([a.id]);
    await expect(env.DB.prepare("UPDATE audit_log SET action = 'x'").run()).rejects.toThrow(/append-only/);
    await expect(env.DB.prepare('DELETE FROM audit_log').run()).rejects.toThrow(/append-only/);
  });
});
