import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mfaEncryptionKey } from '../../src/config';
import { LOCKOUT_THRESHOLD } from '../../src/security/rate-limit';
import { login, registerUser, type TestUser } from '../helpers/factories';
import { call } from '../helpers/request';
import { claimsOf, totpCode } from '../helpers/totp';
import { PRODUCTION_SECRETS } from '../helpers/production';

afterEach(() => {
  vi.useRealTimers();
});

/** Registers a user and turns two-factor on; returns the secret, the recovery codes and the upgraded token. */
async function userWithTotp() {
  const user = await registerUser();
  const enrol = await call('POST', '/api/user/mfa/totp', { token: user.token });
  expect(enrol.status).toBe(200);
  const secret: string = enrol.body.secret;
  const verify = await call('POST', '/api/user/mfa/totp/verify', {
    token: user.token,
    body: { code: totpCode(secret) },
  });
  expect(verify.status).toBe(200);
  return {
    user,
    secret,
    recoveryCodes: verify.body.recoveryCodes as string[],
    token: verify.body.user.token as string,
  };
}

async function startLogin(user: TestUser) {
  const res = await login(user.email, user.password);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String) });
  return res.body.mfaToken as string;
}

describe('TOTP enrolment', () => {
  it('returns a secret and an otpauth:// URI, and stores the secret encrypted', async () => {
    const user = await registerUser();
    const res = await call('POST', '/api/user/mfa/totp', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(res.body.uri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(res.body.secret);
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    const row = await env.DB.prepare(
      'SELECT secret_ciphertext, enabled_at FROM mfa_totp WHERE user_id = (SELECT id FROM users WHERE email = ?)',
    )
      .bind(user.email)
      .first<{ secret_ciphertext: string; enabled_at: number | null }>();
    expect(row!.enabled_at).toBeNull();
    expect(row!.secret_ciphertext).toMatch(/^v1\./);
    expect(row!.secret_ciphertext).not.toContain(res.body.secret);
    // Not on until confirmed: login still answers the user directly.
    expect((await login(user.email, user.password)).body.user).toBeDefined();
  });

  it('refuses a wrong first code and keeps two-factor off', async () => {
    const user = await registerUser();
    await call('POST', '/api/user/mfa/totp', { token: user.token });
    const res = await call('POST', '/api/user/mfa/totp/verify', { token: user.token, body: { code: '000000' } });
    expect(res.status).toBe(422);
    expect(res.body.errors.code).toEqual(['is invalid']);
    expect((await call('GET', '/api/user/mfa', { token: user.token })).body).toEqual({
      totp: false,
      recoveryCodesLeft: 0,
    });
  });

  it('activates with a code, returns 10 recovery codes and a two-factor token, and revokes other sessions', async () => {
    const user = await registerUser();
    const other = await login(user.email, user.password);
    const { token, recoveryCodes } = await (async () => {
      const enrol = await call('POST', '/api/user/mfa/totp', { token: user.token });
      const verify = await call('POST', '/api/user/mfa/totp/verify', {
        token: user.token,
        body: { code: totpCode(enrol.body.secret) },
      });
      expect(verify.status).toBe(200);
      return { token: verify.body.user.token, recoveryCodes: verify.body.recoveryCodes };
    })();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(claimsOf(token)).toMatchObject({ aal: 2, amr: expect.arrayContaining(['pwd', 'otp', 'mfa']) });
    expect((await call('GET', '/api/user', { token: other.body.user.token })).status).toBe(401);
    expect((await call('GET', '/api/user', { token })).status).toBe(200);
    expect((await call('GET', '/api/user/mfa', { token })).body).toEqual({ totp: true, recoveryCodesLeft: 10 });
    // Codes are stored hashed only.
    const stored = await env.DB.prepare('SELECT code_hash FROM mfa_recovery_codes').all<{ code_hash: string }>();
    expect(stored.results.map((r) => r.code_hash)).not.toContain(recoveryCodes[0]);
  });

  it('refuses a second enrolment while two-factor is on (409)', async () => {
    const { token } = await userWithTotp();
    const res = await call('POST', '/api/user/mfa/totp', { token });
    expect(res.status).toBe(409);
  });
});

describe('POST /api/users/login with two-factor on', () => {
  it('answers mfaRequired (no user, no session) and completes with a TOTP code', async () => {
    const { user, secret } = await userWithTotp();
    const mfaToken = await startLogin(user);
    // The mfaToken is not an access token.
    expect((await call('GET', '/api/user', { token: mfaToken })).status).toBe(401);
    const res = await call('POST', '/api/users/login/mfa', { body: { mfaToken, code: totpCode(secret, 1) } });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ email: user.email, refreshToken: expect.any(String) });
    expect(claimsOf(res.body.user.token)).toMatchObject({ aal: 2, amr: ['pwd', 'otp', 'mfa'] });
    expect((await call('GET', '/api/user', { token: res.body.user.token })).status).toBe(200);
    // Refresh keeps the assurance of the session.
    const refreshed = await call('POST', '/api/users/refresh', { body: { refreshToken: res.body.user.refreshToken } });
    expect(claimsOf(refreshed.body.user.token)).toMatchObject({ aal: 2 });
  });

  it('never accepts a time step twice', async () => {
    const { user, secret } = await userWithTotp();
    // Activation used the current step: the same code is refused at login.
    const first = await startLogin(user);
    const reused = await call('POST', '/api/users/login/mfa', { body: { mfaToken: first, code: totpCode(secret) } });
    expect(reused.status).toBe(401);
    expect(reused.body.errors.code).toEqual(['is invalid']);
    const next = totpCode(secret, 1);
    expect((await call('POST', '/api/users/login/mfa', { body: { mfaToken: first, code: next } })).status).toBe(200);
    // Parallel sign-ins with one code: exactly one wins.
    const [a, b] = [await startLogin(user), await startLogin(user)];
    const results = await Promise.all(
      [a, b].map((mfaToken) => call('POST', '/api/users/login/mfa', { body: { mfaToken, code: next } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([401, 401]);
  });

  it('accepts exactly one of two parallel requests with the same fresh code', async () => {
    const { user, secret } = await userWithTotp();
    const [a, b] = [await startLogin(user), await startLogin(user)];
    const code = totpCode(secret, 1);
    const results = await Promise.all(
      [a, b].map((mfaToken) => call('POST', '/api/users/login/mfa', { body: { mfaToken, code } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('makes the mfaToken single-use and refuses unknown ones', async () => {
    const { user, secret } = await userWithTotp();
    const mfaToken = await startLogin(user);
    expect((await call('POST', '/api/users/login/mfa', { body: { mfaToken, code: totpCode(secret, 1) } })).status).toBe(
      200,
    );
    const again = await call('POST', '/api/users/login/mfa', { body: { mfaToken, code: totpCode(secret, -1) } });
    expect(again.status).toBe(401);
    expect(again.body.errors.mfaToken).toEqual(['is invalid or has expired']);
  });

  it('expires the mfaToken after 5 minutes', async () => {
    const { user, secret } = await userWithTotp();
    const mfaToken = await startLogin(user);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 5 * 60 * 1000 + 1000);
    const res = await call('POST', '/api/users/login/mfa', { body: { mfaToken, code: totpCode(secret) } });
    expect(res.status).toBe(401);
    expect(res.body.errors.mfaToken).toEqual(['is invalid or has expired']);
  });

  it('accepts each recovery code once, in place of a code', async () => {
    const { user, recoveryCodes } = await userWithTotp();
    const first = await startLogin(user);
    const ok = await call('POST', '/api/users/login/mfa', {
      body: { mfaToken: first, recoveryCode: recoveryCodes[0]!.toUpperCase() },
    });
    expect(ok.status).toBe(200);
    expect(claimsOf(ok.body.user.token)).toMatchObject({ aal: 2, amr: ['pwd', 'kba', 'mfa'] });
    const second = await startLogin(user);
    const reused = await call('POST', '/api/users/login/mfa', {
      body: { mfaToken: second, recoveryCode: recoveryCodes[0] },
    });
    expect(reused.status).toBe(401);
    expect((await call('GET', '/api/user/mfa', { token: ok.body.user.token })).body.recoveryCodesLeft).toBe(9);
  });

  it(`locks the account after ${LOCKOUT_THRESHOLD} wrong codes, even for a right one`, async () => {
    const { user, secret } = await userWithTotp();
    const mfaToken = await startLogin(user);
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
      const res = await call('POST', '/api/users/login/mfa', { body: { mfaToken, code: '000000' } });
      expect(res.status).toBe(401);
    }
    const locked = await call('POST', '/api/users/login/mfa', { body: { mfaToken, code: totpCode(secret, 1) } });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('Retry-After'))).toBeGreaterThan(0);
    // The password step is locked too: the same counter.
    expect((await login(user.email, user.password)).status).toBe(429);
  });

  it('validates the body: exactly one of code or recoveryCode', async () => {
    const both = await call('POST', '/api/users/login/mfa', {
      body: { mfaToken: 'x', code: '123456', recoveryCode: 'abcd' },
    });
    expect(both.status).toBe(422);
    const badCode = await call('POST', '/api/users/login/mfa', { body: { mfaToken: 'x', code: '12ab' } });
    expect(badCode.status).toBe(422);
    expect(badCode.body.errors.code).toEqual(['must be 6 digits']);
  });

  it('leaves users without two-factor signing in exactly as before', async () => {
    const user = await registerUser();
    const res = await login(user.email, user.password);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.user).sort()).toEqual(
      ['bio', 'email', 'emailVerified', 'image', 'refreshToken', 'token', 'username'].sort(),
    );
    expect(claimsOf(res.body.user.token)).toMatchObject({ aal: 1, amr: ['pwd'] });
    expect(res.d1).toBeLessThanOrEqual(2);
  });
});

describe('sensitive actions', () => {
  it('let a fresh RealWorld login change email and password', async () => {
    const user = await registerUser();
    const res = await call('PUT', '/api/user', {
      token: user.token,
      body: { user: { email: `new-${user.email}`, password: 'another-password' } },
    });
    expect(res.status).toBe(200);
  });

  it('refuse an old session without re-authentication, and allow it after the password is re-entered', async () => {
    const user = await registerUser();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 11 * 60 * 1000);
    const refused = await call('PUT', '/api/user', {
      token: user.token,
      body: { user: { password: 'brand-new-pass' } },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.errors.reauthentication).toEqual(['requires a recent sign-in']);
    expect(refused.headers.get('WWW-Authenticate')).toContain('insufficient_user_authentication');
    // Bio changes are not sensitive.
    expect((await call('PUT', '/api/user', { token: user.token, body: { user: { bio: 'hi' } } })).status).toBe(200);
    const wrong = await call('POST', '/api/user/reauthenticate', {
      token: user.token,
      body: { password: 'nope-nope' },
    });
    expect(wrong.status).toBe(401);
    const reauth = await call('POST', '/api/user/reauthenticate', {
      token: user.token,
      body: { password: user.password },
    });
    expect(reauth.status).toBe(200);
    const ok = await call('PUT', '/api/user', {
      token: reauth.body.user.token,
      body: { user: { password: 'brand-new-pass' } },
    });
    expect(ok.status).toBe(200);
  });

  it('on a two-factor account, need the second factor: the password alone does not re-authenticate', async () => {
    const { user, secret, token } = await userWithTotp();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 11 * 60 * 1000);
    for (const [method, path] of [
      ['DELETE', '/api/user/mfa/totp'],
      ['POST', '/api/user/mfa/recovery-codes'],
    ] as const) {
      const res = await call(method, path, { token });
      expect(res.status).toBe(403);
    }
    expect((await call('PUT', '/api/user', { token, body: { user: { email: `x-${user.email}` } } })).status).toBe(403);
    const passwordOnly = await call('POST', '/api/user/reauthenticate', { token, body: { password: user.password } });
    expect(passwordOnly.status).toBe(422);
    expect(passwordOnly.body.errors.code).toEqual(["can't be blank"]);
    const reauth = await call('POST', '/api/user/reauthenticate', { token, body: { code: totpCode(secret) } });
    expect(reauth.status).toBe(200);
    const fresh = reauth.body.user.token;
    expect(claimsOf(fresh)).toMatchObject({ aal: 2 });
    const regenerated = await call('POST', '/api/user/mfa/recovery-codes', { token: fresh });
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.recoveryCodes).toHaveLength(10);
  });

  it('regenerating recovery codes replaces every earlier code', async () => {
    const { user, recoveryCodes, token } = await userWithTotp();
    const regenerated = await call('POST', '/api/user/mfa/recovery-codes', { token });
    expect(regenerated.status).toBe(200);
    const mfaToken = await startLogin(user);
    const old = await call('POST', '/api/users/login/mfa', { body: { mfaToken, recoveryCode: recoveryCodes[1] } });
    expect(old.status).toBe(401);
    const fresh = await call('POST', '/api/users/login/mfa', {
      body: { mfaToken, recoveryCode: regenerated.body.recoveryCodes[0] },
    });
    expect(fresh.status).toBe(200);
  });

  it('disabling two-factor restores the plain login', async () => {
    const { user, token } = await userWithTotp();
    expect((await call('DELETE', '/api/user/mfa/totp', { token })).status).toBe(204);
    expect((await login(user.email, user.password)).body.user).toBeDefined();
    expect((await call('DELETE', '/api/user/mfa/totp', { token })).status).toBe(404);
  });
});

describe('MFA_ENCRYPTION_KEY', () => {
  it('is required for a production Worker to answer at all, not only at the first enrolment', async () => {
    const production = { ...PRODUCTION_SECRETS, ENVIRONMENT: 'production' };
    expect((await call('GET', '/api/tags', { env: production })).status).toBe(200);
    const missing = await call('GET', '/api/tags', { env: { ...production, MFA_ENCRYPTION_KEY: '' } });
    expect(missing.status).toBe(500);
    expect(JSON.stringify(missing.body)).not.toContain('MFA');
    const development = await call('GET', '/api/tags', {
      env: { ...production, MFA_ENCRYPTION_KEY: mfaEncryptionKey(env) },
    });
    expect(development.status).toBe(500);
  });

  it('has a development default that production refuses', () => {
    expect(mfaEncryptionKey({ ...env, ENVIRONMENT: 'development' })).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() =>
      mfaEncryptionKey({ ...env, ...PRODUCTION_SECRETS, ENVIRONMENT: 'production', MFA_ENCRYPTION_KEY: '' }),
    ).toThrow(/MFA_ENCRYPTION_KEY/);
    expect(() =>
      mfaEncryptionKey({
        ...env,
        ...PRODUCTION_SECRETS,
        ENVIRONMENT: 'production',
        MFA_ENCRYPTION_KEY: mfaEncryptionKey({ ...env }),
      }),
    ).toThrow(/development MFA key/);
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
    expect(
      mfaEncryptionKey({ ...env, ...PRODUCTION_SECRETS, ENVIRONMENT: 'production', MFA_ENCRYPTION_KEY: key }),
    ).toBe(key);
  });
});
