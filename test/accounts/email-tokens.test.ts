import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../../src/lib/tokens';
import { login, registerUser, unique } from '../helpers/factories';
import { call } from '../helpers/request';

/** The newest outbox mail to an address, and the token in its link. */
async function latestMail(to: string, kind: string) {
  const res = await call('GET', '/api/dev/outbox');
  const mail = res.body.messages.find((m: { to: string; kind: string }) => m.to === to && m.kind === kind);
  const token = mail ? decodeURIComponent(/token=([^\s]+)/.exec(mail.body)![1]!) : undefined;
  return { mail, token };
}

describe('POST /api/users/verify', () => {
  it('confirms the email with the token from the verification email, once', async () => {
    const user = await registerUser();
    const { token } = await latestMail(user.email, 'verify_email');
    const res = await call('POST', '/api/users/verify', { body: { token } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'verified' });
    expect((await call('GET', '/api/user', { token: user.token })).body.user.emailVerified).toBe(true);

    const again = await call('POST', '/api/users/verify', { body: { token } });
    expect(again.status).toBe(422);
    expect(again.body).toEqual({ errors: { token: ['is invalid or has expired'] } });
  });

  it('refuses an expired token', async () => {
    const user = await registerUser();
    const { token } = await latestMail(user.email, 'verify_email');
    await env.DB.prepare('UPDATE user_tokens SET expires_at = ? WHERE token_hash = ?')
      .bind(Date.now() - 1, await hashToken(token!))
      .run();
    expect((await call('POST', '/api/users/verify', { body: { token } })).status).toBe(422);
    expect((await call('GET', '/api/user', { token: user.token })).body.user.emailVerified).toBe(false);
  });

  it('refuses a reset token used as a verification token', async () => {
    const user = await registerUser();
    await call('POST', '/api/users/password-reset', { body: { email: user.email } });
    const { token } = await latestMail(user.email, 'password_reset');
    expect((await call('POST', '/api/users/verify', { body: { token } })).status).toBe(422);
  });

  it('returns 422 for a blank token', async () => {
    const res = await call('POST', '/api/users/verify', { body: { token: '' } });
    expect(res.status).toBe(422);
    expect(res.body.errors.token).toEqual(["can't be blank"]);
  });
});

describe('POST /api/user/verification-email', () => {
  it('sends a new verification email whose link confirms the address', async () => {
    const user = await registerUser();
    const first = (await latestMail(user.email, 'verify_email')).token;
    const res = await call('POST', '/api/user/verification-email', { token: user.token });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'accepted' });
    const { token } = await latestMail(user.email, 'verify_email');
    expect(token).not.toBe(first);
    expect((await call('POST', '/api/users/verify', { body: { token } })).status).toBe(200);
    const again = await call('POST', '/api/user/verification-email', { token: user.token });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: 'verified' });
  });

  it('allows three a hour per account, then 429', async () => {
    const user = await registerUser();
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await call('POST', '/api/user/verification-email', { token: user.token })).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
  });

  it('returns 401 without a token', async () => {
    expect((await call('POST', '/api/user/verification-email')).status).toBe(401);
  });
});

describe('POST /api/users/password-reset', () => {
  it('answers 202 and queues a reset email for a registered address', async () => {
    const user = await registerUser();
    const res = await call('POST', '/api/users/password-reset', { body: { email: user.email.toUpperCase() } });
    expect(res.status).toBe(202);
    const { mail, token } = await latestMail(user.email, 'password_reset');
    expect(mail.subject).toBe('Reset your password');
    expect(token).toMatch(/^[\w-]{43}$/);
  });

  it('answers the same 202 for an unknown address and sends nothing', async () => {
    const email = `${unique()}@example.com`;
    const res = await call('POST', '/api/users/password-reset', { body: { email } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'accepted' });
    expect((await latestMail(email, 'password_reset')).mail).toBeUndefined();
  });

  it('queues at most three reset emails per address an hour, still answering 202', async () => {
    const user = await registerUser();
    for (let i = 0; i < 5; i++) {
      expect((await call('POST', '/api/users/password-reset', { body: { email: user.email } })).status).toBe(202);
    }
    const all = await call('GET', '/api/dev/outbox');
    expect(
      all.body.messages.filter((m: { to: string; kind: string }) => m.to === user.email && m.kind === 'password_reset'),
    ).toHaveLength(3);
  });
});

describe('POST /api/users/password-reset/confirm', () => {
  it('sets the new password, signs out every session and works only once', async () => {
    const user = await registerUser();
    await call('POST', '/api/users/password-reset', { body: { email: user.email } });
    const { token } = await latestMail(user.email, 'password_reset');

    const res = await call('POST', '/api/users/password-reset/confirm', {
      body: { token, password: 'brand-new-pass' },
    });
    expect(res.status).toBe(200);
    expect((await call('GET', '/api/user', { token: user.token })).status).toBe(401);
    expect((await call('POST', '/api/users/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(401);
    expect((await login(user.email, user.password)).status).toBe(401);
    expect((await login(user.email, 'brand-new-pass')).status).toBe(200);

    const again = await call('POST', '/api/users/password-reset/confirm', {
      body: { token, password: 'another-pass-1' },
    });
    expect(again.status).toBe(422);
    expect(again.body).toEqual({ errors: { token: ['is invalid or has expired'] } });
  });

  it('lifts a login lockout: the mailbox owner proved who they are', async () => {
    const user = await registerUser({ email: `${unique('Mixed')}@Example.COM` });
    for (let i = 0; i < 5; i++) await login(user.email, 'wrong-password');
    expect((await login(user.email, user.password)).status).toBe(429);
    await call('POST', '/api/users/password-reset', { body: { email: user.email } });
    const { token } = await latestMail(user.email, 'password_reset');
    expect(
      (await call('POST', '/api/users/password-reset/confirm', { body: { token, password: 'brand-new-pass' } })).status,
    ).toBe(200);
    expect((await login(user.email, 'brand-new-pass')).status).toBe(200);
  });

  it('refuses an expired token and leaves the password unchanged', async () => {
    const user = await registerUser();
    await call('POST', '/api/users/password-reset', { body: { email: user.email } });
    const { token } = await latestMail(user.email, 'password_reset');
    await env.DB.prepare('UPDATE user_tokens SET expires_at = ? WHERE token_hash = ?')
      .bind(Date.now() - 1, await hashToken(token!))
      .run();
    expect(
      (await call('POST', '/api/users/password-reset/confirm', { body: { token, password: 'brand-new-pass' } })).status,
    ).toBe(422);
    expect((await login(user.email, user.password)).status).toBe(200);
  });

  it('validates the new password', async () => {
    const res = await call('POST', '/api/users/password-reset/confirm', { body: { token: 'x', password: 'short' } });
    expect(res.status).toBe(422);
    expect(res.body.errors.password).toEqual(['is too short (minimum is 8 characters)']);
  });
});
