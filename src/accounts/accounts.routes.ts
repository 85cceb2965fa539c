import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getConfig, mfaEncryptionKey } from '../config';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { logInfo } from '../lib/log';
import { requireAuth } from '../sessions/sessions.middleware';
import { createRouter } from '../router';
import { errors, jsonBody, jsonResponse, tokenAuth } from '../openapi';
import { readPrimary } from '../middleware/request-context';
import { limitByIp } from '../security/rate-limit';
import { clientInfo, issueAccessToken } from '../sessions/sessions.issue';
import { closeRealtimeSessions } from '../messages/realtime.notify';
import { deleteSessionCopies } from '../sessions/sessions.kv';
import { RefreshBody } from '../sessions/sessions.schemas';
import { reauthenticateSession, revokeSession, rotateRefreshToken } from '../sessions/sessions.service';
import { assertStepUp, hasSecondFactor } from '../sessions/step-up';
import { ReauthenticateBody, SignInResponse } from '../mfa/mfa.schemas';
import { reauthenticateWithSecondFactor } from '../mfa/mfa.service';
import { toUser } from './accounts.present';
import {
  LoginBody,
  PasswordResetBody,
  PasswordResetConfirmBody,
  RegisterBody,
  StatusResponse,
  UpdateUserBody,
  UserResponse,
  VerifyEmailBody,
} from './accounts.schemas';
import {
  checkPasswordForReauth,
  confirmPasswordReset,
  findUserById,
  loginUser,
  registerUser,
  requestPasswordReset,
  resendVerification,
  updateUser,
  verifyEmail,
  type SignInOptions,
} from './accounts.service';

export const accountsRouter = createRouter();

/** What a sign-in records and needs: the client's device details, the session lifetime, link base. */
function signInOptions<E extends AppEnv>(c: Context<E>): SignInOptions {
  const config = getConfig(c.env);
  return { client: clientInfo(c), refreshTtlSeconds: config.refreshTokenTtlSeconds, appUrl: config.appUrl };
}
const tags = ['User and Authentication'];

accountsRouter.openapi(
  createRoute({
    method: 'post',
    path: '/users',
    tags,
    summary: 'Register',
    description:
      'Creates the account and signs it in (201): the response holds an access token and a refresh token, and a verification email is queued. Limited per IP (429 with Retry-After).',
    middleware: [readPrimary, limitByIp('register')] as const,
    request: jsonBody(RegisterBody),
    responses: {
      201: jsonResponse(UserResponse, 'Registered and signed in'),
      409: errors[409],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const now = new Date();
    const { user, session } = await registerUser(c.get('db'), c.req.valid('json').user, signInOptions(c), now);
    const token = await issueAccessToken(c, { userId: user.id, ...session }, user, now);
    return c.json({ user: toUser(user, token, session.refreshToken) }, 201);
  },
);

accountsRouter.openapi(
  createRoute({
    method: 'post',
    path: '/users/login',
    tags,
    summary: 'Log in',
    description:
      'Answers the user with a fresh access token and refresh token. Limited per IP and per account (429 with ' +
      'Retry-After). For an account with two-factor on, answers `{"mfaRequired": true, "mfaToken"}` instead of the ' +
      'user: complete the sign-in at POST /api/users/login/mfa.',
    middleware: [readPrimary, limitByIp('login')] as const,
    request: jsonBody(LoginBody),
    responses: {
      200: jsonResponse(SignInResponse, 'Signed in, or the second factor is required'),
      401: errors[401],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const now = new Date();
    const outcome = await loginUser(c.get('db'), c.req.valid('json').user, signInOptions(c), now);
    if ('mfaRequired' in outcome) {
      logInfo('signin.password.mfa_required', { userId: outcome.userId });
      return c.json({ mfaRequired: outcome.mfaRequired, mfaToken: outcome.mfaToken }, 200);
    }
    const { user, session } = outcome;
    logInfo('signin.password.succeeded', { userId: user.id });
    const token = await issueAccessToken(c, { userId: user.id, ...session }, user, now);
    return c.json({ user: toUser(user, token, session.refreshToken) }, 200);
  },
);

accountsRouter.openapi(
  createRoute({
    method: 'post',
    path: '/user/reauthenticate',
    tags,
    summary: 'Prove who you are again, for sensitive actions',
    description:
      'Marks this session freshly authenticated for 10 minutes and returns a new access token. Accounts with ' +
      'two-factor on send a TOTP `code` or a `recoveryCode`; others send their `password`. Accounts with neither ' +
      'a password nor two-factor sign in again (social sign-in or passkey) instead. Failures count toward the login lockout.',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth, limitByIp('login')] as const,
    request: jsonBody(ReauthenticateBody),
    responses: {
      200: jsonResponse(UserResponse, 'Re-authenticated'),
      401: errors[401],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const now = new Date();
    const { userId, sessionId, amr } = c.get('auth');
    const body = c.req.valid('json');
    const user = await findUserById(c.get('db'), userId);
    if (!user) throw AppError.unauthorized();
    let session;
    if (await hasSecondFactor(c.get('db'), userId)) {
      if (body.code === undefined && body.recoveryCode === undefined) {
        throw AppError.validation({ code: ["can't be blank"] });
      }
      session = await reauthenticateWithSecondFactor(
        c.get('db'),
        userId,
        sessionId,
        user.email,
        amr,
        body,
        mfaEncryptionKey(c.env),
        now,
      );
    } else {
      if (body.password === undefined) throw AppError.validation({ password: ["can't be blank"] });
      await checkPasswordForReauth(c.get('db'), user, body.password, now);
      session = await reauthenticateSession(c.get('db'), userId, sessionId, now);
    }
    if (!session) throw AppError.unauthorized();
    const token = await issueAccessToken(c, { userId, sessionId, ...session }, user, now);
    return c.json({ user: toUser(user, token) }, 200);
  },
);

accountsRouter.openapi(
  createRoute({
    method: 'get',
    path: '/user',
    tags,
    summary: 'Current user',
    description: 'The signed-in user; `token` is the access token the request was made with.',
    security: tokenAuth,
    middleware: requireAuth,
    responses: { 200: jsonResponse(UserResponse, 'The signed-in user'), 401: errors[401] },
  }),
  async (c) => {
    const user = await findUserById(c.get('db'), c.get('auth').userId);
    if (!user) throw AppError.unauthorized();
    return c.json({ user: toUser(user, c.get('auth').token) }, 200);
  },
);

accountsRouter.openapi(
  createRoute({
    method: 'put',
    path: '/user',
    tags,
    summary: 'Update current user',
    description:
      'Changing the password ends every session, this one included, and answers with a new token and refresh token ' +
      '(the old token is refused from then on); changing the email asks for a new confirmation. Both are sensitive: ' +
      'they need a sign-in or re-authentication within the last 10 minutes (with the second factor when two-factor ' +
      'is on), else 403 `reauthentication`.',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth] as const,
    request: jsonBody(UpdateUserBody),
    responses: {
      200: jsonResponse(UserResponse, 'Updated'),
      401: errors[401],
      403: errors[403],
      409: errors[409],
      422: errors[422],
    },
  }),
  async (c) => {
    const now = new Date();
    const current = await findUserById(c.get('db'), c.get('auth').userId);
    if (!current) throw AppError.unauthorized();
    const patch = c.req.valid('json').user;
    const emailChanges = patch.email !== undefined && patch.email.toLowerCase() !== current.email.toLowerCase();
    if (emailChanges || patch.password !== undefined) {
      assertStepUp(c.get('auth'), await hasSecondFactor(c.get('db'), current.id), now);
    }
    const { user, revokedSessionIds, session } = await updateUser(c.get('db'), current, patch, signInOptions(c), now, {
      amr: c.get('auth').amr,
      aal: c.get('auth').aal,
    });
    await deleteSessionCopies(c.get('sessionsKv'), revokedSessionIds);
    c.executionCtx.waitUntil(closeRealtimeSessions(c.env, current.id, revokedSessionIds));
    // Only the username, bio and image are public (profiles, article and comment authors).
    if (patch.username === undefined && patch.bio === undefined && patch.image === undefined) {
      c.set('publicReadsUnchanged', true);
    }
    if (!session) return c.json({ user: toUser(user, c.get('auth').token) }, 200);
    const token = await issueAccessToken(c, { userId: user.id, ...session }, user, now);
    return c.json({ user: toUser(user, token, session.refreshToken) }, 200);
  },
);

accountsRouter.openapi(
  createRoute({
    method: 'post',
    path: '/users/verify',
    tags,
    summary: 'Confirm an email address',
    description: 'Consumes the single-use token from the verification email.',
    middleware: [readPrimary, limitByIp('verify')] as const,
    request: jsonBody(VerifyEmailBody),
    responses: { 200: jsonResponse(StatusResponse, 'Email confirmed'), 422: errors[422], 429: errors[429] },
  }),
  async (c) => {
    await verifyEmail(c.get('db'), c.req.valid('json').token, new Date());
    return c.json({ status: 'verified' }, 200);
  },
);

accountsRouter.openapi(
  createRoute({
    method: 'post',
    path: '/user/verification-email',
    tags,
    summary: 'Send the verification email again',
    description: 'At most 3 an hour per account. Answers `{"status":"verified"}` if the address is already confirmed.',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth] as const,
    responses: {
      202: jsonResponse(StatusResponse, 'Queued'),
      200: jsonResponse(StatusResponse, 'Already verified'),
      401: errors[401],
      429: errors[429],
    },
  }),
  async (c) => {
    const outcome = await resendVerification(c.get('db'), c.get('auth').userId, getConfig(c.env).appUrl, new Date());
    return outcome === 'queued' ? c.json({ status: 'accepted' }, 202) : c.json({ status: 'verified' }, 200);
  },
);

accountsRouter.openapi(
  createRoute({
    method: 'post',
    path: '/users/password-reset',
    tags,
    summary: 'Request a password reset email',
    description: 'Always answers 202, whether or not the email is registered.',
    middleware: [readPrimary, limitByIp('password-reset')] as const,
    request: jsonBody(PasswordResetBody),
    responses: { 202: jsonResponse(StatusResponse, 'Accepted'), 422: errors[422], 429: errors[429] },
  }),
  async (c) => {
    await requestPasswordReset(c.get('db'), c.req.valid('json').email, getConfig(c.env).appUrl, new Date());
    return c.json({ status: 'accepted' }, 202);
  },
);

accountsRouter.openapi(
  createRoute({
    method: 'post',
    path: '/users/password-reset/confirm',
    tags,
    summary: 'Set a new password with a reset token',
    description: 'Consumes the single-use token and signs the account out everywhere.',
    middleware: [readPrimary, limitByIp('password-reset')] as const,
    request: jsonBody(PasswordResetConfirmBody),
    responses: { 200: jsonResponse(StatusResponse, 'Password changed'), 422: errors[422], 429: errors[429] },
  }),
  async (c) => {
    const { token, password } = c.req.valid('json');
    const { userId, sessionIds } = await confirmPasswordReset(c.get('db'), token, password, new Date());
    await deleteSessionCopies(c.get('sessionsKv'), sessionIds);
    if (userId) c.executionCtx.waitUntil(closeRealtimeSessions(c.env, userId, sessionIds));
    return c.json({ status: 'password_reset' }, 200);
  },
);

accountsRouter.openapi(
  createRoute({
    method: 'post',
    path: '/users/refresh',
    tags: ['Sessions'],
    summary: 'Exchange a refresh token for a new access token',
    description:
      'Rotates the refresh token: the one presented stops working. Presenting a used refresh token again revokes its session.',
    middleware: [readPrimary, limitByIp('refresh')] as const,
    request: jsonBody(RefreshBody),
    responses: { 200: jsonResponse(UserResponse, 'New tokens'), 401: errors[401], 422: errors[422], 429: errors[429] },
  }),
  async (c) => {
    const now = new Date();
    const config = getConfig(c.env);
    const outcome = await rotateRefreshToken(
      c.get('db'),
      c.req.valid('json').refreshToken,
      config.refreshTokenTtlSeconds,
      now,
    );
    if (outcome.kind === 'reused') {
      // A stolen token and its legitimate twin cannot be told apart: end the whole family.
      await revokeSession(c.get('db'), outcome.userId, outcome.sessionId, now);
      await deleteSessionCopies(c.get('sessionsKv'), [outcome.sessionId]);
      c.executionCtx.waitUntil(closeRealtimeSessions(c.env, outcome.userId, [outcome.sessionId]));
    }
    if (outcome.kind !== 'rotated') throw AppError.unauthorized('refreshToken', 'is invalid or has expired');
    const token = await issueAccessToken(c, outcome, outcome.user, now);
    return c.json({ user: toUser(outcome.user, token, outcome.refreshToken) }, 200);
  },
);
