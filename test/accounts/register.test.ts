import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { PBKDF2_ITERATIONS } from '../../src/lib/password';
import { registerUser, unique } from '../helpers/factories';
import { call } from '../helpers/request';

const newUser = (overrides: Record<string, unknown> = {}) => {
  const username = unique();
  return { username, email: `${username}@example.com`, password: 'password123', ...overrides };
};

describe('POST /api/users', () => {
  it('registers a user and returns the RealWorld user object with a token', async () => {
    const input = newUser({ email: `${unique()}@Example.com` });
    const res = await call('POST', '/api/users', { body: { user: input } });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.body.user).toMatchObject({
      username: input.username,
      email: input.email,
      bio: null,
      image: null,
      emailVerified: false,
    });
    expect(res.body.user.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(typeof res.body.user.refreshToken).toBe('string');
    expect(res.body.user.password).toBeUndefined();

    const me = await call('GET', '/api/user', { token: res.body.user.token });
    expect(me.status).toBe(200);
    expect(me.body.user.username).toBe(input.username);
  });

  it('stores the password as a self-describing PBKDF2-SHA256 hash at 100,000 iterations', async () => {
    // Local workerd does not enforce the production cap of 100,000 iterations: pin it here.
    expect(PBKDF2_ITERATIONS).toBe(100_000);
    const user = await registerUser();
    const row = await env.DB.prepare('SELECT password_hash FROM users WHERE username = ?')
      .bind(user.username)
      .first<{ password_hash: string }>();
    expect(row?.password_hash).toMatch(/^pbkdf2-sha256\$100000\$[\w-]{22}\$[\w-]{43}$/);
    expect(row?.password_hash).not.toContain(user.password);
  });

  it('queues a verification email in the same write', async () => {
    const user = await registerUser();
    const outbox = await call('GET', '/api/dev/outbox');
    const mail = outbox.body.messages.find((m: { to: string }) => m.to === user.email);
    expect(mail).toMatchObject({ kind: 'verify_email', status: 'pending', subject: 'Confirm your email address' });
    expect(mail.body).toMatch(/verify-email\?token=[\w-]{43}/);
  });

  it('returns 409 for a duplicate email, case-insensitively', async () => {
    const existing = await registerUser();
    const res = await call('POST', '/api/users', {
      body: { user: newUser({ email: existing.email.toUpperCase() }) },
    });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ errors: { email: ['has already been taken'] } });
  });

  it('returns 409 for a duplicate username', async () => {
    const existing = await registerUser();
    const res = await call('POST', '/api/users', { body: { user: newUser({ username: existing.username }) } });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ errors: { username: ['has already been taken'] } });
  });

  it('creates exactly one account when the same registration arrives in parallel', async () => {
    const input = newUser();
    const results = await Promise.all(
      Array.from({ length: 4 }, () => call('POST', '/api/users', { body: { user: input } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    const count = await env.DB.prepare('SELECT COUNT(*) AS n FROM users WHERE lower(email) = lower(?)')
      .bind(input.email)
      .first<{ n: number }>();
    expect(count?.n).toBe(1);
  });

  it.each([
    ['username', { username: '' }, "can't be blank"],
    ['username', { username: '   ' }, "can't be blank"],
    ['email', { email: '' }, "can't be blank"],
    ['email', { email: 'not-an-email' }, 'is invalid'],
    ['password', { password: '' }, "can't be blank"],
    ['password', { password: 'short' }, 'is too short (minimum is 8 characters)'],
    ['password', { password: 'x'.repeat(129) }, 'is too long (maximum is 128 characters)'],
  ])('returns 422 when %s is invalid (%j)', async (field, override, message) => {
    const res = await call('POST', '/api/users', { body: { user: newUser(override) } });
    expect(res.status).toBe(422);
    expect(res.body.errors[field]).toContain(message);
  });

  it('returns 422 naming each missing field', async () => {
    const res = await call('POST', '/api/users', { body: { user: {} } });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual({
      username: ["can't be blank"],
      email: ["can't be blank"],
      password: ["can't be blank"],
    });
  });

  it('returns 400 for malformed JSON', async () => {
    const res = await call('POST', '/api/users', {
      rawBody: '{"user": ',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: { body: ['is not valid JSON'] } });
  });

  it('returns 429 after too many registrations for one email in an hour', async () => {
    const input = newUser();
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await call('POST', '/api/users', { body: { user: input } })).status);
    expect(statuses).toEqual([201, 409, 409, 409, 409, 429]);
  });
});
