import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sessionKey } from '../../src/sessions/sessions.kv';
import { postArticle } from '../articles/helpers';
import { registerUser, sessionIdOf } from '../helpers/factories';
import { call } from '../helpers/request';

const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32,64}$/;

describe('D1 read replicas: the bookmark', () => {
  it('comes back on every response that touched D1, and a client sends it with its next request', async () => {
    const author = await registerUser();
    const created = await call('POST', '/api/articles', {
      token: author.token,
      body: { article: { title: 'Bookmarked', description: 'd', body: 'b' } },
    });
    const afterWrite = created.headers.get('x-d1-bookmark');
    expect(afterWrite).toMatch(BOOKMARK);
    const read = await call('GET', `/api/articles/${created.body.article.slug}`, {
      token: author.token,
      headers: { 'x-d1-bookmark': afterWrite! },
    });
    expect(read.status).toBe(200);
    const next = read.headers.get('x-d1-bookmark');
    expect(next).toMatch(BOOKMARK);
    // Bookmarks only move forward: the read continues from where the write left the client.
    expect(next! >= afterWrite!).toBe(true);
  });

  it('ignores a malformed bookmark instead of failing the request', async () => {
    const author = await registerUser();
    for (const bad of ['garbage', 'x'.repeat(500), '00000000-0000000a-00000000-zz', "'; DROP TABLE users; --"]) {
      const res = await call('GET', `/api/profiles/${author.username}`, {
        token: author.token,
        headers: { 'x-d1-bookmark': bad },
      });
      expect(res.status, bad).toBe(200);
      expect(res.headers.get('x-d1-bookmark')).toMatch(BOOKMARK);
    }
  });

  it('is exposed to browsers through CORS', async () => {
    const res = await call('GET', '/api/tags', { headers: { Origin: 'http://localhost:3000' } });
    expect(res.headers.get('Access-Control-Expose-Headers')?.toLowerCase()).toContain('x-d1-bookmark');
    const preflight = await call('OPTIONS', '/api/articles', {
      headers: {
        Origin: 'http://localhost:3000',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'x-d1-bookmark, idempotency-key',
      },
    });
    expect(preflight.headers.get('Access-Control-Allow-Headers')?.toLowerCase()).toContain('x-d1-bookmark');
  });
});

describe('D1 read replicas: security paths read the primary', () => {
  it('sign-in, refresh, verification and password flows send every query to the primary', async () => {
    const password = 'password123';
    const user = await registerUser({ password });
    const runs = {
      register: await call('POST', '/api/users', {
        body: { user: { username: `p${user.username}`, email: `p${user.email}`, password } },
      }),
      login: await call('POST', '/api/users/login', { body: { user: { email: user.email, password } } }),
      badLogin: await call('POST', '/api/users/login', {
        body: { user: { email: user.email, password: 'wrong-pw-1' } },
      }),
      refresh: await call('POST', '/api/users/refresh', { body: { refreshToken: user.refreshToken } }),
      verify: await call('POST', '/api/users/verify', { body: { token: 'x'.repeat(43) } }),
      reset: await call('POST', '/api/users/password-reset', { body: { email: user.email } }),
      confirm: await call('POST', '/api/users/password-reset/confirm', { body: { token: 'x'.repeat(43), password } }),
    };
    for (const [name, res] of Object.entries(runs)) {
      expect(res.log.d1, name).toBeGreaterThan(0);
      expect(res.log.d1Primary, name).toBe(res.log.d1);
    }
  });

  it('the session check falls back to the primary when KV has no copy', async () => {
    const user = await registerUser();
    await env.SESSIONS.delete(sessionKey(sessionIdOf(user.token)));
    const res = await call('GET', `/api/profiles/${user.username}`, { token: user.token });
    expect(res.status).toBe(200);
    expect(res.log.d1).toBe(2);
    expect(res.log.d1Primary).toBe(1);
  });

  it('public reads may use a replica', async () => {
    const author = await registerUser();
    const article = await postArticle(author);
    const res = await call('GET', `/api/articles/${article.slug}`, { token: author.token });
    expect(res.log.d1).toBe(1);
    expect(res.log.d1Primary).toBe(0);
  });
});
