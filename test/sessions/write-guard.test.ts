import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sessionKey } from '../../src/sessions/sessions.kv';
import { postArticle } from '../articles/helpers';
import { countRows, userId } from '../helpers/content';
import { login, registerUser, sessionIdOf, unique, type TestUser } from '../helpers/factories';
import { call } from '../helpers/request';
import { userWithRole } from '../helpers/roles';
import { conversation, member, send } from '../messaging/helpers';

// Sessions are checked against their edge copy in KV, which another location may keep for up to about
// a minute after a revocation. These tests put that copy back after revoking (as such a location would
// still read it) and check that no write of the revoked session lands: every signed-in write batch
// starts with the session write guard (src/db/write-guard.ts, migrations/0014).

const REFUSED = { errors: { token: ['is missing'] } };

/** The session's KV copy now, to put back later as a location that has not seen the revocation would. */
async function edgeCopyOf(user: TestUser): Promise<() => Promise<void>> {
  const key = sessionKey(sessionIdOf(user.token));
  const copy = await env.SESSIONS.get(key);
  expect(copy).not.toBeNull();
  return () => env.SESSIONS.put(key, copy!);
}

describe('the session write guard', () => {
  it('a signed-out session whose edge copy survives writes nothing, in any feature', async () => {
    const author = await member();
    const friend = await member();
    const article = await postArticle(author);
    const talk = await conversation(author, [friend]);
    const restoreCopy = await edgeCopyOf(author);
    expect((await call('POST', '/api/users/logout', { token: author.token })).status).toBe(204);
    await restoreCopy();

    // Reads still pass with the surviving copy (the documented KV bound)...
    expect((await call('GET', '/api/user', { token: author.token })).status).toBe(200);
    // ...but every write is refused, with the answer a revoked session gets, and leaves no trace.
    const title = unique('Never published');
    const refused = [
      await call('POST', '/api/articles', {
        token: author.token,
        body: { article: { title, description: 'd', body: 'b', tagList: [] } },
      }),
      await call('PUT', `/api/articles/${article.slug}`, {
        token: author.token,
        body: { article: { body: 'rewritten' } },
      }),
      await call('POST', `/api/articles/${article.slug}/comments`, {
        token: author.token,
        body: { comment: { body: 'late comment' } },
      }),
      await call('POST', `/api/articles/${article.slug}/favorite`, { token: author.token }),
      await call('POST', `/api/profiles/${friend.username}/follow`, { token: author.token }),
      await call('PUT', '/api/user', { token: author.token, body: { user: { bio: 'changed' } } }),
      await send(author, talk, 'late message'),
      await call('DELETE', `/api/articles/${article.slug}`, { token: author.token }),
    ];
    for (const res of refused) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual(REFUSED);
    }
    // Refused inside the write's own batch: publishing is still one round trip.
    expect(refused[0]!.d1).toBe(1);
    const authorId = await userId(author.username);
    expect(await countRows('SELECT 1 FROM articles WHERE title = ?', title)).toBe(0);
    expect(await countRows('SELECT 1 FROM articles WHERE slug = ? AND body = ?', article.slug, 'rewritten')).toBe(0);
    expect(await countRows('SELECT 1 FROM comments WHERE author_id = ?', authorId)).toBe(0);
    expect(await countRows('SELECT 1 FROM favorites WHERE user_id = ?', authorId)).toBe(0);
    const friendId = await userId(friend.username);
    expect(await countRows('SELECT 1 FROM follows WHERE follower_id = ? AND followee_id = ?', authorId, friendId)).toBe(
      0,
    );
    expect(await countRows("SELECT 1 FROM users WHERE id = ? AND bio = 'changed'", authorId)).toBe(0);
    expect(await countRows("SELECT 1 FROM messages WHERE body = 'late message'")).toBe(0);
    expect((await call('GET', `/api/articles/${article.slug}`)).status).toBe(200);
  });

  it('a banned member cannot publish where the ban has not reached KV yet', async () => {
    const admin = await userWithRole('admin');
    const member = await userWithRole('member');
    const restoreCopy = await edgeCopyOf(member);
    const banned = await call('POST', `/api/admin/users/${member.id}/ban`, {
      token: admin.token,
      body: { ban: { reason: 'spam' } },
    });
    expect(banned.status).toBe(200);
    await restoreCopy();

    const title = unique('Spam');
    const res = await call('POST', '/api/articles', {
      token: member.token,
      headers: { 'Idempotency-Key': unique('key') },
      body: { article: { title, description: 'd', body: 'b', tagList: [] } },
    });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(REFUSED);
    expect(await countRows('SELECT 1 FROM articles WHERE title = ?', title)).toBe(0);
    // The Idempotency-Key's claim rolled back with the effect.
    expect(await countRows('SELECT 1 FROM idempotency_keys WHERE user_id = ?', member.id)).toBe(0);
  });

  it('guards the routes that write on the primary, and sessions that expired in D1', async () => {
    const user = await registerUser();
    const restoreCopy = await edgeCopyOf(user);
    // Expired in the record; the surviving edge copy still says it is valid.
    await env.DB.prepare('UPDATE sessions SET expires_at = ? WHERE id = ?')
      .bind(Date.now() - 1000, sessionIdOf(user.token))
      .run();
    await restoreCopy();
    const enrol = await call('POST', '/api/user/mfa/totp', { token: user.token });
    expect(enrol.status).toBe(401);
    expect(enrol.body).toEqual(REFUSED);
    expect(await countRows('SELECT 1 FROM mfa_totp WHERE user_id = ?', await userId(user.username))).toBe(0);
  });

  it('guards writes whatever the method: a revoked session cannot export the account with a GET', async () => {
    const user = await registerUser();
    const restoreCopy = await edgeCopyOf(user);
    expect((await call('POST', '/api/users/logout', { token: user.token })).status).toBe(204);
    await restoreCopy();
    // The export counts a use of its daily allowance first: a write, refused for the revoked session.
    const exported = await call('GET', '/api/user/export', { token: user.token });
    expect(exported.status).toBe(401);
    expect(exported.body).toEqual(REFUSED);
    const key = `export:${await userId(user.username)}`;
    expect(await countRows('SELECT 1 FROM rate_limits WHERE key = ?', key)).toBe(0);
    // A live session of the same account exports as before.
    const again = (await login(user.email, user.password)).body.user;
    expect((await call('GET', '/api/user/export', { token: again.token })).status).toBe(200);
  });

  it('a deleted account cannot write with a token that outlived it', async () => {
    const user = await registerUser();
    const restoreCopy = await edgeCopyOf(user);
    expect((await call('DELETE', '/api/user', { token: user.token, body: { password: user.password } })).status).toBe(
      204,
    );
    await restoreCopy();
    const res = await call('POST', '/api/articles', {
      token: user.token,
      body: { article: { title: unique('Ghost'), description: 'd', body: 'b', tagList: [] } },
    });
    expect(res.status).toBe(401);
  });

  it('live sessions write as before: same round trips; signing out and rotating on a password change still work', async () => {
    const user = await registerUser();
    const created = await call('POST', '/api/articles', {
      token: user.token,
      body: { article: { title: unique('Live'), description: 'd', body: 'b', tagList: ['x'] } },
    });
    expect(created.status).toBe(201);
    expect(created.d1).toBe(1);
    // The password change revokes this session and issues the next one in the same batch the guard opens.
    const changed = await call('PUT', '/api/user', { token: user.token, body: { user: { password: 'password456' } } });
    expect(changed.status).toBe(200);
    const next = changed.body.user.token as string;
    expect(next).not.toBe(user.token);
    expect((await call('POST', `/api/articles/${created.body.article.slug}/favorite`, { token: next })).status).toBe(
      200,
    );
    expect((await call('POST', '/api/users/logout', { token: next })).status).toBe(204);
    const again = await login(user.email, 'password456');
    expect(again.status).toBe(200);
  });

  it('the guard reads one session row by primary key', async () => {
    const { results } = await env.DB.prepare(
      'EXPLAIN QUERY PLAN SELECT 1 FROM sessions WHERE id = ? AND revoked_at IS NULL AND expires_at > ?',
    )
      .bind('ses_x', Date.now())
      .all<{ detail: string }>();
    expect(results.map((r) => r.detail).join('\n')).toMatch(
      /SEARCH sessions USING INDEX sqlite_autoindex_sessions_1 \(id=\?\)/,
    );
  });
});
