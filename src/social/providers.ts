import * as oauth from 'oauth4webapi';
import { providerClientSecret, type AppConfig, type AuthProviderConfig } from '../config';

/**
 * Social sign-in providers, driven by oauth4webapi. OpenID Connect issuers are discovered (metadata
 * cached per isolate); GitHub is plain OAuth 2 with fixed endpoints and its emails API.
 */
export interface Provider {
  config: AuthProviderConfig;
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  scopes: string;
  /** Plain HTTP is allowed only for loopback issuers, and never in production (getConfig refuses them). */
  httpOptions: { [oauth.allowInsecureRequests]?: boolean };
  /** GitHub's REST API base, for the `github` type. */
  githubApi?: string;
}

/** github.com, or a GitHub Enterprise Server at `issuer` (its API lives under /api/v3). */
function githubServer(base: string | undefined): { as: oauth.AuthorizationServer; api: string } {
  const origin = base ? new URL(base).origin : 'https://github.com';
  return {
    as: {
      issuer: origin,
      authorization_endpoint: `${origin}/login/oauth/authorize`,
      token_endpoint: `${origin}/login/oauth/access_token`,
    },
    api: base ? `${origin}/api/v3` : 'https://api.github.com',
  };
}

const discovered = new Map<string, Promise<oauth.AuthorizationServer>>();

function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '[::1]' || url.hostname.startsWith('127.');
}

async function discover(issuer: URL, options: Provider['httpOptions']): Promise<oauth.AuthorizationServer> {
  const key = issuer.href;
  let as = discovered.get(key);
  if (!as) {
    as = oauth
      .discoveryRequest(issuer, { algorithm: 'oidc', ...options })
      .then((response) => oauth.processDiscoveryResponse(issuer, response));
    // A failed discovery is retried by the next sign-in rather than cached.
    as.catch(() => discovered.delete(key));
    discovered.set(key, as);
  }
  return as;
}

export function findProviderConfig(config: AppConfig, id: string): AuthProviderConfig | undefined {
  return config.authProviders.find((p) => p.id === id);
}

/** Thrown when a provider is configured without its client secret. */
class ProviderUnavailable extends Error {
  override name = 'ProviderUnavailable';
}

export async function loadProvider(env: Env, config: AppConfig, provider: AuthProviderConfig): Promise<Provider> {
  const secret = providerClientSecret(env, provider.id);
  if (!secret) throw new ProviderUnavailable(`client secret of provider ${provider.id} is not set`);
  const client: oauth.Client = { client_id: provider.clientId };
  const insecureOk = (url: URL) => !config.isProduction && isLoopback(url);
  if (provider.type === 'github') {
    const server = githubServer(provider.issuer);
    return {
      config: provider,
      as: server.as,
      client,
      clientAuth: oauth.ClientSecretBasic(secret),
      scopes: (provider.scopes ?? ['read:user', 'user:email']).join(' '),
      httpOptions: insecureOk(new URL(server.as.issuer)) ? { [oauth.allowInsecureRequests]: true } : {},
      githubApi: server.api,
    };
  }
  const issuer = new URL(provider.issuer!);
  const httpOptions = insecureOk(issuer) ? { [oauth.allowInsecureRequests]: true } : {};
  const as = await discover(issuer, httpOptions);
  const methods = as.token_endpoint_auth_methods_supported;
  // client_secret_basic unless the provider's metadata says it only takes client_secret_post.
  const clientAuth =
    methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')
      ? oauth.ClientSecretPost(secret)
      : oauth.ClientSecretBasic(secret);
  return {
    config: provider,
    as,
    client,
    clientAuth,
    scopes: (provider.scopes ?? ['openid', 'email', 'profile']).join(' '),
    httpOptions,
  };
}

export interface ProviderProfile {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  preferredUsername: string | null;
}

/** What the provider says about the person, from a validated ID token or GitHub's API. */
export async function fetchProfile(
  provider: Provider,
  callbackUrl: URL,
  state: string,
  redirectUri: string,
  codeVerifier: string,
  nonce: string | null,
): Promise<ProviderProfile> {
  // Checks state (already matched server-side), the `iss` parameter where supported, and error responses.
  const params = oauth.validateAuthResponse(provider.as, provider.client, callbackUrl, state);
  const response = await oauth.authorizationCodeGrantRequest(
    provider.as,
    provider.client,
    provider.clientAuth,
    params,
    redirectUri,
    codeVerifier,
    provider.httpOptions,
  );
  if (provider.config.type === 'oidc') {
    const result = await oauth.processAuthorizationCodeResponse(provider.as, provider.client, response, {
      expectedNonce: nonce ?? oauth.expectNoNonce,
      requireIdToken: true,
    });
    // iss, aud, exp, iat, nonce were checked above; the signature is checked against the issuer's JWKS here.
    await oauth.validateApplicationLevelSignature(provider.as, response, provider.httpOptions);
    const claims = oauth.getValidatedIdTokenClaims(result)!;
    const text = (v: unknown) => (typeof v === 'string' && v ? v : null);
    return {
      subject: claims.sub,
      email: text(claims.email),
      emailVerified: claims.email_verified === true,
      name: text(claims.name),
      preferredUsername: text(claims.preferred_username),
    };
  }
  const result = await oauth.processAuthorizationCodeResponse(provider.as, provider.client, response);
  return githubProfile(provider.githubApi!, result.access_token);
}

async function githubProfile(api: string, accessToken: string): Promise<ProviderProfile> {
  const headers = {
    Authorization: `Bearer ${accessToken}`,
    Accept: 'application/vnd.github+json',
    'User-Agent': 'folio',
  };
  const [userRes, emailsRes] = await Promise.all([
    fetch(`${api}/user`, { headers }),
    fetch(`${api}/user/emails`, { headers }),
  ]);
  if (!userRes.ok || !emailsRes.ok) throw new Error(`github api answered ${userRes.status}/${emailsRes.status}`);
  const user = (await userRes.json()) as { id?: unknown; login?: unknown; name?: unknown };
  const emails = (await emailsRes.json()) as { email?: unknown; primary?: unknown; verified?: unknown }[];
  if (typeof user.id !== 'number' && typeof user.id !== 'string') throw new Error('github user has no id');
  const primary = Array.isArray(emails)
    ? emails.find((e) => e.primary === true && typeof e.email === 'string')
    : undefined;
  return {
    subject: String(user.id),
    email: (primary?.email as string | undefined) ?? null,
    emailVerified: primary?.verified === true,
    name: typeof user.name === 'string' ? user.name : null,
    preferredUsername: typeof user.login === 'string' ? user.login : null,
  };
}

export async function authorizationUrl(
  provider: Provider,
  redirectUri: string,
  state: string,
  codeVerifier: string,
  nonce: string | null,
): Promise<string> {
  const url = new URL(provider.as.authorization_endpoint!);
  url.searchParams.set('client_id', provider.client.client_id);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', provider.scopes);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  if (nonce) url.searchParams.set('nonce', nonce);
  return url.href;
}

export const randomState = oauth.generateRandomState;
export const randomNonce = oauth.generateRandomNonce;
export const randomCodeVerifier = oauth.generateRandomCodeVerifier;
