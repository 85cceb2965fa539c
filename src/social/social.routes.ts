import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { toUser } from '../accounts/accounts.present';
import { getConfig, type AppConfig } from '../config';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { logInfo, logWarn } from '../lib/log';
import { SignInResponse } from '../mfa/mfa.schemas';
import { errors, jsonBody, jsonResponse, tokenAuth } from '../openapi';
import { readPrimary } from '../middleware/request-context';
import { createRouter } from '../router';
import { limitByIp } from '../security/rate-limit';
import { clientInfo, issueAccessToken } from '../sessions/sessions.issue';
import { requireAuth } from '../sessions/sessions.middleware';
import { assertStepUp, hasSecondFactor } from '../sessions/step-up';
import {
  authorizationUrl,
  fetchProfile,
  findProviderConfig,
  loadProvider,
  randomCodeVerifier,
  randomNonce,
  randomState,
} from './providers';
import {
  AuthorizationUrlResponse,
  CallbackQuery,
  ExchangeBody,
  IdentitiesResponse,
  IdentityIdParam,
  LinkBody,
  ProviderParam,
  ProvidersResponse,
  StartQuery,
} from './social.schemas';
import {
  consumeOAuthFlow,
  exchangeCode,
  issueExchangeCode,
  linkIdentity,
  listIdentities,
  prepareOAuthFlow,
  resolveSocialSignIn,
  SocialError,
  unlinkIdentity,
  type SocialErrorCode,
} from './social.service';

export const socialRouter = createRouter();
const tags = ['Social sign-in'];

/** `redirectTo` must be an absolute URL on an allowed front-end origin: no open redirect. */
function allowedRedirect(config: AppConfig, redirectTo: string): string {
  let url: URL;
  try {
    url = new URL(redirectTo);
  } catch {
    throw AppError.validation({ redirectTo: ['is not an allowed front-end URL'] });
  }
  if (!config.authRedirectOrigins.includes(url.origin) || url.username || url.password) {
    throw AppError.validation({ redirectTo: ['is not an allowed front-end URL'] });
  }
  return url.href;
}

function withParams(base: string, params: Record<string, string>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

function callbackUri(c: Context<AppEnv>, provider: string): string {
  return `${new URL(c.req.url).origin}/api/auth/${provider}/callback`;
}

function providerOr404(config: AppConfig, id: string) {
  const provider = findProviderConfig(config, id);
  if (!provider) throw AppError.notFound('provider');
  return provider;
}

/** Starts an authorization request: PKCE (S256), state and (OIDC) nonce, kept server-side for 10 minutes. */
async function beginAuthorization(
  c: Context<AppEnv>,
  providerId: string,
  redirectTo: string,
  linkUserId: string | null,
): Promise<string> {
  const config = getConfig(c.env);
  const provider = await loadProvider(c.env, config, providerOr404(config, providerId));
  const state = randomState();
  const codeVerifier = randomCodeVerifier();
  const nonce = provider.config.type === 'oidc' ? randomNonce() : null;
  const flow = await prepareOAuthFlow(
    c.get('db'),
    state,
    { provider: providerId, codeVerifier, nonce, redirectTo, linkUserId },
    new Date(),
  );
  await flow.statement;
  return authorizationUrl(provider, callbackUri(c, providerId), state, codeVerifier, nonce);
}

socialRouter.openapi(
  createRoute({
    method: 'get',
    path: '/auth/providers',
    tags,
    summary: 'Configured social sign-in providers',
    description: 'Public: what the sign-in page shows a button for. Start one with GET /api/auth/{provider}/start.',
    responses: { 200: jsonResponse(ProvidersResponse, 'Providers') },
  }),
  (c) =>
    c.json({ providers: getConfig(c.env).authProviders.map((p) => ({ id: p.id, name: p.name, type: p.type })) }, 200),
);

socialRouter.openapi(
  createRoute({
    method: 'get',
    path: '/auth/{provider}/start',
    tags,
    summary: 'Start a social sign-in (302 to the provider)',
    description:
      'Navigate the browser here. After the provider, the browser returns to `redirectTo` with `?code=` ' +
      '(trade it at POST /api/auth/exchange) or `?error=` (a neutral code).',
    middleware: limitByIp('social-start'),
    request: { params: ProviderParam, query: StartQuery },
    responses: {
      302: { description: 'Redirect to the provider' },
      404: errors[404],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const config = getConfig(c.env);
    const { provider } = c.req.valid('param');
    providerOr404(config, provider);
    const redirectTo = allowedRedirect(config, c.req.valid('query').redirectTo);
    try {
      return c.redirect(await beginAuthorization(c, provider, redirectTo, null), 302);
    } catch (err) {
      logWarn('signin.social.start_failed', { provider, error: err instanceof Error ? err.name : 'unknown' });
      return c.redirect(withParams(redirectTo, { error: 'provider_error' }), 302);
    }
  },
);

socialRouter.openapi(
  createRoute({
    method: 'get',
    path: '/auth/{provider}/callback',
    tags,
    summary: 'Provider callback (302 back to the front end)',
    description:
      'The provider sends the browser here. It answers a redirect to the front end with `?code=` for a sign-in, ' +
      '`?linked=<provider>` for a link, or `?error=` (`access_denied`, `invalid_request`, `expired`, `provider_error`, ' +
      '`email_required`, `account_exists`, `identity_in_use`). Never a token in the URL.',
    middleware: [readPrimary, limitByIp('social-callback')] as const,
    request: { params: ProviderParam, query: CallbackQuery },
    responses: { 302: { description: 'Redirect to the front end' }, 429: errors[429] },
  }),
  async (c) => {
    const now = new Date();
    const config = getConfig(c.env);
    const { provider: providerId } = c.req.valid('param');
    const query = c.req.valid('query');
    const fallback = `${config.appUrl}/auth/callback`;
    const fail = (target: string, code: SocialErrorCode, reason: string) => {
      logWarn('signin.social.failed', { provider: providerId, error: code, reason });
      return c.redirect(withParams(target, { error: code }), 302);
    };
    const providerConfig = findProviderConfig(config, providerId);
    if (!providerConfig || !query.state) return fail(fallback, 'invalid_request', 'unknown provider or no state');
    const flow = await consumeOAuthFlow(c.get('db'), providerId, query.state, now);
    if (flow === 'invalid') return fail(fallback, 'invalid_request', 'unknown or used state');
    if ('expired' in flow) return fail(flow.expired, 'expired', 'expired state');
    if (query.error)
      return fail(
        flow.redirectTo,
        query.error === 'access_denied' ? 'access_denied' : 'provider_error',
        'provider error',
      );
    try {
      const provider = await loadProvider(c.env, config, providerConfig);
      const profile = await fetchProfile(
        provider,
        new URL(c.req.url),
        query.state,
        callbackUri(c, providerId),
        flow.codeVerifier,
        flow.nonce,
      );
      if (flow.linkUserId) {
        await linkIdentity(c.get('db'), flow.linkUserId, providerId, profile, now);
        logInfo('signin.social.linked', { provider: providerId, userId: flow.linkUserId });
        return c.redirect(withParams(flow.redirectTo, { linked: providerId }), 302);
      }
      const resolved = await resolveSocialSignIn(c.get('db'), providerId, profile, now);
      const code = await issueExchangeCode(c.get('db'), resolved.userId, providerId, now);
      logInfo('signin.social.succeeded', {
        provider: providerId,
        userId: resolved.userId,
        created: resolved.created,
        linked: resolved.linked,
      });
      return c.redirect(withParams(flow.redirectTo, { code }), 302);
    } catch (err) {
      if (err instanceof SocialError) return fail(flow.redirectTo, err.code, err.code);
      // Protocol failures (bad ID token, PKCE or nonce mismatch, provider errors) are the provider's
      // problem as far as the front end is concerned: a neutral code, never a 500.
      // oauth4webapi's errors carry a stable code; their class names do not survive the minified build.
      const reason = err instanceof Error ? ('code' in err ? String(err.code) : err.name) : 'unknown';
      return fail(flow.redirectTo, 'provider_error', reason.slice(0, 120));
    }
  },
);

socialRouter.openapi(
  createRoute({
    method: 'post',
    path: '/auth/exchange',
    tags,
    summary: 'Trade the one-time code from the callback for a session',
    description:
      'Single use, valid 2 minutes. Answers the user (with access and refresh tokens), or ' +
      '`{"mfaRequired": true, "mfaToken"}` for an account with two-factor on.',
    middleware: [readPrimary, limitByIp('social-exchange')] as const,
    request: jsonBody(ExchangeBody),
    responses: {
      200: jsonResponse(SignInResponse, 'Signed in, or the second factor is required'),
      401: errors[401],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const now = new Date();
    const outcome = await exchangeCode(
      c.get('db'),
      c.req.valid('json').code,
      clientInfo(c),
      getConfig(c.env).refreshTokenTtlSeconds,
      now,
    );
    if (outcome.kind === 'mfa') return c.json({ mfaRequired: true as const, mfaToken: outcome.mfaToken }, 200);
    const { user, session } = outcome;
    const token = await issueAccessToken(c, { userId: user.id, ...session }, user, now);
    return c.json({ user: toUser(user, token, session.refreshToken) }, 200);
  },
);

socialRouter.openapi(
  createRoute({
    method: 'get',
    path: '/user/identities',
    tags,
    summary: 'Social identities linked to your account',
    description: 'Oldest first; unlink one with DELETE /api/user/identities/{id}.',
    security: tokenAuth,
    middleware: requireAuth,
    responses: { 200: jsonResponse(IdentitiesResponse, 'Identities'), 401: errors[401] },
  }),
  async (c) => {
    const rows = await listIdentities(c.get('db'), c.get('auth').userId);
    return c.json(
      {
        identities: rows.map((r) => ({
          id: r.id,
          provider: r.provider,
          email: r.email,
          createdAt: r.createdAt.toISOString(),
          lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
        })),
      },
      200,
    );
  },
);

socialRouter.openapi(
  createRoute({
    method: 'post',
    path: '/user/identities/{provider}/link',
    tags,
    summary: 'Link a social identity to your account',
    description:
      'Returns the provider URL to send the browser to; the callback links the identity and returns to ' +
      '`redirectTo` with `?linked=<provider>` (or `?error=identity_in_use`). Sensitive: needs a recent sign-in ' +
      '(with the second factor when two-factor is on).',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth, limitByIp('social-start')] as const,
    request: { params: ProviderParam, ...jsonBody(LinkBody) },
    responses: {
      200: jsonResponse(AuthorizationUrlResponse, 'Where to send the browser'),
      401: errors[401],
      403: errors[403],
      404: errors[404],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const now = new Date();
    const config = getConfig(c.env);
    const { provider } = c.req.valid('param');
    providerOr404(config, provider);
    const redirectTo = allowedRedirect(config, c.req.valid('json').redirectTo);
    assertStepUp(c.get('auth'), await hasSecondFactor(c.get('db'), c.get('auth').userId), now);
    const url = await beginAuthorization(c as unknown as Context<AppEnv>, provider, redirectTo, c.get('auth').userId);
    return c.json({ authorizationUrl: url }, 200);
  },
);

socialRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/user/identities/{id}',
    tags,
    summary: 'Unlink a social identity',
    description:
      'Refused (422) when it would leave the account with no way to sign in (no password, no other identity, ' +
      'no passkey). Sensitive: needs a recent sign-in (with the second factor when two-factor is on).',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth] as const,
    request: { params: IdentityIdParam },
    responses: {
      204: { description: 'Unlinked' },
      401: errors[401],
      403: errors[403],
      404: errors[404],
      422: errors[422],
    },
  }),
  async (c) => {
    const { userId } = c.get('auth');
    assertStepUp(c.get('auth'), await hasSecondFactor(c.get('db'), userId), new Date());
    await unlinkIdentity(c.get('db'), userId, c.req.valid('param').id);
    logInfo('signin.social.unlinked', { userId });
    return c.body(null, 204);
  },
);
