import { describe, expect, it } from 'vitest';
import { postArticle } from '../articles/helpers';
import { registerUser } from '../helpers/factories';
import { call } from '../helpers/request';

const NO_STORE = 'no-store';
const PUBLIC = 'public, max-age=0, must-revalidate';
const PRIVATE = 'private, no-cache';

function expectSecure(res: { headers: Headers }, label: string) {
  expect(res.headers.get('Strict-Transport-Security'), label).toBe('max-age=31536000; includeSubDomains');
  expect(res.headers.get('X-Frame-Options'), label).toBe('DENY');
  expect(res.headers.get('Content-Security-Policy'), label).toContain("frame-ancestors 'none'");
  expect(res.headers.get('X-Content-Type-Options'), label).toBe('nosniff');
}

describe('the header contract, route by route', () => {
  it('anonymous public reads are public and revalidated with their ETag', async () => {
    const author = await registerUser();
    const article = await postArticle(author);
    for (const path of [
      '/api/articles',
      `/api/articles/${article.slug}`,
      `/api/articles/${article.slug}/comments`,
      `/api/profiles/${author.username}`,
      '/api/tags',
    ]) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('Cache-Control'), path).toBe(PUBLIC);
      expect(res.headers.get('Vary'), path).toContain('Authorization');
      expect(res.headers.get('ETag'), path).toMatch(/^W\/"[A-Za-z0-9_-]{22}"$/);
      expectSecure(res, path);
    }
  });

  it('signed-in reads are private', async () => {
    const author = await registerUser();
    const article = await postArticle(author);
    for (const path of [
      '/api/articles',
      '/api/articles/feed',
      `/api/articles/${article.slug}`,
      `/api/articles/${article.slug}/comments`,
      `/api/profiles/${author.username}`,
    ]) {
      const res = await call('GET', path, { token: author.token });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('Cache-Control'), path).toBe(PRIVATE);
      expectSecure(res, path);
    }
  });

  it('every response carrying a token or account data is no-store', async () => {
    const password = 'password123';
    const user = await registerUser({ password });
    const register = await call('POST', '/api/users', {
      body: { user: { username: `x${user.username}`, email: `x${user.email}`, password } },
    });
    const login = await call('POST', '/api/users/login', { body: { user: { email: user.email, password } } });
    const refresh = await call('POST', '/api/users/refresh', { body: { refreshToken: user.refreshToken } });
    const token = login.body.user.token as string;
    const responses = {
      register,
      login,
      refresh,
      current: await call('GET', '/api/user', { token }),
      update: await call('PUT', '/api/user', { token, body: { user: { bio: 'b' } } }),
      password: await call('PUT', '/api/user', { token, body: { user: { password: 'another-pass-1' } } }),
      sessions: await call('GET', '/api/user/sessions', { token: refresh.body.user.token }),
      reset: await call('POST', '/api/users/password-reset', { body: { email: user.email } }),
      confirm: await call('POST', '/api/users/password-reset/confirm', { body: { token: 'x'.repeat(43), password } }),
      verify: await call('POST', '/api/users/verify', { body: { token: 'x'.repeat(43) } }),
      logout: await call('POST', '/api/users/logout', { token: refresh.body.user.token }),
    };
    for (const [name, res] of Object.entries(responses)) {
      expect(res.status, name).toBeLessThan(500);
      expect(res.headers.get('Cache-Control'), name).toBe(NO_STORE);
      expectSecure(res, name);
    }
    expect(register.status).toBe(201);
    expect(login.status).toBe(200);
    expect(refresh.status).toBe(200);
  });

  it('writes and errors say no-store too', async () => {
    const author = await registerUser();
    const created = await call('POST', '/api/articles', {
      token: author.token,
      body: { article: { title: 'T', description: 'D', body: 'B' } },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('Cache-Control')).toBe(NO_STORE);
    const missing = await call('GET', '/api/profiles/nobody-here-at-all');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('Cache-Control')).toBe(NO_STORE);
    expectSecure(missing, '404');
  });
});
