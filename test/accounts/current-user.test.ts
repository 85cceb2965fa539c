import { describe, expect, it } from 'vitest';
import { login, registerUser, unique } from '../helpers/factories';
import { call } from '../helpers/request';

describe('GET /api/user', () => {
  it('returns the current user and the token it was called with', async () => {
    const user = await registerUser();
    const res = await call('GET', '/api/user', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: {
        email: user.email,
        token: user.token,
        username: user.username,
        bio: null,
        image: null,
        emailVerified: false,
      },
    });
  });

  it('accepts the Bearer scheme as well as Token', async () => {
    const user = await registerUser();
    const res = await call('GET', '/api/user', { token: user.token, scheme: 'Bearer' });
    expect(res.status).toBe(200);
  });

  it('costs at most one D1 round trip and one KV read', async () => {
    const user = await registerUser();
    const res = await call('GET', '/api/user', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.d1).toBe(1);
    expect(res.kv).toBe(1);
  });

  it.each([
    ['no header', undefined],
    ['an unknown scheme', 'Basic abc'],
    ['a token that is not a JWT', 'Token not-a-jwt'],
    ['an empty token', 'Token '],
  ])('returns 401 with %s', async (_label, header) => {
    const res = await call('GET', '/api/user', { headers: header ? { Authorization: header } : {} });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: { token: ['is missing'] } });
    expect(res.headers.get('WWW-Authenticate')).toContain('Token');
  });
});

describe('PUT /api/user', () => {
  it('updates bio and image and returns a token', async () => {
    const user = await registerUser();
    const res = await call('PUT', '/api/user', {
      token: user.token,
      body: { user: { bio: 'I like to skateboard', image: 'https://i.stack.imgur.com/xHWG8.jpg' } },
    });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({
      bio: 'I like to skateboard',
      image: 'https://i.stack.imgur.com/xHWG8.jpg',
      username: user.username,
    });
    expect(res.body.user.token).toBe(user.token);
    const me = await call('GET', '/api/user', { token: user.token });
    expect(me.body.user.bio).toBe('I like to skateboard');
  });

  it('accepts the whole user object back as a front end sends it, with "" and null clearing bio and image', async () => {
    const user = await registerUser();
    await call('PUT', '/api/user', {
      token: user.token,
      body: { user: { bio: 'bio', image: 'https://example.com/a.png' } },
    });
    const me = (await call('GET', '/api/user', { token: user.token })).body.user;
    const res = await call('PUT', '/api/user', { token: user.token, body: { user: { ...me, bio: '', image: null } } });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username: user.username, email: user.email, bio: null, image: null });
  });

  it('keeps the token working after the username and email change', async () => {
    const user = await registerUser();
    const username = unique('renamed');
    const email = `${username}@example.com`;
    const res = await call('PUT', '/api/user', { token: user.token, body: { user: { username, email } } });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username, email, emailVerified: false });
    const me = await call('GET', '/api/user', { token: res.body.user.token });
    expect(me.status).toBe(200);
    expect(me.body.user.username).toBe(username);
    expect((await login(email, user.password)).status).toBe(200);
  });

  it('asks for confirmation of a new email address', async () => {
    const user = await registerUser();
    const email = `${unique()}@example.com`;
    await call('PUT', '/api/user', { token: user.token, body: { user: { email } } });
    const outbox = await call('GET', '/api/dev/outbox');
    expect(
      outbox.body.messages.some((m: { to: string; kind: string }) => m.to === email && m.kind === 'verify_email'),
    ).toBe(true);
  });

  it('returns 409 when the new username or email belongs to someone else', async () => {
    const [a, b] = [await registerUser(), await registerUser()];
    const byName = await call('PUT', '/api/user', {
      token: a.token,
      body: { user: { username: b.username.toUpperCase() } },
    });
    expect(byName.status).toBe(409);
    expect(byName.body).toEqual({ errors: { username: ['has already been taken'] } });
    const byEmail = await call('PUT', '/api/user', { token: a.token, body: { user: { email: b.email } } });
    expect(byEmail.status).toBe(409);
    expect(byEmail.body).toEqual({ errors: { email: ['has already been taken'] } });
  });

  it.each([
    ['username', { username: '' }, "can't be blank"],
    ['email', { email: '' }, "can't be blank"],
    ['password', { password: '' }, "can't be blank"],
    ['image', { image: 'javascript:alert(1)' }, 'must be an http(s) URL'],
  ])('returns 422 when %s is invalid', async (field, patch, message) => {
    const user = await registerUser();
    const res = await call('PUT', '/api/user', { token: user.token, body: { user: patch } });
    expect(res.status).toBe(422);
    expect(res.body.errors[field]).toContain(message);
  });

  it('checks authentication before validating the body', async () => {
    const res = await call('PUT', '/api/user', { body: { user: { username: '' } } });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: { token: ['is missing'] } });
  });

  it('changing the password ends every session and answers with a fresh token and refresh token', async () => {
    const user = await registerUser();
    const other = (await login(user.email, user.password)).body.user;
    const res = await call('PUT', '/api/user', { token: user.token, body: { user: { password: 'new-password-1' } } });
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const { token, refreshToken } = res.body.user;
    expect(token).not.toBe(user.token);
    expect(refreshToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    // The token the change was made with is refused, like every other session's.
    expect((await call('GET', '/api/user', { token: user.token })).status).toBe(401);
    expect((await call('GET', '/api/user', { token: other.token })).status).toBe(401);
    expect((await call('POST', '/api/users/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(401);
    expect((await call('POST', '/api/users/refresh', { body: { refreshToken: other.refreshToken } })).status).toBe(401);
    // The new pair works.
    const me = await call('GET', '/api/user', { token });
    expect(me.status).toBe(200);
    expect(me.body.user.username).toBe(user.username);
    expect((await call('POST', '/api/users/refresh', { body: { refreshToken } })).status).toBe(200);
    expect((await login(user.email, user.password)).status).toBe(401);
    expect((await login(user.email, 'new-password-1')).status).toBe(200);
  });

  it('a profile change without a password keeps the token it was made with', async () => {
    const user = await registerUser();
    const res = await call('PUT', '/api/user', { token: user.token, body: { user: { bio: 'hello' } } });
    expect(res.status).toBe(200);
    expect(res.body.user.token).toBe(user.token);
    expect(res.body.user).not.toHaveProperty('refreshToken');
    expect((await call('GET', '/api/user', { token: user.token })).status).toBe(200);
  });
});
