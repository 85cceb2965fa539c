import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ALL_PERMISSIONS, can, type Permission, type Role } from '../../src/security/permissions';
import { sessionKey } from '../../src/sessions/sessions.kv';
import { login, registerUser, sessionIdOf } from '../helpers/factories';
import { call } from '../helpers/request';
import { auditRows, userWithRole } from '../helpers/roles';
import { postArticle } from '../articles/helpers';

const ROLES: Role[] = ['member', 'author', 'editor', 'admin'];

/** The expected lowest role per permission, written out independently of src/security/permissions.ts. */
const EXPECTED: Record<Permission, Role> = {
  'publish:article': 'member',
  'upload:media': 'member',
  'report:comment': 'member',
  'edit:any-article': 'editor',
  'delete:any-article': 'editor',
  'moderate:comment': 'editor',
  'moderate:message': 'editor',
  'read:users': 'editor',
  'ban:user': 'admin',
  'manage:roles': 'admin',
  'manage:sessions': 'admin',
  'manage:tiers': 'admin',
  'manage:memberships': 'admin',
  'refund:payment': 'admin',
  'read:revenue': 'admin',
  'manage:webhooks': 'admin',
  'read:audit': 'admin',
};

const rank = (r: Role) => ROLES.indexOf(r);

describe('the permission table', () => {
  it('lists exactly the expected permissions', () => {
    expect([...ALL_PERMISSIONS].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const role of ROLES) {
    for (const permission of Object.keys(EXPECTED) as Permission[]) {
      const allowed = rank(role) >= rank(EXPECTED[permission]);
      it(`${role} ${allowed ? 'may' : 'may not'} ${permission}`, () => {
        expect(can(role, permission, { onlyAuthorsPublish: false })).toBe(allowed);
      });
    }
  }

  it('ONLY_AUTHORS_PUBLISH raises publish:article to author, and nothing else', () => {
    const config = { onlyAuthorsPublish: true };
    expect(ROLES.filter((r) => can(r, 'publish:article', config))).toEqual(['author', 'editor', 'admin']);
    for (const p of ALL_PERMISSIONS.filter((p) => p !== 'publish:article')) {
      expect(ROLES.map((r) => can(r, p, config))).toEqual(ROLES.map((r) => can(r, p, { onlyAuthorsPublish: false })));
    }
  });
});

/** One endpoint per admin permission, each checked by requirePermission. */
const ENDPOINTS: Array<{ permission: Permission; method: string; path: (target: string) => string; body?: unknown }> = [
  { permission: 'read:users', method: 'GET', path: () => '/api/admin/users' },
  { permission: 'moderate:comment', method: 'GET', path: () => '/api/admin/reports' },
  { permission: 'read:audit', method: 'GET', path: () => '/api/admin/audit' },
  { permission: 'manage:sessions', method: 'GET', path: (t) => `/api/admin/users/${t}/sessions` },
  {
    permission: 'manage:roles',
    method: 'PUT',
    path: (t) => `/api/admin/users/${t}/role`,
    body: { user: { role: 'author' } },
  },
  {
    permission: 'ban:user',
    method: 'POST',
    path: (t) => `/api/admin/users/${t}/ban`,
    body: { ban: { reason: 'test' } },
  },
  { permission: 'manage:webhooks', method: 'GET', path: () => '/api/admin/webhooks' },
];

describe('role × admin endpoint', () => {
  for (const role of ROLES) {
    for (const endpoint of ENDPOINTS) {
      const allowed = rank(role) >= rank(EXPECTED[endpoint.permission]);
      it(`${role}: ${endpoint.method} ${endpoint.path(':id')} → ${allowed ? 'allowed' : '403'}`, async () => {
        const [caller, target] = await Promise.all([userWithRole(role), userWithRole('member')]);
        const res = await call(endpoint.method, endpoint.path(target.id), { token: caller.token, body: endpoint.body });
        if (allowed) expect(res.status).toBe(200);
        else {
          expect(res.status).toBe(403);
          expect(res.body).toEqual({ errors: { permission: [`${endpoint.permission} required`] } });
        }
      });
    }
  }

  it('answers 401 before 403 without a token', async () => {
    const res = await call('GET', '/api/admin/users');
    expect(res.status).toBe(401);
  });
});

/** An article's numeric id as the audit log stores it (text). */
const articleId = async (slug: string) =>
  String((await env.DB.prepare('SELECT id FROM articles WHERE slug = ?').bind(slug).first<{ id: number }>())!.id);

describe('publishing', () => {
  const article = { article: { title: 'Hello', description: 'd', body: 'b' } };

  it('lets any member publish by default (RealWorld)', async () => {
    const member = await userWithRole('member');
    expect((await call('POST', '/api/articles', { token: member.token, body: article })).status).toBe(201);
  });

  it('with ONLY_AUTHORS_PUBLISH=true, members get 403 and authors publish', async () => {
    const vars = { ONLY_AUTHORS_PUBLISH: 'true' };
    const [member, author] = await Promise.all([userWithRole('member'), userWithRole('author')]);
    const refused = await call('POST', '/api/articles', { token: member.token, body: article, env: vars });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ errors: { permission: ['publish:article required'] } });
    expect((await call('POST', '/api/articles', { token: author.token, body: article, env: vars })).status).toBe(201);
  });

  it("lets an editor edit someone else's article (audited), but not a plain author", async () => {
    const [writer, editor, author] = await Promise.all([
      userWithRole('member'),
      userWithRole('editor'),
      userWithRole('author'),
    ]);
    const created = await call('POST', '/api/articles', { token: writer.token, body: article });
    const slug = created.body.article.slug;
    const patch = { article: { description: 'edited' } };
    expect((await call('PUT', `/api/articles/${slug}`, { token: author.token, body: patch })).status).toBe(403);
    const edited = await call('PUT', `/api/articles/${slug}`, {
      token: editor.token,
      body: { article: { description: 'edited', body: 'a new body' } },
      headers: { 'X-Request-Id': 'req-edit-1' },
    });
    expect(edited.status).toBe(200);
    expect(edited.body.article.description).toBe('edited');
    expect(edited.body.article.author.username).toBe(writer.username);

    // The editor's edit is audited in the update's batch; the author's own edits and refused ones are not.
    const id = await articleId(slug);
    const audit = await auditRows(id, 'article');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor_id: editor.id,
      action: 'article.update',
      target_type: 'article',
      request_id: 'req-edit-1',
    });
    expect(JSON.parse(audit[0]!.before)).toEqual({
      slug,
      title: 'Hello',
      authorId: writer.id,
      status: 'published',
      visibility: 'public',
    });
    expect(JSON.parse(audit[0]!.after)).toEqual({ description: 'edited', body: '(changed)' });
    expect((await call('PUT', `/api/articles/${slug}`, { token: writer.token, body: patch })).status).toBe(200);
    expect(await auditRows(id, 'article')).toHaveLength(1);
  });
});

describe('DELETE /api/articles/:slug (delete:any-article)', () => {
  /** An endpoint subscribed to article.deleted; returns the slugs of the events queued for it. */
  async function deletedHook() {
    const admin = await userWithRole('admin');
    const res = await call('POST', '/api/admin/webhooks', {
      token: admin.token,
      body: { webhook: { url: 'https://hooks.example.com/deleted', events: ['article.deleted'] } },
    });
    expect(res.status).toBe(201);
    return async () => {
      const { results } = await env.DB.prepare('SELECT payload FROM webhook_deliveries WHERE endpoint_id = ?')
        .bind(res.body.webhook.id)
        .all<{ payload: string }>();
      return results.map((r) => JSON.parse(r.payload).data.slug as string);
    };
  }

  it("lets an editor remove someone else's article: 204, audited in the same batch, webhook sent, cache purged", async () => {
    const [writer, editor] = await Promise.all([userWithRole('member'), userWithRole('editor')]);
    const deletedSlugs = await deletedHook();
    const article = await postArticle(writer);
    const id = await articleId(article.slug);
    // An anonymous read is cached at the edge; the moderator's delete must drop it.
    await call('GET', `/api/articles/${article.slug}`);
    expect((await call('GET', `/api/articles/${article.slug}`)).headers.get('Folio-Cache')).toBe('hit');

    const res = await call('DELETE', `/api/articles/${article.slug}`, {
      token: editor.token,
      headers: { 'X-Request-Id': 'req-moderate-1' },
    });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    expect((await call('GET', `/api/articles/${article.slug}`)).status).toBe(404);
    expect(await deletedSlugs()).toEqual([article.slug]);

    const audit = await auditRows(id, 'article');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor_id: editor.id,
      action: 'article.delete',
      target_type: 'article',
      target_id: id,
      request_id: 'req-moderate-1',
      after: null,
    });
    expect(JSON.parse(audit[0]!.before)).toEqual({
      slug: article.slug,
      title: article.title,
      authorId: writer.id,
      status: 'published',
      visibility: 'public',
    });

    // Again: 404, and no second audit row or event.
    expect((await call('DELETE', `/api/articles/${article.slug}`, { token: editor.token })).status).toBe(404);
    expect(await auditRows(id, 'article')).toHaveLength(1);
    expect(await deletedSlugs()).toEqual([article.slug]);
  });

  it('lets an admin remove any article too (the table cascades)', async () => {
    const [writer, admin] = await Promise.all([userWithRole('author'), userWithRole('admin')]);
    const article = await postArticle(writer);
    const id = await articleId(article.slug);
    expect((await call('DELETE', `/api/articles/${article.slug}`, { token: admin.token })).status).toBe(204);
    expect((await auditRows(id, 'article')).map((r) => [r.action, r.actor_id])).toEqual([['article.delete', admin.id]]);
  });

  it('refuses members and plain authors with 403 (nothing deleted, nothing audited); the author deletes unaudited', async () => {
    const [writer, member, author] = await Promise.all([
      userWithRole('member'),
      userWithRole('member'),
      userWithRole('author'),
    ]);
    const deletedSlugs = await deletedHook();
    const article = await postArticle(writer);
    const id = await articleId(article.slug);
    for (const other of [member, author]) {
      const refused = await call('DELETE', `/api/articles/${article.slug}`, { token: other.token });
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ errors: { article: ['forbidden'] } });
    }
    expect((await call('GET', `/api/articles/${article.slug}`)).status).toBe(200);
    expect(await deletedSlugs()).toEqual([]);

    expect((await call('DELETE', `/api/articles/${article.slug}`, { token: writer.token })).status).toBe(204);
    expect((await call('GET', `/api/articles/${article.slug}`)).status).toBe(404);
    expect(await deletedSlugs()).toEqual([article.slug]);
    expect(await auditRows(id, 'article')).toEqual([]);
  });

  it("an editor's own article is not audited; someone else's draft stays unreadable to them (404, kept)", async () => {
    const [writer, editor] = await Promise.all([userWithRole('member'), userWithRole('editor')]);
    const own = await postArticle(editor);
    const ownId = await articleId(own.slug);
    expect((await call('DELETE', `/api/articles/${own.slug}`, { token: editor.token })).status).toBe(204);
    expect(await auditRows(ownId, 'article')).toEqual([]);

    const draft = await postArticle(writer, { status: 'draft' });
    const draftId = await articleId(draft.slug);
    const hidden = await call('DELETE', `/api/articles/${draft.slug}`, { token: editor.token });
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual({ errors: { article: ['not found'] } });
    expect((await call('GET', `/api/articles/${draft.slug}`, { token: writer.token })).status).toBe(200);
    expect(await auditRows(draftId, 'article')).toEqual([]);
  });
});

describe('ADMIN_USERNAMES', () => {
  it('makes a named account act as admin (case-insensitive) from its next sign-in', async () => {
    const user = await userWithRole('member');
    const vars = { ADMIN_USERNAMES: ` someone-else , ${user.username.toUpperCase()} ` };
    const before = await call('GET', '/api/admin/users', { token: user.token, env: vars });
    expect(before.status).toBe(403);
    const signedIn = await call('POST', '/api/users/login', {
      body: { user: { email: user.email, password: user.password } },
      env: vars,
    });
    const res = await call('GET', '/api/admin/users', { token: signedIn.body.user.token, env: vars });
    expect(res.status).toBe(200);
  });
});

describe('PUT /api/admin/users/:id/role', () => {
  it('changes the role, revokes the sessions (D1 and KV) and writes an audit row in the same batch', async () => {
    const [admin, target] = await Promise.all([userWithRole('admin'), userWithRole('member')]);
    const sid = sessionIdOf(target.token);
    expect(await env.SESSIONS.get(sessionKey(sid))).not.toBeNull();
    const res = await call('PUT', `/api/admin/users/${target.id}/role`, {
      token: admin.token,
      body: { user: { role: 'editor' } },
      headers: { 'X-Request-Id': 'req-role-1' },
    });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: target.id, role: 'editor', username: target.username });
    // The old session is gone at once here (KV copy deleted, D1 revoked).
    expect(await env.SESSIONS.get(sessionKey(sid))).toBeNull();
    expect((await call('GET', '/api/user', { token: target.token })).status).toBe(401);
    // A new sign-in carries the new role.
    const again = await login(target.email, target.password);
    expect((await call('GET', '/api/admin/reports', { token: again.body.user.token })).status).toBe(200);
    const audit = await auditRows(target.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor_id: admin.id,
      action: 'user.role.set',
      target_type: 'user',
      request_id: 'req-role-1',
    });
    expect(JSON.parse(audit[0]!.before)).toEqual({ role: 'member' });
    expect(JSON.parse(audit[0]!.after)).toEqual({ role: 'editor' });
  });

  it('refuses your own role (422) and unknown roles (422); unknown users are 404', async () => {
    const admin = await userWithRole('admin');
    const self = await call('PUT', `/api/admin/users/${admin.id}/role`, {
      token: admin.token,
      body: { user: { role: 'member' } },
    });
    expect(self.status).toBe(422);
    const bad = await call('PUT', `/api/admin/users/${admin.id}/role`, {
      token: admin.token,
      body: { user: { role: 'owner' } },
    });
    expect(bad.status).toBe(422);
    const missing = await call('PUT', '/api/admin/users/usr_nobody/role', {
      token: admin.token,
      body: { user: { role: 'author' } },
    });
    expect(missing.status).toBe(404);
    expect(await auditRows(admin.id)).toHaveLength(0);
  });

  it('never demotes the last admin, even when two admins demote each other', async () => {
    // This file's storage holds other admins; leave exactly two.
    const [a, b] = await Promise.all([userWithRole('admin'), userWithRole('admin')]);
    await env.DB.prepare("UPDATE users SET role = 'member' WHERE role = 'admin' AND id NOT IN (?, ?)")
      .bind(a.id, b.id)
      .run();
    const [ab, ba] = await Promise.all([
      call('PUT', `/api/admin/users/${b.id}/role`, { token: a.token, body: { user: { role: 'member' } } }),
      call('PUT', `/api/admin/users/${a.id}/role`, { token: b.token, body: { user: { role: 'member' } } }),
    ]);
    const statuses = [ab.status, ba.status].sort();
    // Either one wins and the other finds itself the last admin (409), or the second caller's session
    // was already revoked (401): never both demoted.
    expect(statuses[0]).toBe(200);
    expect([401, 409]).toContain(statuses[1]);
    const { results } = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE role = 'admin'").all<{
      n: number;
    }>();
    expect(results[0]!.n).toBe(1);
  });
});

describe('the first account', () => {
  it('is a member when accounts already exist', async () => {
    await registerUser();
    const later = await registerUser();
    const row = await env.DB.prepare('SELECT role FROM users WHERE username = ?')
      .bind(later.username)
      .first<{ role: string }>();
    expect(row!.role).toBe('member');
  });
});
