import { createRoute } from '@hono/zod-openapi';
import { toUser } from '../accounts/accounts.present';
import { UserResponse } from '../accounts/accounts.schemas';
import { findUserById } from '../accounts/accounts.service';
import { getConfig, mfaEncryptionKey } from '../config';
import { AppError } from '../errors';
import { errors, jsonBody, jsonResponse, tokenAuth } from '../openapi';
import { readPrimary } from '../middleware/request-context';
import { createRouter } from '../router';
import { limitByIp } from '../security/rate-limit';
import { clientInfo, issueAccessToken } from '../sessions/sessions.issue';
import { deleteSessionCopies } from '../sessions/sessions.kv';
import { requireAuth } from '../sessions/sessions.middleware';
import { assertStepUp, hasSecondFactor } from '../sessions/step-up';
import {
  LoginMfaBody,
  MfaStatusResponse,
  RecoveryCodesResponse,
  TotpActivatedResponse,
  TotpEnrolmentResponse,
  TotpVerifyBody,
} from './mfa.schemas';
import {
  activateTotp,
  completeMfaSignIn,
  disableTotp,
  mfaStatus,
  regenerateRecoveryCodes,
  startTotpEnrolment,
} from './mfa.service';

export const mfaRouter = createRouter();
const tags = ['Two-factor authentication'];
const stepUpNote =
  'Sensitive: needs a sign-in or re-authentication (POST /api/user/reauthenticate) within the last 10 minutes, ' +
  'with the second factor when two-factor is on; otherwise 403 `reauthentication`.';

mfaRouter.openapi(
  createRoute({
    method: 'post',
    path: '/users/login/mfa',
    tags,
    summary: 'Complete a sign-in with the second factor',
    description:
      'After `POST /api/users/login` (or `POST /api/auth/exchange`) answered `{"mfaRequired": true, "mfaToken"}`: ' +
      'send the token with a current TOTP `code` or an unused `recoveryCode`. Wrong codes count toward the account lockout.',
    middleware: [readPrimary, limitByIp('login')] as const,
    request: jsonBody(LoginMfaBody),
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
    const { user, session } = await completeMfaSignIn(
      c.get('db'),
      c.req.valid('json'),
      clientInfo(c),
      config.refreshTokenTtlSeconds,
      mfaEncryptionKey(c.env),
      now,
    );
    const token = await issueAccessToken(c, { userId: user.id, ...session }, user, now);
    return c.json({ user: toUser(user, token, session.refreshToken) }, 200);
  },
);

mfaRouter.openapi(
  createRoute({
    method: 'get',
    path: '/user/mfa',
    tags,
    summary: 'Two-factor status',
    description: 'Whether two-factor is on, and how many recovery codes are left (regenerate before they run out).',
    security: tokenAuth,
    middleware: requireAuth,
    responses: { 200: jsonResponse(MfaStatusResponse, 'Status'), 401: errors[401] },
  }),
  async (c) => c.json(await mfaStatus(c.get('db'), c.get('auth').userId), 200),
);

mfaRouter.openapi(
  createRoute({
    method: 'post',
    path: '/user/mfa/totp',
    tags,
    summary: 'Start TOTP enrolment',
    description: `Returns a new secret and its \`otpauth://\` URI; confirm with POST /api/user/mfa/totp/verify. ${stepUpNote}`,
    security: tokenAuth,
    middleware: [readPrimary, requireAuth] as const,
    responses: {
      200: jsonResponse(TotpEnrolmentResponse, 'Secret to enrol'),
      401: errors[401],
      403: errors[403],
      409: errors[409],
    },
  }),
  async (c) => {
    const now = new Date();
    assertStepUp(c.get('auth'), false, now);
    const user = await findUserById(c.get('db'), c.get('auth').userId);
    if (!user) throw AppError.unauthorized();
    const enrolment = await startTotpEnrolment(
      c.get('db'),
      user,
      getConfig(c.env).webauthn.rpName,
      mfaEncryptionKey(c.env),
      now,
    );
    return c.json(enrolment, 200);
  },
);

mfaRouter.openapi(
  createRoute({
    method: 'post',
    path: '/user/mfa/totp/verify',
    tags,
    summary: 'Turn two-factor on with a first code',
    description:
      'Activates the authenticator, returns ten recovery codes (shown once) and a new access token for this ' +
      'session, now two-factor. Every other session of the account is signed out.',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth] as const,
    request: jsonBody(TotpVerifyBody),
    responses: {
      200: jsonResponse(TotpActivatedResponse, 'Two-factor is on'),
      401: errors[401],
      409: errors[409],
      422: errors[422],
    },
  }),
  async (c) => {
    const now = new Date();
    const { userId, sessionId, amr } = c.get('auth');
    const activated = await activateTotp(
      c.get('db'),
      userId,
      sessionId,
      amr,
      c.req.valid('json').code,
      mfaEncryptionKey(c.env),
      now,
    );
    await deleteSessionCopies(c.get('sessionsKv'), activated.revokedSessionIds);
    const user = await findUserById(c.get('db'), userId);
    if (!user) throw AppError.unauthorized();
    const token = await issueAccessToken(c, { userId, sessionId, ...activated.session }, user, now);
    return c.json({ user: toUser(user, token), recoveryCodes: activated.recoveryCodes }, 200);
  },
);

mfaRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/user/mfa/totp',
    tags,
    summary: 'Turn two-factor off',
    description: `Removes the authenticator and every recovery code. ${stepUpNote}`,
    security: tokenAuth,
    middleware: [readPrimary, requireAuth] as const,
    responses: { 204: { description: 'Two-factor is off' }, 401: errors[401], 403: errors[403], 404: errors[404] },
  }),
  async (c) => {
    assertStepUp(c.get('auth'), await hasSecondFactor(c.get('db'), c.get('auth').userId), new Date());
    if (!(await disableTotp(c.get('db'), c.get('auth').userId))) throw AppError.notFound('mfa');
    return c.body(null, 204);
  },
);

mfaRouter.openapi(
  createRoute({
    method: 'post',
    path: '/user/mfa/recovery-codes',
    tags,
    summary: 'Replace the recovery codes',
    description: `Ten new codes (shown once); every earlier code stops working. ${stepUpNote}`,
    security: tokenAuth,
    middleware: [readPrimary, requireAuth] as const,
    responses: {
      200: jsonResponse(RecoveryCodesResponse, 'New codes'),
      401: errors[401],
      403: errors[403],
      422: errors[422],
    },
  }),
  async (c) => {
    const now = new Date();
    assertStepUp(c.get('auth'), await hasSecondFactor(c.get('db'), c.get('auth').userId), now);
    return c.json({ recoveryCodes: await regenerateRecoveryCodes(c.get('db'), c.get('auth').userId, now) }, 200);
  },
);
