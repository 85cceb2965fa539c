import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sessionKey } from '../../src/sessions/sessions.kv';
import { login, registerUser, sessionIdOf } from '../helpers/factories';
import { call } from '../helpers/request';

describe('session checks on authenticated requests', () => {
  it('keeps an edge copy of each new session in KV with an expiry', async () => {
    const user = await registerUser();
    const { value, metadata } = await env.SESSIONS.getWithMetadata(sessionKey(sessionIdOf(user.token)), 'json');
    expect(value).toMatchObject({ userId: expect.stringMatching(/^usr_/), expiresAt: expect.any(Number) });
    expect(metadata).toBeNull();
  });

  it('falls back to D1 once when KV has no copy, then repopulates KV', async () => {
    const user = await registerUser();
    const key = sessionKey(sessionIdOf(user.token));
    await env.SESSIONS.delete(key);
    const miss = await call('GET', '/api/user', { token: user.token });
    expect(miss.status).toBe(200);
    expect(miss.d1).toBe(2); // session fallback + the user read
    expect(await env.SESSIONS.get(key)).not.toBeNull();
    const hit = await call('GET', '/api/user', { token: user.token });
    expect(hit.d1).toBe(1);
    expect(hit.kv).toBe(1);
  });

  it('records last-seen in D1 after the response, at most every few minutes, never in KV', async () => {
    const user = await registerUser();
    const sid = sessionIdOf(user.token);
    const key = sessionKey(sid);
    const tenMinutesAgo = Date.now() - 10 * 60_000;
    // An old session: last seen ten minutes ago, its KV copy written then.
    await env.DB.prepare('UPDATE sessions SET last_seen_at = ? WHERE id = ?').bind(tenMinutesAgo, sid).run();
    const copy = (await env.SESSIONS.get<Record<string, number>>(key, 'json'))!;
    await env.SESSIONS.put(key, JSON.stringify({ ...copy, seenAt: tenMinutesAgo }), { expirationTtl: 3600 });

    const first = await call('GET', '/api/user', { token: user.token });
    expect(first.kv).toBe(1); // the read; last-seen never goes to KV
    const seen = async () =>
      (await env.DB.prepare('SELECT last_seen_at AS t FROM sessions WHERE id = ?').bind(sid).first<{ t: number }>())!.t;
    const afterFirst = await seen();
    expect(afterFirst).toBeGreaterThan(tenMinutesAgo);

    const second = await call('GET', '/api/user', { token: user.token });
    expect(second.d1).toBe(1);
    expect(await seen()).toBe(afterFirst);
  });

  it('records the country Cloudflare reports for the client', async () => {
    const user = await registerUser();
    const res = await call('POST', '/api/users/login', {
      cf: { country: 'PT' },
      body: { user: { email: user.email, password: user.password } },
    });
    const list = await call('GET', '/api/user/sessions', { token: res.body.user.token });
    expect(list.body.sessions.find((s: { current: boolean }) => s.current).country).toBe('PT');
  });

  it('refuses a token whose session expired, even if its JWT has not', async () => {
    const user = await registerUser();
    const sid = sessionIdOf(user.token);
    await env.DB.prepare('UPDATE sessions SET expires_at = ? WHERE id = ?')
      .bind(Date.now() - 1000, sid)
      .run();
    await env.SESSIONS.delete(sessionKey(sid));
    expect((await call('GET', '/api/user', { token: user.token })).status).toBe(401);
  });
});

describe('POST /api/users/logout', () => {
  it('revokes the current session: its token stops working and its KV copy is gone', async () => {
    const user = await registerUser();
    const res = await call('POST', '/api/users/logout', { token: user.token });
    expect(res.status).toBe(204);
    expect(await env.SESSIONS.get(sessionKey(sessionIdOf(user.token)))).toBeNull();
    const after = await call('GET', '/api/user', { token: user.token });
    expect(after.status).toBe(401);
    expect(after.body).toEqual({ errors: { token: ['is missing'] } });
  });

  it('leaves the user’s other sessions alone', async () => {
    const user = await registerUser();
    const other = (await login(user.email, user.password)).body.user;
    await call('POST', '/api/users/logout', { token: user.token });
    expect((await call('GET', '/api/user', { token: other.token })).status).toBe(200);
  });

  it('returns 401 without a token', async () => {
    expect((await call('POST', '/api/users/logout')).status).toBe(401);
  });
});

describe('GET /api/user/sessions', () => {
  it('lists active sessions newest first, marking the current one', async () => {
    const user = await registerUser();
    const second = (await login(user.email, user.password)).body.user;
    await call('POST', '/api/users/logout', { token: (await login(user.email, user.password)).body.user.token });
    const res = await call('GET', '/api/user/sessions', {
      token: second.token,
      headers: { 'User-Agent': 'FolioTest/1.0' },
    });
    expect(res.status).toBe(200);
    expect(res.body.sessions).toHaveLength(2);
    const current = res.body.sessions.filter((s: { current: boolean }) => s.current);
    expect(current).toHaveLength(1);
    expect(current[0].id).toBe(sessionIdOf(second.token));
    expect(res.body.sessions[1].id).toBe(sessionIdOf(user.token));
    expect(res.body.sessions[0]).toMatchObject({
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      lastSeenAt: expect.any(String),
      expiresAt: expect.any(String),
      country: null,
    });
  });

  it('records the user agent of the client that signed in', async () => {
    const user = await registerUser();
    const res = await call('POST', '/api/users/login', {
      headers: { 'User-Agent': 'Mozilla/5.0 FolioTest' },
      body: { user: { email: user.email, password: user.password } },
    });
    const list = await call('GET', '/api/user/sessions', { token: res.body.user.token });
    expect(list.body.sessions.find((s: { current: boolean }) => s.current).userAgent).toBe('Mozilla/5.0 FolioTest');
  });
});

describe('DELETE /api/user/sessions/:id', () => {
  it('revokes one of my sessions', async () => {
    const user = await registerUser();
    const other = (await login(user.email, user.password)).body.user;
    const res = await call('DELETE', `/api/user/sessions/${sessionIdOf(other.token)}`, { token: user.token });
    expect(res.status).toBe(204);
    expect((await call('GET', '/api/user', { token: other.token })).status).toBe(401);
    expect((await call('GET', '/api/user', { token: user.token })).status).toBe(200);
  });

  it("returns 404 for someone else's session and leaves it alone", async () => {
    const [a, b] = [await registerUser(), await registerUser()];
    const res = await call('DELETE', `/api/user/sessions/${sessionIdOf(b.token)}`, { token: a.token });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: { session: ['not found'] } });
    expect((await call('GET', '/api/user', { token: b.token })).status).toBe(200);
  });

  it('returns 401 before looking anything up', async () => {
    expect((await call('DELETE', '/api/user/sessions/ses_unknown')).status).toBe(401);
  });
});

describe('DELETE /api/user/sessions', () => {
  it('revokes every session except the current one', async () => {
    const user = await registerUser();
    const others = [
      (await login(user.email, user.password)).body.user,
      (await login(user.email, user.password)).body.user,
    ];
    const res = await call('DELETE', '/api/user/sessions', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ revoked: 2 });
    for (const other of others) expect((await call('GET', '/api/user', { token: other.token })).status).toBe(401);
    expect((await call('GET', '/api/user', { token: user.token })).status).toBe(200);
  });
});
