import { createRoute } from '@hono/zod-openapi';
import { AppError } from '../errors';
import { requireAuth } from './sessions.middleware';
import { createRouter } from '../router';
import { errors, jsonResponse, tokenAuth } from '../openapi';
import { closeRealtimeSessions } from '../messages/realtime.notify';
import { deleteSessionCopies } from './sessions.kv';
import { toSession } from './sessions.present';
import { RevokedResponse, SessionIdParam, SessionsResponse } from './sessions.schemas';
import { listActiveSessions, revokeOtherSessionsStatement, revokeSession } from './sessions.service';

export const sessionsRouter = createRouter();
const tags = ['Sessions'];

sessionsRouter.openapi(
  createRoute({
    method: 'post',
    path: '/users/logout',
    tags,
    summary: 'Log out (revoke the current session)',
    description:
      'Revokes the session of the token sent; that access token and its refresh token stop working (other devices stay signed in).',
    security: tokenAuth,
    middleware: requireAuth,
    responses: { 204: { description: 'Logged out' }, 401: errors[401] },
  }),
  async (c) => {
    const { userId, sessionId } = c.get('auth');
    await revokeSession(c.get('db'), userId, sessionId, new Date());
    await deleteSessionCopies(c.get('sessionsKv'), [sessionId]);
    c.executionCtx.waitUntil(closeRealtimeSessions(c.env, userId, [sessionId]));
    return c.body(null, 204);
  },
);

sessionsRouter.openapi(
  createRoute({
    method: 'get',
    path: '/user/sessions',
    tags,
    summary: "List the current user's active sessions",
    description: 'One entry per signed-in device or browser; `current` marks the one making this request.',
    security: tokenAuth,
    middleware: requireAuth,
    responses: { 200: jsonResponse(SessionsResponse, 'Active sessions, newest first'), 401: errors[401] },
  }),
  async (c) => {
    const rows = await listActiveSessions(c.get('db'), c.get('auth').userId, new Date());
    return c.json({ sessions: rows.map((row) => toSession(row, c.get('auth').sessionId)) }, 200);
  },
);

sessionsRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/user/sessions/{id}',
    tags,
    summary: 'Revoke one session',
    description: 'Signs that device out. 404 when the id is not one of your active sessions.',
    security: tokenAuth,
    middleware: requireAuth,
    request: { params: SessionIdParam },
    responses: { 204: { description: 'Revoked' }, 401: errors[401], 404: errors[404] },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const revoked = await revokeSession(c.get('db'), c.get('auth').userId, id, new Date());
    if (!revoked) throw AppError.notFound('session');
    await deleteSessionCopies(c.get('sessionsKv'), [id]);
    c.executionCtx.waitUntil(closeRealtimeSessions(c.env, c.get('auth').userId, [id]));
    return c.body(null, 204);
  },
);

sessionsRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/user/sessions',
    tags,
    summary: 'Revoke every session except the current one',
    description: '"Sign out everywhere else". Answers how many sessions were revoked.',
    security: tokenAuth,
    middleware: requireAuth,
    responses: { 200: jsonResponse(RevokedResponse, 'How many sessions were revoked'), 401: errors[401] },
  }),
  async (c) => {
    const { userId, sessionId } = c.get('auth');
    const revoked = await revokeOtherSessionsStatement(c.get('db'), userId, sessionId, new Date());
    const ids = revoked.map((r) => r.id);
    await deleteSessionCopies(c.get('sessionsKv'), ids);
    c.executionCtx.waitUntil(closeRealtimeSessions(c.env, userId, ids));
    return c.json({ revoked: revoked.length }, 200);
  },
);
