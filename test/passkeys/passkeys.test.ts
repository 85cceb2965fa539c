import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerUser } from '../helpers/factories';
import { call } from '../helpers/request';
import { claimsOf, totpCode } from '../helpers/totp';
import { SoftwareAuthenticator } from './authenticator';

afterEach(() => {
  vi.useRealTimers();
});

async function withPasskey(authenticator = new SoftwareAuthenticator()) {
  const user = await registerUser();
  const options = await call('POST', '/api/user/passkeys/registration-options', { token: user.token });
  expect(options.status).toBe(200);
  const credential = await authenticator.create(options.body);
  const res = await call('POST', '/api/user/passkeys', {
    token: user.token,
    body: { name: 'Laptop', response: credential },
  });
  expect(res.status).toBe(201);
  return { user, authenticator, passkey: res.body.passkey };
}

async function passkeyLogin(authenticator: SoftwareAuthenticator, overrides = {}) {
  const options = await call('POST', '/api/users/passkeys/authentication-options');
  expect(options.status).toBe(200);
  const response = await authenticator.get(options.body, overrides);
  return call('POST', '/api/users/login/passkey', { body: { response } });
}

describe('passkey registration', () => {
  it('asks for a discoverable credential with user verification, RP from configuration', async () => {
    const user = await registerUser();
    const res = await call('POST', '/api/user/passkeys/registration-options', {
      token: user.token,
      headers: { Host: 'evil.example', Origin: 'https://evil.example' },
    });
    expect(res.status).toBe(200);
    expect(res.body.rp).toEqual({ id: 'localhost', name: 'Folio' });
    expect(res.body.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
    expect(res.body.attestation).toBe('none');
    expect(res.body.challenge).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('registers, lists and stores the public key and counter', async () => {
    const { user, passkey, authenticator } = await withPasskey();
    expect(passkey).toMatchObject({ id: authenticator.id, name: 'Laptop', lastUsedAt: null });
    const list = await call('GET', '/api/user/passkeys', { token: user.token });
    expect(list.body.passkeys).toEqual([passkey]);
    const row = await env.DB.prepare('SELECT counter, transports FROM passkeys WHERE id = ?')
      .bind(authenticator.id)
      .first();
    expect(row).toEqual({ counter: 0, transports: '["internal"]' });
  });

  it('refuses a replayed challenge, a wrong origin and a missing user verification', async () => {
    const user = await registerUser();
    const options = await call('POST', '/api/user/passkeys/registration-options', { token: user.token });
    const wrongOrigin = await new SoftwareAuthenticator().create(options.body, { origin: 'https://evil.example' });
    const res = await call('POST', '/api/user/passkeys', { token: user.token, body: { response: wrongOrigin } });
    expect(res.status).toBe(422);
    // The challenge was spent by that attempt.
    const again = await new SoftwareAuthenticator().create(options.body);
    const replay = await call('POST', '/api/user/passkeys', { token: user.token, body: { response: again } });
    expect(replay.status).toBe(422);
    expect(replay.body.errors.challenge).toEqual(['is invalid or has expired']);
    const fresh = await call('POST', '/api/user/passkeys/registration-options', { token: user.token });
    const noUv = await new SoftwareAuthenticator().create(fresh.body, { uv: false });
    expect((await call('POST', '/api/user/passkeys', { token: user.token, body: { response: noUv } })).status).toBe(
      422,
    );
  });

  it('replays a retried registration sent with the same Idempotency-Key', async () => {
    const user = await registerUser();
    const options = await call('POST', '/api/user/passkeys/registration-options', { token: user.token });
    const body = { name: 'Phone', response: await new SoftwareAuthenticator().create(options.body) };
    const headers = { 'Idempotency-Key': crypto.randomUUID() };
    const first = await call('POST', '/api/user/passkeys', { token: user.token, body, headers });
    const retry = await call('POST', '/api/user/passkeys', { token: user.token, body, headers });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect((await call('GET', '/api/user/passkeys', { token: user.token })).body.passkeys).toHaveLength(1);
    // Without the key, the spent challenge refuses the retry.
    const bare = await call('POST', '/api/user/passkeys', { token: user.token, body });
    expect(bare.status).toBe(422);
  });

  it("refuses another user's challenge", async () => {
    const a = await registerUser();
    const b = await registerUser();
    const options = await call('POST', '/api/user/passkeys/registration-options', { token: a.token });
    const credential = await new SoftwareAuthenticator().create(options.body);
    const res = await call('POST', '/api/user/passkeys', { token: b.token, body: { response: credential } });
    expect(res.status).toBe(422);
  });

  it('needs a recent sign-in', async () => {
    const user = await registerUser();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 11 * 60 * 1000);
    const res = await call('POST', '/api/user/passkeys/registration-options', { token: user.token });
    expect(res.status).toBe(403);
  });
});

describe('passkey sign-in', () => {
  it('signs in without a username as a two-factor session and advances the counter', async () => {
    const { user, authenticator } = await withPasskey();
    const res = await passkeyLogin(authenticator);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ email: user.email, refreshToken: expect.any(String) });
    expect(claimsOf(res.body.user.token)).toMatchObject({ aal: 2, amr: ['hwk', 'user', 'mfa'] });
    const row = await env.DB.prepare('SELECT counter, last_used_at FROM passkeys WHERE id = ?')
      .bind(authenticator.id)
      .first<{ counter: number; last_used_at: number }>();
    expect(row!.counter).toBe(1);
    expect(row!.last_used_at).toBeGreaterThan(0);
  });

  it('is a strong session even when the account has two-factor on', async () => {
    const { user, authenticator } = await withPasskey();
    const enrol = await call('POST', '/api/user/mfa/totp', { token: user.token });
    await call('POST', '/api/user/mfa/totp/verify', { token: user.token, body: { code: totpCode(enrol.body.secret) } });
    const res = await passkeyLogin(authenticator);
    expect(res.status).toBe(200);
    expect(res.body.user.token).toBeDefined();
    // It may do sensitive things at once.
    expect((await call('POST', '/api/user/mfa/recovery-codes', { token: res.body.user.token })).status).toBe(200);
  });

  it('refuses a counter that did not grow (a cloned authenticator)', async () => {
    const { authenticator } = await withPasskey();
    expect((await passkeyLogin(authenticator)).status).toBe(200);
    expect((await passkeyLogin(authenticator)).status).toBe(200);
    const cloned = await passkeyLogin(authenticator, { counter: 1 });
    expect(cloned.status).toBe(401);
    expect(cloned.body.errors.passkey).toEqual(['is invalid']);
  });

  it('accepts authenticators that keep no counter', async () => {
    const { authenticator } = await withPasskey(new SoftwareAuthenticator(undefined, undefined, false));
    expect((await passkeyLogin(authenticator)).status).toBe(200);
    expect((await passkeyLogin(authenticator)).status).toBe(200);
  });

  it('refuses a replayed challenge, a wrong origin, no user verification and unknown credentials', async () => {
    const { authenticator } = await withPasskey();
    const options = await call('POST', '/api/users/passkeys/authentication-options');
    const response = await authenticator.get(options.body);
    expect((await call('POST', '/api/users/login/passkey', { body: { response } })).status).toBe(200);
    const replay = await call('POST', '/api/users/login/passkey', { body: { response } });
    expect(replay.status).toBe(401);
    expect(replay.body.errors.challenge).toEqual(['is invalid or has expired']);
    expect((await passkeyLogin(authenticator, { origin: 'https://evil.example' })).status).toBe(401);
    expect((await passkeyLogin(authenticator, { uv: false })).status).toBe(401);
    const stranger = new SoftwareAuthenticator();
    await stranger.create({ challenge: 'x', user: { id: 'eA' } });
    expect((await passkeyLogin(stranger)).status).toBe(401);
  });

  it('refuses banned and deleted accounts', async () => {
    const { user, authenticator } = await withPasskey();
    await env.DB.prepare('UPDATE users SET banned_at = ? WHERE email = ?').bind(Date.now(), user.email).run();
    const banned = await passkeyLogin(authenticator);
    expect(banned.status).toBe(403);
    expect(banned.body.errors.user).toEqual(['is banned']);
    await env.DB.prepare('UPDATE users SET banned_at = NULL, deleted_at = ? WHERE email = ?')
      .bind(Date.now(), user.email)
      .run();
    expect((await passkeyLogin(authenticator)).status).toBe(401);
  });

  it('expires challenges after 5 minutes', async () => {
    const { authenticator } = await withPasskey();
    const options = await call('POST', '/api/users/passkeys/authentication-options');
    const response = await authenticator.get(options.body);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 5 * 60 * 1000 + 1000);
    expect((await call('POST', '/api/users/login/passkey', { body: { response } })).status).toBe(401);
  });
});

describe('passkey removal', () => {
  it('removes your own passkey (404 for anyone else), after which it no longer signs in', async () => {
    const { user, authenticator } = await withPasskey();
    const other = await registerUser();
    const path = `/api/user/passkeys/${authenticator.id}`;
    expect((await call('DELETE', path, { token: other.token })).status).toBe(404);
    expect((await call('DELETE', path, { token: user.token })).status).toBe(204);
    expect((await call('GET', '/api/user/passkeys', { token: user.token })).body.passkeys).toEqual([]);
    expect((await passkeyLogin(authenticator)).status).toBe(401);
  });

  it('refuses to remove the last way to sign in', async () => {
    const { user, authenticator } = await withPasskey();
    await env.DB.prepare("UPDATE users SET password_hash = '!none' WHERE email = ?").bind(user.email).run();
    const res = await call('DELETE', `/api/user/passkeys/${authenticator.id}`, { token: user.token });
    expect(res.status).toBe(422);
  });
});
