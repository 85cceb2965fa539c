import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getConfig } from '../../src/config';
import { hashToken } from '../../src/lib/tokens';
import { login, registerUser, unique } from '../helpers/factories';
import { randomIp } from '../helpers/request';
import { claimsOf, totpCode } from '../helpers/totp';
import { APP_ORIGIN, authorizeAtIdp, exchange, REDIRECT_TO, socialCall, socialSignIn } from './helpers';
import { PRODUCTION_SECRETS } from '../helpers/production';

afterEach(() => {
  vi.useRealTimers();
});

const newAccount = (overrides: Record<string, unknown> = {}) => ({
  sub: unique('sub'),
  email: `${unique('idp')}@example.com`,
  email_verified: true,
  name: 'Ada Lovelace',
  ...overrides,
});

async function verifyEmailOf(email: string) {
  await env.DB.prepare('UPDATE users SET email_verified_at = ? WHERE lower(email) = lower(?)')
    .bind(Date.now(), email)
    .run();
}

async function startFlow(redirectTo = REDIRECT_TO) {
  const start = await socialCall('GET', `/api/auth/local/start?redirectTo=${encodeURIComponent(redirectTo)}`);
  expect(start.status).toBe(302);
  const location = new URL(start.headers.get('Location')!);
  return { location, state: location.searchParams.get('state')! };
}

describe('GET /api/auth/providers', () => {
  it('lists the configured providers without secrets', async () => {
    const res = await socialCall('GET', '/api/auth/providers');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      providers: [
        { id: 'local', name: 'Local IdP', type: 'oidc' },
        { id: 'ghe', name: 'GitHub', type: 'github' },
      ],
    });
  });
});

describe('social sign-in with a real OpenID provider', () => {
  it('sends the browser to the provider with PKCE S256, state and nonce', async () => {
    const { location, state } = await startFlow();
    expect(location.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('nonce')).toBeTruthy();
    expect(state).toBeTruthy();
    expect(location.searchParams.get('redirect_uri')).toBe('http://folio.test/api/auth/local/callback');
    // Only the hash of the state is stored.
    const row = await env.DB.prepare('SELECT kind, expires_at - created_at AS ttl FROM auth_flows WHERE id = ?')
      .bind(await hashToken(state))
      .first<{ kind: string; ttl: number }>();
    expect(row).toEqual({ kind: 'oauth', ttl: 10 * 60 * 1000 });
  });

  it('creates an account on first sign-in and signs the same account in the next time', async () => {
    const account = newAccount({ preferred_username: 'ada lovelace!' });
    const back = await socialSignIn(account);
    expect(back.origin + back.pathname).toBe(REDIRECT_TO);
    const code = back.searchParams.get('code')!;
    expect(code).toBeTruthy();
    expect(back.searchParams.get('error')).toBeNull();
    const res = await exchange(code);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ email: account.email, emailVerified: true, bio: null, image: null });
    expect(res.body.user.username).toMatch(/^ada_lovelace(-\d{6})?$/);
    expect(res.body.user.refreshToken).toEqual(expect.any(String));
    expect(claimsOf(res.body.user.token)).toMatchObject({ amr: ['fed'], aal: 1 });
    expect((await socialCall('GET', '/api/user', { token: res.body.user.token })).status).toBe(200);
    // No password: the password login never works for it.
    expect((await login(account.email, '!none')).status).toBe(401);

    const again = await exchange((await socialSignIn(account)).searchParams.get('code')!);
    expect(again.body.user.username).toBe(res.body.user.username);
    const identities = await socialCall('GET', '/api/user/identities', { token: again.body.user.token });
    expect(identities.body.identities).toEqual([expect.objectContaining({ provider: 'local', email: account.email })]);
  });

  it('gives new accounts distinct usernames when the profile names collide', async () => {
    const taken = await registerUser();
    const res = await exchange(
      (await socialSignIn(newAccount({ preferred_username: taken.username }))).searchParams.get('code')!,
    );
    expect(res.status).toBe(200);
    expect(res.body.user.username).toMatch(new RegExp(`^${taken.username}-\\d{6}$`));
  });

  it('makes the exchange code single-use and refuses unknown codes', async () => {
    const code = (await socialSignIn(newAccount())).searchParams.get('code')!;
    const [a, b] = await Promise.all([exchange(code), exchange(code)]);
    expect([a.status, b.status].sort()).toEqual([200, 401]);
    const again = await exchange(code);
    expect(again.status).toBe(401);
    expect(again.body.errors.code).toEqual(['is invalid or has expired']);
    expect((await exchange('nope')).status).toBe(401);
  });

  it('asks for the second factor when the account has two-factor on', async () => {
    const account = newAccount();
    const first = await exchange((await socialSignIn(account)).searchParams.get('code')!);
    const token = first.body.user.token;
    const enrol = await socialCall('POST', '/api/user/mfa/totp', { token });
    await socialCall('POST', '/api/user/mfa/totp/verify', { token, body: { code: totpCode(enrol.body.secret) } });
    const res = await exchange((await socialSignIn(account)).searchParams.get('code')!);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String) });
    const done = await socialCall('POST', '/api/users/login/mfa', {
      body: { mfaToken: res.body.mfaToken, code: totpCode(enrol.body.secret, 1) },
    });
    expect(done.status).toBe(200);
    expect(claimsOf(done.body.user.token)).toMatchObject({ aal: 2, amr: ['fed', 'otp', 'mfa'] });
  });
});

describe('GitHub (OAuth 2 and the emails API)', () => {
  async function githubSignIn(account: { id: number; login: string; email: string; verified: boolean }) {
    const start = await socialCall('GET', `/api/auth/ghe/start?redirectTo=${encodeURIComponent(REDIRECT_TO)}`);
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get('Location')!);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('nonce')).toBeNull();
    authorize.searchParams.set('test_id', String(account.id));
    authorize.searchParams.set('test_login', account.login);
    authorize.searchParams.set('test_email', account.email);
    authorize.searchParams.set('test_verified', String(account.verified));
    const atGithub = await fetch(authorize, { redirect: 'manual' });
    const callback = new URL(atGithub.headers.get('Location')!);
    return { callback: `${callback.pathname}${callback.search}`, state: authorize.searchParams.get('state')! };
  }

  it('signs in with the verified primary email and the login as username', async () => {
    const account = { id: Date.now(), login: unique('octo'), email: `${unique('gh')}@example.com`, verified: true };
    const { callback } = await githubSignIn(account);
    const back = new URL((await socialCall('GET', callback)).headers.get('Location')!);
    const res = await exchange(back.searchParams.get('code')!);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username: account.login, email: account.email, emailVerified: true });
  });

  it('does not auto-link when the primary email is not verified at GitHub', async () => {
    const user = await registerUser();
    await verifyEmailOf(user.email);
    const { callback } = await githubSignIn({
      id: Date.now() + 1,
      login: unique('octo'),
      email: user.email,
      verified: false,
    });
    const back = new URL((await socialCall('GET', callback)).headers.get('Location')!);
    expect(back.searchParams.get('error')).toBe('account_exists');
  });

  it('answers provider_error when the token exchange fails (PKCE verifier mismatch)', async () => {
    const { callback, state } = await githubSignIn({
      id: Date.now() + 2,
      login: unique('octo'),
      email: `${unique('gh')}@example.com`,
      verified: true,
    });
    await env.DB.prepare(
      "UPDATE auth_flows SET data = json_set(data, '$.codeVerifier', 'tampered-value-0123456789abcdefghijklmnopqrstuvwxyz') WHERE id = ?",
    )
      .bind(await hashToken(state))
      .run();
    const back = new URL((await socialCall('GET', callback)).headers.get('Location')!);
    expect(back.searchParams.get('error')).toBe('provider_error');
  });
});

describe('automatic linking', () => {
  it('links to an existing account when both the provider and Folio verified the email', async () => {
    const user = await registerUser();
    await verifyEmailOf(user.email);
    const res = await exchange((await socialSignIn(newAccount({ email: user.email }))).searchParams.get('code')!);
    expect(res.status).toBe(200);
    expect(res.body.user.username).toBe(user.username);
  });

  it('refuses when the provider has not verified the email', async () => {
    const user = await registerUser();
    await verifyEmailOf(user.email);
    const back = await socialSignIn(newAccount({ email: user.email, email_verified: false }));
    expect(back.searchParams.get('error')).toBe('account_exists');
    expect(back.searchParams.get('code')).toBeNull();
  });

  it('refuses when the local email is not verified', async () => {
    const user = await registerUser();
    const back = await socialSignIn(newAccount({ email: user.email.toUpperCase() }));
    expect(back.searchParams.get('error')).toBe('account_exists');
  });

  it('refuses a provider profile without an email', async () => {
    const back = await socialSignIn({ sub: unique('sub') });
    expect(back.searchParams.get('error')).toBe('email_required');
  });
});

describe('explicit link and unlink', () => {
  it('links an identity to the signed-in account, which it then signs in to', async () => {
    const user = await registerUser();
    const account = newAccount({ email: `other-${user.email}` });
    const link = await socialCall('POST', '/api/user/identities/local/link', {
      token: user.token,
      body: { redirectTo: `${APP_ORIGIN}/settings` },
    });
    expect(link.status).toBe(200);
    const callback = await authorizeAtIdp(link.body.authorizationUrl, account);
    const back = await socialCall('GET', callback);
    expect(new URL(back.headers.get('Location')!).searchParams.get('linked')).toBe('local');
    const res = await exchange((await socialSignIn(account)).searchParams.get('code')!);
    expect(res.body.user.username).toBe(user.username);

    // The same identity cannot be linked to a second account.
    const other = await registerUser();
    const link2 = await socialCall('POST', '/api/user/identities/local/link', {
      token: other.token,
      body: { redirectTo: `${APP_ORIGIN}/settings` },
    });
    const back2 = await socialCall('GET', await authorizeAtIdp(link2.body.authorizationUrl, account));
    expect(new URL(back2.headers.get('Location')!).searchParams.get('error')).toBe('identity_in_use');

    // Unlink (the account keeps its password): the identity no longer signs in to it.
    const list = await socialCall('GET', '/api/user/identities', { token: user.token });
    const id = list.body.identities[0].id;
    expect((await socialCall('DELETE', `/api/user/identities/${id}`, { token: other.token })).status).toBe(404);
    expect((await socialCall('DELETE', `/api/user/identities/${id}`, { token: user.token })).status).toBe(204);
    expect((await socialCall('GET', '/api/user/identities', { token: user.token })).body.identities).toEqual([]);
  });

  it('refuses to unlink the only way to sign in', async () => {
    const res = await exchange((await socialSignIn(newAccount())).searchParams.get('code')!);
    const token = res.body.user.token;
    const list = await socialCall('GET', '/api/user/identities', { token });
    const del = await socialCall('DELETE', `/api/user/identities/${list.body.identities[0].id}`, { token });
    expect(del.status).toBe(422);
    expect(del.body.errors.identity[0]).toMatch(/only way to sign in/);
  });

  it('needs a recent sign-in to link', async () => {
    const user = await registerUser();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 11 * 60 * 1000);
    const res = await socialCall('POST', '/api/user/identities/local/link', {
      token: user.token,
      body: { redirectTo: REDIRECT_TO },
    });
    expect(res.status).toBe(403);
  });
});

describe('refused flows', () => {
  it('refuses a tampered or replayed state', async () => {
    const { location } = await startFlow();
    const callback = await authorizeAtIdp(location.href, newAccount());
    const tampered = callback.replace(/state=([^&]+)/, 'state=$1x');
    const bad = await socialCall('GET', tampered);
    expect(new URL(bad.headers.get('Location')!).searchParams.get('error')).toBe('invalid_request');
    const ok = await socialCall('GET', callback);
    expect(new URL(ok.headers.get('Location')!).searchParams.get('code')).toBeTruthy();
    const replay = await socialCall('GET', callback);
    expect(replay.status).toBe(302);
    expect(new URL(replay.headers.get('Location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('refuses a mismatched nonce (ID token replay) and a wrong PKCE verifier, without a 500', async () => {
    for (const field of ['nonce', 'codeVerifier']) {
      const { location, state } = await startFlow();
      const callback = await authorizeAtIdp(location.href, newAccount());
      await env.DB.prepare(
        `UPDATE auth_flows SET data = json_set(data, '$.${field}', 'tampered-value-0123456789abcdefghijklmnopqrstuvwxyz') WHERE id = ?`,
      )
        .bind(await hashToken(state))
        .run();
      const res = await socialCall('GET', callback);
      expect(res.status).toBe(302);
      const back = new URL(res.headers.get('Location')!);
      expect(back.origin + back.pathname).toBe(REDIRECT_TO);
      expect(back.searchParams.get('error')).toBe('provider_error');
      expect(back.searchParams.get('code')).toBeNull();
    }
  });

  it('refuses a flow older than 10 minutes', async () => {
    const { location } = await startFlow();
    const callback = await authorizeAtIdp(location.href, newAccount());
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 10 * 60 * 1000 + 1000);
    const res = await socialCall('GET', callback);
    expect(new URL(res.headers.get('Location')!).searchParams.get('error')).toBe('expired');
  });

  it('passes a provider error back as a neutral code', async () => {
    const { state } = await startFlow();
    const res = await socialCall('GET', `/api/auth/local/callback?error=access_denied&state=${state}`);
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('Location')!);
    expect(back.origin + back.pathname).toBe(REDIRECT_TO);
    expect(back.searchParams.get('error')).toBe('access_denied');
    const weird = await socialCall('GET', '/api/auth/local/callback?error=server_error');
    expect(new URL(weird.headers.get('Location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it.each([
    'https://evil.example/auth/callback',
    'http://app.test.evil.example/x',
    'http://app.test@evil.example/x',
    '//evil.example/x',
    'javascript:alert(1)',
    '/relative',
  ])('refuses redirectTo=%s (no open redirect)', async (redirectTo) => {
    const res = await socialCall('GET', `/api/auth/local/start?redirectTo=${encodeURIComponent(redirectTo)}`);
    expect(res.status).toBe(422);
    expect(res.body.errors.redirectTo).toEqual(['is not an allowed front-end URL']);
  });

  it('answers 404 for an unknown provider', async () => {
    const res = await socialCall('GET', `/api/auth/nope/start?redirectTo=${encodeURIComponent(REDIRECT_TO)}`);
    expect(res.status).toBe(404);
  });

  it.each([
    ['GET', '/api/auth/nope/start?redirectTo=x', undefined],
    ['GET', '/api/auth/local/callback?state=nope', undefined],
    ['POST', '/api/auth/exchange', { code: 'nope' }],
  ] as const)('rate-limits %s %s per IP', async (method, path, body) => {
    const ip = randomIp();
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await socialCall(method, path, { ip, body })).status);
    expect(statuses.slice(0, 30)).not.toContain(429);
    expect(statuses.at(-1)).toBe(429);
  });
});

describe('social sign-in configuration', () => {
  it('refuses loopback issuers in production and malformed provider lists', () => {
    const loopback = JSON.stringify([
      { id: 'local', type: 'oidc', name: 'Local', issuer: 'http://127.0.0.1:9400', clientId: 'x' },
    ]);
    expect(() =>
      getConfig({ ...env, ...PRODUCTION_SECRETS, ENVIRONMENT: 'production', AUTH_PROVIDERS: loopback }),
    ).toThrow(/loopback/);
    expect(getConfig({ ...env, ENVIRONMENT: 'development', AUTH_PROVIDERS: loopback }).authProviders).toHaveLength(1);
    expect(() => getConfig({ ...env, AUTH_PROVIDERS: '[{"id":"x","type":"oidc"}]' })).toThrow(/AUTH_PROVIDERS/);
    expect(() => getConfig({ ...env, AUTH_REDIRECT_ORIGINS: 'not a url' })).toThrow(/AUTH_REDIRECT_ORIGINS/);
  });

  it('signs in nobody through a provider whose client secret is missing (neutral error, no 500)', async () => {
    const res = await socialCall('GET', `/api/auth/local/start?redirectTo=${encodeURIComponent(REDIRECT_TO)}`, {
      env: { AUTH_PROVIDER_LOCAL_CLIENT_SECRET: '' } as Partial<Env>,
    });
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('Location')!).searchParams.get('error')).toBe('provider_error');
  });
});
