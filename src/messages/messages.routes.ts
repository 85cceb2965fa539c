import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getConfig } from '../config';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { weakEtag } from '../lib/etag';
import type { RawStatement } from '../db/raw';
import { idempotencyClaim, idempotent } from '../middleware/idempotency';
import { errors, IdempotencyHeaders, jsonBody, jsonResponse, tokenAuth } from '../openapi';
import { createRouter } from '../router';
import { requireAuth } from '../sessions/sessions.middleware';
import {
  getConversation,
  leaveConversation,
  listConversations,
  parseConversationCursor,
  renameConversation,
  startConversation,
} from './conversations.service';
import { toConversation } from './messages.present';
import {
  ConversationIdParam,
  ConversationResponse,
  ConversationsQuery,
  ConversationsResponse,
  DEFAULT_PAGE,
  MessageIdParams,
  MessageResponse,
  MessagesQuery,
  MessagesResponse,
  NewConversationBody,
  NewMessageBody,
  ReadBody,
  ReportBody,
  ReportResponse,
  TitleBody,
} from './messages.schemas';
import { deleteMessage, listMessages, markRead, reportMessage, sendLimit, sendMessage } from './messages.service';
import { notifyMembers, type RealtimeEvent } from './realtime.notify';

export const messagesRouter = createRouter();
const tags = ['Messaging'];
const notFoundNote = 'Non-participants (and members who left) get 404, never 403.';

/** The bits of a request context these helpers use (so they accept every route's typed context). */
type Ctx = Pick<Context<AppEnv>, 'env' | 'executionCtx'>;

function settings(c: Ctx) {
  return getConfig(c.env).messaging;
}

function assertBodyLength(c: Ctx, body: string, field = 'body') {
  const max = settings(c).maxBodyChars;
  if (body.length > max) throw AppError.validation({ [field]: [`is too long (maximum is ${max} characters)`] });
}

/** The Idempotency-Key claim (when the request sent a key), for the write's own batch. */
function claimOf(c: Context): RawStatement[] {
  return idempotencyClaim(c) as unknown as RawStatement[];
}

/** Fans an event out to members' sockets after the response (the batch has committed). */
function publish(c: Ctx, memberIds: string[], event: RealtimeEvent) {
  c.executionCtx.waitUntil(notifyMembers(c.env, memberIds, event));
}

/** The inbox version an `If-None-Match` header names for this viewer and page, if any. */
function knownInboxVersion(header: string | undefined, pageTag: string): number | null {
  for (const candidate of header?.split(',') ?? []) {
    const match = /^(?:W\/)?"(\d{1,15})\.([A-Za-z0-9_-]+)"$/.exec(candidate.trim());
    if (match && match[2] === pageTag) return Number(match[1]);
  }
  return null;
}

messagesRouter.openapi(
  createRoute({
    method: 'post',
    path: '/conversations',
    tags,
    summary: 'Start a conversation (1:1 or group)',
    description:
      'One other member makes a 1:1, more make a group (at most MESSAGE_MAX_PARTICIPANTS besides you). Starting a 1:1 that exists returns it (200, same id). Requires a verified email; refused (403, neutral) when a block stands either way or an invitee’s dmPolicy does not admit you.',
    security: tokenAuth,
    middleware: [requireAuth, idempotent] as const,
    request: { headers: IdempotencyHeaders, ...jsonBody(NewConversationBody) },
    responses: {
      201: jsonResponse(ConversationResponse, 'Started'),
      200: jsonResponse(ConversationResponse, 'The existing 1:1'),
      401: errors[401],
      403: errors[403],
      404: errors[404],
      409: errors[409],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const input = c.req.valid('json');
    const cfg = settings(c);
    if (input.participants.length > cfg.maxParticipants) {
      throw AppError.validation({ participants: [`is too long (maximum is ${cfg.maxParticipants} members)`] });
    }
    if (input.message !== undefined) assertBodyLength(c, input.message, 'message');
    const outcome = await startConversation(
      c.get('db'),
      {
        creatorId: c.get('auth').userId,
        usernames: input.participants,
        title: input.title || null,
        message: input.message === undefined ? null : { body: input.message, clientId: input.clientId },
      },
      sendLimit(cfg.sendLimitPerMinute),
      new Date(),
      claimOf(c),
    );
    const conversation = toConversation(outcome.conversation);
    if (outcome.created) {
      publish(c, outcome.memberIds, {
        type: 'conversation.updated',
        conversationId: conversation.id,
        reason: 'created',
      });
    }
    if (outcome.message?.created) {
      publish(c, outcome.memberIds, {
        type: 'message.created',
        conversationId: conversation.id,
        message: outcome.message.json,
      });
    }
    const body = outcome.message ? { conversation, message: outcome.message.json } : { conversation };
    return outcome.created ? c.json(body, 201) : c.json(body, 200);
  },
);

messagesRouter.openapi(
  createRoute({
    method: 'get',
    path: '/conversations',
    tags,
    summary: 'List your conversations, newest activity first',
    description:
      'Cursor pagination with `before` (a conversation `cursor`). Answers `ETag` from your inbox version: send it back in `If-None-Match` to get 304 for the cost of one single-row read when nothing changed (a changed inbox comes back in the same round trip).',
    security: tokenAuth,
    middleware: requireAuth,
    request: { query: ConversationsQuery },
    responses: {
      200: jsonResponse(ConversationsResponse, 'A page of conversations'),
      304: { description: 'Not modified (your inbox has not changed)' },
      401: errors[401],
      422: errors[422],
    },
  }),
  async (c) => {
    const { before, limit = DEFAULT_PAGE } = c.req.valid('query');
    const cursor = before === undefined ? null : parseConversationCursor(before);
    if (before !== undefined && !cursor) throw AppError.validation({ before: ['is not a valid cursor'] });
    const me = c.get('auth').userId;
    // The ETag names the inbox version it was made at, plus a tag of who asked for which page, so a
    // conditional poll is answered by one round trip that reads the page only if the version moved.
    const pageTag = (await weakEtag(me, `inbox:${before ?? ''}:${limit}`)).slice(3, -1);
    const etagFor = (version: number) => `W/"${version}.${pageTag}"`;
    c.header('Vary', 'Authorization', { append: true });
    c.header('Cache-Control', 'private, no-cache');
    const known = knownInboxVersion(c.req.header('If-None-Match'), pageTag);
    const page = await listConversations(c.get('db'), me, cursor, limit, known);
    c.header('ETag', etagFor(page.version));
    if (known !== null && page.version === known) return c.body(null, 304);
    const conversations = page.rows.map(toConversation);
    return c.json({ conversations, nextBefore: page.hasMore ? (conversations.at(-1)?.cursor ?? null) : null }, 200);
  },
);

messagesRouter.openapi(
  createRoute({
    method: 'get',
    path: '/conversations/{id}',
    tags,
    summary: 'Get a conversation',
    description: notFoundNote,
    security: tokenAuth,
    middleware: requireAuth,
    request: { params: ConversationIdParam },
    responses: { 200: jsonResponse(ConversationResponse, 'The conversation'), 401: errors[401], 404: errors[404] },
  }),
  async (c) => {
    const row = await getConversation(c.get('db'), c.req.valid('param').id, c.get('auth').userId);
    return c.json({ conversation: toConversation(row) }, 200);
  },
);

messagesRouter.openapi(
  createRoute({
    method: 'put',
    path: '/conversations/{id}',
    tags,
    summary: 'Rename a group conversation',
    description: `Any participant may rename a group; \`null\` clears the title. ${notFoundNote}`,
    security: tokenAuth,
    middleware: requireAuth,
    request: { params: ConversationIdParam, ...jsonBody(TitleBody) },
    responses: {
      200: jsonResponse(ConversationResponse, 'Renamed'),
      401: errors[401],
      404: errors[404],
      422: errors[422],
    },
  }),
  async (c) => {
    const { title } = c.req.valid('json');
    const { conversation, memberIds } = await renameConversation(
      c.get('db'),
      c.req.valid('param').id,
      c.get('auth').userId,
      title || null,
    );
    publish(c, memberIds, { type: 'conversation.updated', conversationId: conversation.id, reason: 'title' });
    return c.json({ conversation: toConversation(conversation) }, 200);
  },
);

messagesRouter.openapi(
  createRoute({
    method: 'post',
    path: '/conversations/{id}/leave',
    tags,
    summary: 'Leave a conversation',
    description: `History stays for the others; you stop receiving and the conversation answers 404 for you. ${notFoundNote}`,
    security: tokenAuth,
    middleware: requireAuth,
    request: { params: ConversationIdParam },
    responses: { 204: { description: 'Left' }, 401: errors[401], 404: errors[404] },
  }),
  async (c) => {
    const id = c.req.valid('param').id;
    const { memberIds } = await leaveConversation(c.get('db'), id, c.get('auth').userId, new Date());
    publish(c, memberIds, { type: 'conversation.updated', conversationId: id, reason: 'left' });
    return c.body(null, 204);
  },
);

messagesRouter.openapi(
  createRoute({
    method: 'get',
    path: '/conversations/{id}/messages',
    tags,
    summary: 'List messages',
    description: `Newest first by default; \`before\` pages back, \`after\` catches up (oldest first). Cursors are message ids (exclusive). ${notFoundNote}`,
    security: tokenAuth,
    middleware: requireAuth,
    request: { params: ConversationIdParam, query: MessagesQuery },
    responses: {
      200: jsonResponse(MessagesResponse, 'A page of messages'),
      401: errors[401],
      404: errors[404],
      422: errors[422],
    },
  }),
  async (c) => {
    const { before, after, limit = DEFAULT_PAGE } = c.req.valid('query');
    if (before !== undefined && after !== undefined) {
      throw AppError.validation({ after: ["can't be combined with before"] });
    }
    c.header('Cache-Control', 'private, no-store');
    const page = await listMessages(c.get('db'), c.req.valid('param').id, c.get('auth').userId, {
      before,
      after,
      limit,
    });
    return c.json(page, 200);
  },
);

messagesRouter.openapi(
  createRoute({
    method: 'post',
    path: '/conversations/{id}/messages',
    tags,
    summary: 'Send a message',
    description: `201 with the new message; a retry with the same \`clientId\` answers 200 with the first one. A block between you and another participant (either way) answers a neutral 403. Rate limited per sender (429 with Retry-After). ${notFoundNote}`,
    security: tokenAuth,
    middleware: [requireAuth, idempotent] as const,
    request: { params: ConversationIdParam, headers: IdempotencyHeaders, ...jsonBody(NewMessageBody) },
    responses: {
      201: jsonResponse(MessageResponse, 'Sent'),
      200: jsonResponse(MessageResponse, 'Already sent (same clientId)'),
      401: errors[401],
      403: errors[403],
      404: errors[404],
      409: errors[409],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const input = c.req.valid('json');
    assertBodyLength(c, input.body);
    const id = c.req.valid('param').id;
    const outcome = await sendMessage(
      c.get('db'),
      id,
      { senderId: c.get('auth').userId, body: input.body, clientId: input.clientId },
      sendLimit(settings(c).sendLimitPerMinute),
      new Date(),
      claimOf(c),
    );
    if (!outcome.created) return c.json({ message: outcome.message }, 200);
    publish(c, outcome.memberIds, { type: 'message.created', conversationId: id, message: outcome.message });
    return c.json({ message: outcome.message }, 201);
  },
);

messagesRouter.openapi(
  createRoute({
    method: 'post',
    path: '/conversations/{id}/read',
    tags,
    summary: 'Move your read marker',
    description: `The marker never moves backwards; your unread count is recounted. ${notFoundNote}`,
    security: tokenAuth,
    middleware: requireAuth,
    request: { params: ConversationIdParam, ...jsonBody(ReadBody) },
    responses: {
      200: jsonResponse(ConversationResponse, 'The conversation with your new unread count'),
      401: errors[401],
      404: errors[404],
      422: errors[422],
    },
  }),
  async (c) => {
    const id = c.req.valid('param').id;
    const { upTo } = c.req.valid('json');
    const { conversation, memberIds, username } = await markRead(c.get('db'), id, c.get('auth').userId, upTo);
    publish(c, memberIds, { type: 'conversation.read', conversationId: id, username, upTo });
    const json = toConversation(conversation);
    return c.json({ conversation: json }, 200);
  },
);

messagesRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/conversations/{id}/messages/{messageId}',
    tags,
    summary: 'Delete your message',
    description: `The body is removed and a tombstone stays, so the thread stays coherent. Idempotent. Someone else's message: 403. ${notFoundNote}`,
    security: tokenAuth,
    middleware: requireAuth,
    request: { params: MessageIdParams },
    responses: { 204: { description: 'Deleted' }, 401: errors[401], 403: errors[403], 404: errors[404] },
  }),
  async (c) => {
    const { id, messageId } = c.req.valid('param');
    const outcome = await deleteMessage(c.get('db'), id, c.get('auth').userId, messageId, new Date());
    if (outcome.deleted) publish(c, outcome.memberIds, { type: 'message.deleted', conversationId: id, messageId });
    return c.body(null, 204);
  },
);

messagesRouter.openapi(
  createRoute({
    method: 'post',
    path: '/conversations/{id}/messages/{messageId}/report',
    tags,
    summary: 'Report a message to the moderators',
    description: `One report per member and message (a repeat answers 200 with the first). The body is kept as reported. ${notFoundNote}`,
    security: tokenAuth,
    middleware: [requireAuth, idempotent] as const,
    request: {
      params: MessageIdParams,
      headers: IdempotencyHeaders,
      body: { required: false, content: { 'application/json': { schema: ReportBody } } },
    },
    responses: {
      201: jsonResponse(ReportResponse, 'Reported'),
      200: jsonResponse(ReportResponse, 'Already reported'),
      401: errors[401],
      404: errors[404],
      409: errors[409],
      422: errors[422],
    },
  }),
  async (c) => {
    const { id, messageId } = c.req.valid('param');
    const reason = (c.req.valid('json') as { reason?: string } | undefined)?.reason || null;
    const outcome = await reportMessage(
      c.get('db'),
      id,
      c.get('auth').userId,
      messageId,
      reason,
      new Date(),
      claimOf(c),
    );
    return outcome.created ? c.json({ report: outcome.report }, 201) : c.json({ report: outcome.report }, 200);
  },
);
