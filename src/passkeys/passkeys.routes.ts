import { createRoute } from '@hono/zod-openapi';
import { toUser } from '../accounts/accounts.present';
import { UserResponse } from '../accounts/accounts.schemas';
import { findUserById } from '../accounts/accounts.service';
import { getConfig } from '../config';
import { AppError } from '../errors';
import { logInfo } from '../lib/log';
import { idempotencyClaim, idempotent } from '../middleware/idempotency';
import { errors, IdempotencyHeaders, jsonBody, jsonResponse, tokenAuth } from '../openapi';
import { readPrimary } from '../middleware/request-context';
import { createRouter } from '../router';
import { limitByIp } from '../security/rate-limit';
import { clientInfo, issueAccessToken } from '../sessions/sessions.issue';
import { requireAuth } from '../sessions/sessions.middleware';
import { assertStepUp, hasSecondFactor } from '../sessions/step-up';
import {
  PasskeyIdParam,
  PasskeyLoginBody,
  PasskeyResponse,
  PasskeysResponse,
  RegisterPasskeyBody,
  WebAuthnOptionsResponse,
} from './passkeys.schemas';
import {
  authenticationOptions,
  listPasskeys,
  registerPasskey,
  registrationOptions,
  removePasskey,
  signInWithPasskey,
} from './passkeys.service';

export const passkeysRouter = createRouter();
const tags = ['Passkeys'];

const present = (p: { id: string; name: string; createdAt: Date; lastUsedAt: Date | null }) => ({
  id: p.id,
  name: p.name,
  createdAt: p.createdAt.toISOString(),
  lastUsedAt: p.lastUsedAt?.toISOString() ?? null,
});

passkeysRouter.openapi(
  createRoute({
    method: 'post',
    path: '/user/passkeys/registration-options',
    tags,
    summary: 'Options to register a passkey',
    description:
      'Pass to `navigator.credentials.create()`, then POST the result to /api/user/passkeys. Sensitive: needs a ' +
      'recent sign-in (with the second factor when two-factor is on).',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth] as const,
    responses: { 200: jsonResponse(WebAuthnOptionsResponse, 'Creation options'), 401: errors[401], 403: errors[403] },
  }),
  async (c) => {
    const now = new Date();
    assertStepUp(c.get('auth'), await hasSecondFactor(c.get('db'), c.get('auth').userId), now);
    const user = await findUserById(c.get('db'), c.get('auth').userId);
    if (!user) throw AppError.unauthorized();
    return c.json(await registrationOptions(c.get('db'), user, getConfig(c.env).webauthn, now), 200);
  },
);

passkeysRouter.openapi(
  createRoute({
    method: 'post',
    path: '/user/passkeys',
    tags,
    summary: 'Register a passkey',
    description: 'Accepts an `Idempotency-Key` header: a retried registration replays the first response.',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth, idempotent] as const,
    request: { headers: IdempotencyHeaders, ...jsonBody(RegisterPasskeyBody) },
    responses: {
      201: jsonResponse(PasskeyResponse, 'Registered'),
      401: errors[401],
      409: errors[409],
      422: errors[422],
    },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const row = await registerPasskey(
      c.get('db'),
      c.get('auth').userId,
      body.response as never,
      body.name,
      getConfig(c.env).webauthn,
      new Date(),
      idempotencyClaim(c),
    );
    logInfo('passkey.registered', { userId: c.get('auth').userId });
    return c.json({ passkey: present(row) }, 201);
  },
);

passkeysRouter.openapi(
  createRoute({
    method: 'get',
    path: '/user/passkeys',
    tags,
    summary: 'Your passkeys',
    description: 'Oldest first, with when each was last used to sign in.',
    security: tokenAuth,
    middleware: requireAuth,
    responses: { 200: jsonResponse(PasskeysResponse, 'Passkeys'), 401: errors[401] },
  }),
  async (c) => c.json({ passkeys: (await listPasskeys(c.get('db'), c.get('auth').userId)).map(present) }, 200),
);

passkeysRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/user/passkeys/{id}',
    tags,
    summary: 'Remove a passkey',
    description:
      'Refused (422) when it is the last way to sign in. Sensitive: needs a recent sign-in (with the second factor ' +
      'when two-factor is on).',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth] as const,
    request: { params: PasskeyIdParam },
    responses: {
      204: { description: 'Removed' },
      401: errors[401],
      403: errors[403],
      404: errors[404],
      422: errors[422],
    },
  }),
  async (c) => {
    const { userId } = c.get('auth');
    assertStepUp(c.get('auth'), await hasSecondFactor(c.get('db'), userId), new Date());
    await removePasskey(c.get('db'), userId, c.req.valid('param').id);
    logInfo('passkey.removed', { userId });
    return c.body(null, 204);
  },
);

passkeysRouter.openapi(
  createRoute({
    method: 'post',
    path: '/users/passkeys/authentication-options',
    tags,
    summary: 'Options to sign in with a passkey',
    description:
      'Usernameless: pass to `navigator.credentials.get()`, then POST the result to /api/users/login/passkey.',
    middleware: [readPrimary, limitByIp('passkey')] as const,
    responses: { 200: jsonResponse(WebAuthnOptionsResponse, 'Request options'), 429: errors[429] },
  }),
  async (c) => c.json(await authenticationOptions(c.get('db'), getConfig(c.env).webauthn, new Date()), 200),
);

passkeysRouter.openapi(
  createRoute({
    method: 'post',
    path: '/users/login/passkey',
    tags,
    summary: 'Sign in with a passkey',
    description: 'A passkey sign-in is a two-factor session (`aal` 2): no second step, even with two-factor on.',
    middleware: [readPrimary, limitByIp('login')] as const,
    request: jsonBody(PasskeyLoginBody),
    responses: {
      200: jsonResponse(UserResponse, 'Signed in'),
      401: errors[401],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const now = new Date();
    const config = getConfig(c.env);
    const { user, session } = await signInWithPasskey(
      c.get('db'),
      c.req.valid('json').response as never,
      config.webauthn,
      clientInfo(c),
      config.refreshTokenTtlSeconds,
      now,
    );
    logInfo('signin.passkey.succeeded', { userId: user.id });
    const token = await issueAccessToken(c, { userId: user.id, ...session }, user, now);
    return c.json({ user: toUser(user, token, session.refreshToken) }, 200);
  },
);
