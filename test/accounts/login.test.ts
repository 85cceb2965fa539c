import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/client';
import { hashPassword } from '../../src/lib/password';
import { LOCKOUT_THRESHOLD, lockoutKey, recordFailureStatement } from '../../src/security/rate-limit';
import { login, registerUser, unique } from '../helpers/factories';
import { call, randomIp } from '../helpers/request';

describe('POST /api/users/login', () => {
  it('signs in with email and password, returning a working token and a refresh token', async () => {
    const user = await registerUser();
    const res = await login(user.email.toUpperCase(), user.password);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username: user.username, email: user.email, bio: null, image: null });
    expect(res.body.user.refreshToken).toEqual(expect.any(String));
    const me = await call('GET', '/api/user', { token: res.body.user.token });
    expect(me.status).toBe(200);
  });

  it('uses at most two D1 round trips', async () => {
    const user = await registerUser();
    const res = await login(user.email, user.password);
    expect(res.status).toBe(200);
    expect(res.d1).toBeLessThanOrEqual(2);
  });

  it('answers a wrong password and an unknown email identically with 401', async () => {
    const user = await registerUser();
    const wrong = await login(user.email, 'wrong-password');
    const unknown = await login(`${unique()}@example.com`, 'wrong-password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual({ errors: { credentials: ['invalid'] } });
    expect(unknown.body).toEqual(wrong.body);
  });

  it('refuses over-long passwords before hashing them', async () => {
    const res = await login('a@example.com', 'x'.repeat(129));
    expect(res.status).toBe(422);
    expect(res.body.errors.password).toEqual(['is too long (maximum is 128 characters)']);
  });

  it('returns 422 for blank fields', async () => {
    const res = await call('POST', '/api/users/login', { body: { user: { email: '', password: '' } } });
    expect(res.status).toBe(422);
    expect(res.body.errors).toMatchObject({ email: ["can't be blank"], password: ["can't be blank"] });
  });

  it(`locks the account with 429 after ${LOCKOUT_THRESHOLD} failures in a row, even for the right password`, async () => {
    const user = await registerUser();
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
      expect((await login(user.email, 'wrong-password')).status).toBe(401);
    }
    const locked = await login(user.email, user.password);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(locked.body.errors.credentials).toEqual(['too many requests, try again later']);
  });

  it('doubles the lockout after each further failure', async () => {
    const db = createDb(env.DB);
    const key = lockoutKey(`${unique()}@example.com`);
    const t0 = new Date('2026-11-23T10:00:00Z');
    const lockFor = async (n: number) => {
      await recordFailureStatement(db, key, new Date(t0.getTime() + n * 1000));
      const row = await env.DB.prepare('SELECT locked_until, last_failure_at FROM login_lockouts WHERE key = ?')
        .bind(key)
        .first<{ locked_until: number; last_failure_at: number }>();
      return row!.locked_until === 0 ? 0 : row!.locked_until - row!.last_failure_at;
    };
    const durations = [];
    for (let i = 1; i <= LOCKOUT_THRESHOLD + 2; i++) durations.push(await lockFor(i));
    expect(durations.slice(0, LOCKOUT_THRESHOLD - 1)).toEqual([0, 0, 0, 0]);
    expect(durations.slice(LOCKOUT_THRESHOLD - 1)).toEqual([30_000, 60_000, 120_000]);
  });

  it('clears the failure count after a successful login', async () => {
    const user = await registerUser();
    for (let i = 0; i < LOCKOUT_THRESHOLD - 1; i++) await login(user.email, 'wrong-password');
    expect((await login(user.email, user.password)).status).toBe(200);
    expect((await login(user.email, 'wrong-password')).status).toBe(401);
    expect((await login(user.email, user.password)).status).toBe(200);
  });

  it('brakes a flood from one IP with 429 and Retry-After', async () => {
    const ip = randomIp();
    const statuses: number[] = [];
    // The limiter counts in fixed one-minute windows: enough requests to fill one even if a window rolls over.
    for (let i = 0; i < 70; i++) {
      const res = await call('POST', '/api/users/login', {
        ip,
        body: { user: { email: `${unique()}@example.com`, password: 'x' } },
      });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get('Retry-After')).toBe('60');
        break;
      }
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(10);
  });

  it('upgrades a hash with older parameters on the next successful login', async () => {
    const user = await registerUser();
    await env.DB.prepare('UPDATE users SET password_hash = ? WHERE username = ?')
      .bind(await hashPassword(user.password, 1000), user.username)
      .run();
    expect((await login(user.email, user.password)).status).toBe(200);
    const row = await env.DB.prepare('SELECT password_hash FROM users WHERE username = ?')
      .bind(user.username)
      .first<{ password_hash: string }>();
    expect(row?.password_hash.startsWith('pbkdf2-sha256$100000$')).toBe(true);
    expect((await login(user.email, user.password)).status).toBe(200);
  });
});
