import { createRoute } from '@hono/zod-openapi';
import { AppError } from '../errors';
import { errors, jsonResponse, tokenAuth } from '../openapi';
import { createRouter } from '../router';
import { requireAuth } from '../sessions/sessions.middleware';
import { RealtimeQuery, TicketResponse } from './messages.schemas';
import { connectMemberSocket } from './realtime.notify';
import { consumeTicket, issueTicket } from './realtime.service';

export const realtimeRouter = createRouter();
const tags = ['Messaging'];

realtimeRouter.openapi(
  createRoute({
    method: 'post',
    path: '/realtime/ticket',
    tags,
    summary: 'Get a WebSocket ticket',
    description:
      'Browsers cannot send Authorization on a WebSocket: open `GET /api/realtime?ticket=...` within 60 seconds. Single use; the socket belongs to the session that asked (revoking it closes the socket).',
    security: tokenAuth,
    middleware: requireAuth,
    responses: { 201: jsonResponse(TicketResponse, 'A ticket'), 401: errors[401], 429: errors[429] },
  }),
  async (c) => {
    const { userId, sessionId } = c.get('auth');
    const { ticket, expiresAt } = await issueTicket(c.get('db'), userId, sessionId, new Date());
    c.header('Cache-Control', 'no-store');
    return c.json(
      { ticket, expiresAt: expiresAt.toISOString(), url: `/api/realtime?ticket=${encodeURIComponent(ticket)}` },
      201,
    );
  },
);

realtimeRouter.openapi(
  createRoute({
    method: 'get',
    path: '/realtime',
    tags,
    summary: 'Open the real-time WebSocket',
    description:
      'Upgrade with a ticket from POST /api/realtime/ticket (checked and consumed before the upgrade). Server events, as JSON text frames: `ready`, `message.created`, `message.deleted`, `conversation.read`, `conversation.updated`; send `{"type":"ping"}` for `{"type":"pong"}`. Closed with code 4001 when the session is revoked. Catch up after a reconnect with GET /api/conversations/{id}/messages?after=<last id>.',
    request: { query: RealtimeQuery },
    responses: {
      101: { description: 'Switching protocols (WebSocket)' },
      401: errors[401],
      426: { description: 'Not a WebSocket upgrade request' },
    },
  }),
  async (c) => {
    const { ticket } = c.req.valid('query');
    if (!ticket) throw AppError.unauthorized('ticket', 'is missing');
    if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
      // Checked before consuming, so a plain GET does not burn the ticket.
      throw new AppError(426, { request: ['expected a WebSocket upgrade'] }, { Upgrade: 'websocket' });
    }
    const owner = await consumeTicket(c.get('db'), ticket, new Date());
    if (!owner) throw AppError.unauthorized('ticket', 'is invalid, used or expired');
    return connectMemberSocket(c.env, owner.userId, owner.sessionId) as unknown as ReturnType<typeof c.body>;
  },
);
