import { beforeEach, inject } from 'vitest';
import { call, useLocation, type CallOptions } from '../helpers/request';

/** The API origin the local IdP's client has registered its callback under. */
const API_ORIGIN = 'http://folio.test';
beforeEach(() => {
  useLocation(API_ORIGIN);
});

/** The client registered at the local OpenID provider (test/oidc/idp.mjs). */
const CLIENT_ID = 'folio-local';
const CLIENT_SECRET = 'folio-local-secret';
export const APP_ORIGIN = 'http://app.test';
export const REDIRECT_TO = `${APP_ORIGIN}/auth/callback`;

function socialEnv(): Partial<Env> {
  return {
    AUTH_PROVIDERS: JSON.stringify([
      { id: 'local', type: 'oidc', name: 'Local IdP', issuer: inject('oidcIssuer'), clientId: CLIENT_ID },
      { id: 'ghe', type: 'github', name: 'GitHub', issuer: inject('githubUrl'), clientId: 'folio-github' },
    ]),
    AUTH_PROVIDER_GHE_CLIENT_SECRET: 'folio-github-secret',
    AUTH_REDIRECT_ORIGINS: APP_ORIGIN,
    AUTH_PROVIDER_LOCAL_CLIENT_SECRET: CLIENT_SECRET,
  } as Partial<Env>;
}

/** `call` with the social sign-in configuration. */
export function socialCall(method: string, path: string, options: CallOptions = {}) {
  return call(method, path, { ...options, env: { ...socialEnv(), ...options.env } });
}

export interface IdpAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  preferred_username?: string;
}

/**
 * Plays the browser at the identity provider: follows its redirects with a cookie jar and signs in
 * as `account` on the interaction page. Resolves with the Folio callback path (with query).
 */
export async function authorizeAtIdp(authorizationUrl: string, account: IdpAccount): Promise<string> {
  const jar = new Map<string, string>();
  let url = authorizationUrl;
  for (let hop = 0; hop < 10; hop++) {
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { Cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    await res.arrayBuffer();
    const location = res.headers.get('Location');
    if (!location) {
      if (res.status === 200 && new URL(url).pathname.startsWith('/interaction/')) {
        throw new Error('interaction page without account');
      }
      throw new Error(`IdP answered ${res.status} at ${url}`);
    }
    const next = new URL(location, url);
    if (next.origin === API_ORIGIN) return `${next.pathname}${next.search}`;
    if (next.pathname.startsWith('/interaction/') && !next.searchParams.has('sub')) {
      const params: Record<string, string> = { sub: account.sub };
      if (account.email) params.email = account.email;
      params.email_verified = String(account.email_verified ?? false);
      if (account.name) params.name = account.name;
      if (account.preferred_username) params.preferred_username = account.preferred_username;
      for (const [k, v] of Object.entries(params)) next.searchParams.set(k, v);
    }
    url = next.href;
  }
  throw new Error('too many redirects at the IdP');
}

/** GET start → IdP → callback; resolves with the front-end URL Folio redirected to. */
export async function socialSignIn(account: IdpAccount, redirectTo = REDIRECT_TO): Promise<URL> {
  const start = await socialCall('GET', `/api/auth/local/start?redirectTo=${encodeURIComponent(redirectTo)}`);
  if (start.status !== 302) throw new Error(`start answered ${start.status} ${JSON.stringify(start.body)}`);
  const callback = await authorizeAtIdp(start.headers.get('Location')!, account);
  const back = await socialCall('GET', callback);
  if (back.status !== 302) throw new Error(`callback answered ${back.status}`);
  return new URL(back.headers.get('Location')!);
}

export async function exchange(code: string) {
  return socialCall('POST', '/api/auth/exchange', { body: { code } });
}
