import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client';
import { batchRows, type RawStatement, type Row } from '../db/raw';
import { AppError } from '../errors';
import { newId } from '../lib/tokens';
import { assertWithinLimit, hitStatement, withinLimit, type WindowLimit } from '../security/rate-limit';
import { parseParticipants, toMessage, type MessageJson } from './messages.present';
import {
  blockedInConversation,
  bumpInboxes,
  conversationRef,
  conversationViewSql,
  isActiveParticipant,
  messageColumns,
  type ConversationRef,
  type ConversationViewRow,
  type MessageViewRow,
} from './messages.queries';

const PREVIEW_CHARS = 120;

export const sendLimit = (perMinute: number): WindowLimit => ({ limit: perMinute, windowSeconds: 60 });
const sendLimitKey = (userId: string) => `message:${userId}`;

/** The neutral refusal for blocks and dmPolicy: it never says who blocked whom. */
export const cannotDeliver = () => new AppError(403, { message: ['cannot be delivered to this conversation'] });

export interface SendInput {
  senderId: string;
  body: string;
  clientId?: string;
}

interface PreparedSend {
  publicId: string;
  clientId: string;
  statements: RawStatement[];
}

/**
 * The statements of one send, for the caller's batch. The insert carries every guard (active
 * participant, no block either way, within the sender's rate limit) and ON CONFLICT DO NOTHING on
 * (conversation, sender, client id); each follow-up write is conditioned on the message with this
 * request's freshly generated public id existing — true only when this batch inserted it — so a
 * deduplicated retry changes nothing (no second unread bump, no second inbox bump).
 */
export function sendStatements(
  db: Database,
  conversation: ConversationRef,
  input: SendInput,
  limit: WindowLimit,
  now: Date,
  extraGuard: SQL = sql`1`,
): PreparedSend {
  const publicId = newId('msg');
  const clientId = input.clientId ?? publicId;
  const t = now.getTime();
  const me = input.senderId;
  const ours = sql`EXISTS (SELECT 1 FROM messages WHERE id = ${publicId})`;
  const ourSeq = sql`(SELECT seq FROM messages WHERE id = ${publicId})`;
  const preview = input.body.replace(/\s+/g, ' ').trim().slice(0, PREVIEW_CHARS);
  return {
    publicId,
    clientId,
    statements: [
      hitStatement(db, sendLimitKey(me), limit, now),
      sql`INSERT INTO messages (id, conversation_id, sender_id, body, client_id, created_at)
        SELECT ${publicId}, ${conversation}, ${me}, ${input.body}, ${clientId}, ${t}
        WHERE ${isActiveParticipant(conversation, me)} AND NOT ${blockedInConversation(conversation, me)}
          AND ${withinLimit(sendLimitKey(me), limit, now)} AND ${extraGuard}
        ON CONFLICT DO NOTHING`,
      sql`UPDATE conversations SET last_message_seq = ${ourSeq}, last_message_id = ${publicId},
          last_message_preview = ${preview}, last_message_sender_id = ${me}, last_activity_at = ${t}
        WHERE id = ${conversation} AND ${ours}`,
      sql`UPDATE conversation_participants SET unread_count = unread_count + 1,
          unread_since = COALESCE(unread_since, ${t}), activity_at = ${t}
        WHERE conversation_id = ${conversation} AND user_id <> ${me} AND left_at IS NULL AND ${ours}`,
      // Replying means having read the thread: the sender's marker moves to their own message.
      sql`UPDATE conversation_participants SET last_read_seq = MAX(last_read_seq, ${ourSeq}), unread_count = 0,
          unread_since = NULL, activity_at = ${t}
        WHERE conversation_id = ${conversation} AND user_id = ${me} AND ${ours}`,
      bumpInboxes(conversation, ours),
    ],
  };
}

/** Reads the message a send produced (or the first one with that client id), with its sender. */
export function sentMessageSql(conversation: ConversationRef, senderId: string, clientId: string): SQL {
  return sql`SELECT ${messageColumns} FROM messages m LEFT JOIN users u ON u.id = m.sender_id
    WHERE m.conversation_id = ${conversation} AND m.sender_id = ${senderId} AND m.client_id = ${clientId}`;
}

/** Active participant ids of a conversation, for real-time notifications. */
export function memberIdsSql(conversation: ConversationRef): SQL {
  return sql`SELECT user_id FROM conversation_participants WHERE conversation_id = ${conversation} AND left_at IS NULL`;
}

const ids = (rows: Row[]) => rows.map((r) => r.user_id as string);

export interface SendOutcome {
  created: boolean;
  message: MessageJson;
  memberIds: string[];
}

/** Sends a message in one atomic batch. A retry with the same client id returns the first message. */
export async function sendMessage(
  db: Database,
  conversationId: string,
  input: SendInput,
  limit: WindowLimit,
  now: Date,
  /** Statements that must commit with the send or not at all (an Idempotency-Key claim). */
  extra: RawStatement[] = [],
): Promise<SendOutcome> {
  const conv = conversationRef(conversationId);
  const send = sendStatements(db, conv, input, limit, now);
  const results = await batchRows(db, [
    ...extra,
    ...send.statements,
    sentMessageSql(conv, input.senderId, send.clientId),
    sql`SELECT ${isActiveParticipant(conv, input.senderId)} AS member, ${blockedInConversation(conv, input.senderId)} AS blocked`,
    memberIdsSql(conv),
  ]);
  const [hit] = results[extra.length] as Array<{ hits: number; window_start: number }>;
  const [message] = results.at(-3) as unknown as MessageViewRow[];
  const [state] = results.at(-2) as Array<{ member: number; blocked: number }>;
  const memberIds = ids(results.at(-1) ?? []);
  if (!state?.member) throw AppError.notFound('conversation');
  if (message) return { created: message.id === send.publicId, message: toMessage(message), memberIds };
  if (state.blocked) throw cannotDeliver();
  assertWithinLimit(hit && { hits: hit.hits, windowStart: hit.window_start }, limit, now);
  throw new Error('message insert skipped without a failed guard');
}

export interface MessagePage {
  messages: MessageJson[];
  order: 'asc' | 'desc';
  hasMore: boolean;
}

export interface PageQuery {
  before?: string;
  after?: string;
  limit: number;
}

/** The statement listing a page of messages (exported for the query-plan test). */
export function messagesPageSql(conversationId: string, viewerId: string, page: PageQuery): SQL {
  const conv = conversationRef(conversationId);
  const cursor = page.after ?? page.before;
  const seqOf = sql`(SELECT seq FROM messages WHERE id = ${cursor ?? ''} AND conversation_id = ${conv})`;
  const range = page.after ? sql`AND m.seq > ${seqOf}` : page.before ? sql`AND m.seq < ${seqOf}` : sql``;
  const order = page.after ? sql`ASC` : sql`DESC`;
  return sql`SELECT ${messageColumns} FROM messages m LEFT JOIN users u ON u.id = m.sender_id
    WHERE m.conversation_id = ${conv} AND ${isActiveParticipant(conv, viewerId)} ${range}
    ORDER BY m.seq ${order} LIMIT ${page.limit + 1}`;
}

/**
 * One page of messages in ONE round trip (a read-only batch): the conversation as the viewer sees it
 * (membership and read markers), whether the cursor belongs to it, and the page. Newest first by
 * default; with `after`, the oldest messages after the cursor, oldest first (catching up).
 */
export async function listMessages(
  db: Database,
  conversationId: string,
  viewerId: string,
  page: PageQuery,
): Promise<MessagePage> {
  const conv = conversationRef(conversationId);
  const cursor = page.after ?? page.before;
  const [view, cursorRows, pageRows] = await batchRows(db, [
    conversationViewSql(viewerId, sql`p.conversation_id = ${conv}`, 1),
    sql`SELECT EXISTS (SELECT 1 FROM messages WHERE id = ${cursor ?? ''} AND conversation_id = ${conv}) AS found`,
    messagesPageSql(conversationId, viewerId, page),
  ]);
  const conversation = view?.[0] as ConversationViewRow | undefined;
  if (!conversation) throw AppError.notFound('conversation');
  if (cursor && !cursorRows?.[0]?.found) {
    throw AppError.validation({ [page.after ? 'after' : 'before']: ['is not a message of this conversation'] });
  }
  const participants = parseParticipants(conversation.participants);
  const rows = (pageRows ?? []) as unknown as MessageViewRow[];
  return {
    messages: rows.slice(0, page.limit).map((r) => toMessage(r, participants)),
    order: page.after ? 'asc' : 'desc',
    hasMore: rows.length > page.limit,
  };
}

/** Recomputes unread counts from the read markers (idempotent; O(unread messages) per member). */
function recountUnread(conversation: ConversationRef, filter: SQL): SQL {
  const unread = sql`FROM messages m WHERE m.conversation_id = conversation_participants.conversation_id
    AND m.seq > conversation_participants.last_read_seq AND m.sender_id <> conversation_participants.user_id
    AND m.deleted_at IS NULL`;
  return sql`UPDATE conversation_participants SET unread_count = (SELECT count(*) ${unread}),
      unread_since = (SELECT MIN(m.created_at) ${unread})
    WHERE conversation_id = ${conversation} AND left_at IS NULL AND ${filter}`;
}

export interface ReadOutcome {
  conversation: ConversationViewRow;
  memberIds: string[];
  username: string;
}

/** Moves the viewer's read marker forward to `upTo` (never backwards) and recounts their unread messages. */
export async function markRead(
  db: Database,
  conversationId: string,
  viewerId: string,
  upTo: string,
): Promise<ReadOutcome> {
  const conv = conversationRef(conversationId);
  const target = sql`(SELECT seq FROM messages WHERE id = ${upTo} AND conversation_id = ${conv})`;
  const [moved, , , view, members, me] = await batchRows(db, [
    sql`UPDATE conversation_participants SET last_read_seq = MAX(last_read_seq, ${target})
      WHERE conversation_id = ${conv} AND user_id = ${viewerId} AND left_at IS NULL AND ${target} IS NOT NULL
      RETURNING last_read_seq`,
    recountUnread(conv, sql`user_id = ${viewerId} AND ${target} IS NOT NULL`),
    sql`UPDATE users SET inbox_version = inbox_version + 1 WHERE id = ${viewerId} AND ${target} IS NOT NULL
      AND ${isActiveParticipant(conv, viewerId)}`,
    conversationViewSql(viewerId, sql`p.conversation_id = ${conv}`, 1),
    memberIdsSql(conv),
    sql`SELECT username FROM users WHERE id = ${viewerId}`,
  ]);
  const conversation = view?.[0] as ConversationViewRow | undefined;
  if (!conversation) throw AppError.notFound('conversation');
  if (!moved?.length) throw AppError.validation({ upTo: ['is not a message of this conversation'] });
  return { conversation, memberIds: ids(members ?? []), username: String(me?.[0]?.username ?? '') };
}

export interface DeleteOutcome {
  deleted: boolean;
  memberIds: string[];
}

/**
 * The sender deletes a message: the body goes, the row stays as a tombstone so replies and cursors
 * stay coherent. The follow-ups (preview, unread recount, inbox versions) are idempotent.
 */
export async function deleteMessage(
  db: Database,
  conversationId: string,
  viewerId: string,
  messageId: string,
  now: Date,
): Promise<DeleteOutcome> {
  const conv = conversationRef(conversationId);
  const tombstone = sql`EXISTS (SELECT 1 FROM messages WHERE id = ${messageId} AND conversation_id = ${conv}
    AND sender_id = ${viewerId} AND deleted_at IS NOT NULL)`;
  const [deleted, , , , state, members] = await batchRows(db, [
    sql`UPDATE messages SET body = NULL, deleted_at = ${now.getTime()}
      WHERE id = ${messageId} AND conversation_id = ${conv} AND sender_id = ${viewerId} AND deleted_at IS NULL
        AND ${isActiveParticipant(conv, viewerId)}
      RETURNING seq`,
    sql`UPDATE conversations SET last_message_preview = NULL WHERE id = ${conv} AND last_message_id = ${messageId}
      AND ${tombstone}`,
    recountUnread(
      conv,
      sql`last_read_seq < (SELECT seq FROM messages WHERE id = ${messageId}) AND user_id <> ${viewerId} AND ${tombstone}`,
    ),
    bumpInboxes(conv, tombstone),
    sql`SELECT ${isActiveParticipant(conv, viewerId)} AS member,
      (SELECT sender_id FROM messages WHERE id = ${messageId} AND conversation_id = ${conv}) AS sender_id`,
    memberIdsSql(conv),
  ]);
  const [s] = (state ?? []) as Array<{ member: number; sender_id: string | null }>;
  if (!s?.member || !s.sender_id) throw AppError.notFound('message');
  if (s.sender_id !== viewerId) throw AppError.forbidden('message');
  return { deleted: (deleted?.length ?? 0) > 0, memberIds: ids(members ?? []) };
}

export interface RemoveOutcome {
  /** Whether this call tombstoned it (false: already deleted). */
  removed: boolean;
  conversationId: string;
  memberIds: string[];
}

/**
 * A moderator removes a message: the same tombstone and follow-ups as the sender's delete, for any
 * message. `before` (e.g. the audit row, guarded on the message not being deleted yet) runs first in
 * the same batch. Unknown message: 404.
 */
export async function removeMessage(
  db: Database,
  messageId: string,
  now: Date,
  before: RawStatement[] = [],
): Promise<RemoveOutcome> {
  const conv: ConversationRef = sql`(SELECT conversation_id FROM messages WHERE id = ${messageId})`;
  const tombstone = sql`EXISTS (SELECT 1 FROM messages WHERE id = ${messageId} AND deleted_at IS NOT NULL)`;
  const results = await batchRows(db, [
    ...before,
    sql`UPDATE messages SET body = NULL, deleted_at = ${now.getTime()}
      WHERE id = ${messageId} AND deleted_at IS NULL RETURNING seq`,
    sql`UPDATE conversations SET last_message_preview = NULL WHERE id = ${conv} AND last_message_id = ${messageId}
      AND ${tombstone}`,
    recountUnread(
      conv,
      sql`last_read_seq < (SELECT seq FROM messages WHERE id = ${messageId})
        AND user_id <> (SELECT sender_id FROM messages WHERE id = ${messageId}) AND ${tombstone}`,
    ),
    bumpInboxes(conv, tombstone),
    sql`SELECT conversation_id FROM messages WHERE id = ${messageId}`,
    memberIdsSql(conv),
  ]);
  const [removed, , , , found, members] = results.slice(before.length);
  const conversationId = found?.[0]?.conversation_id as string | undefined;
  if (!conversationId) throw AppError.notFound('message');
  return { removed: (removed?.length ?? 0) > 0, conversationId, memberIds: ids(members ?? []) };
}

export interface ReportOutcome {
  created: boolean;
  report: { id: string; status: string; createdAt: string };
}

/** Files a report on someone else's message (one per reporter and message), keeping the body as reported. */
export async function reportMessage(
  db: Database,
  conversationId: string,
  viewerId: string,
  messageId: string,
  reason: string | null,
  now: Date,
  extra: RawStatement[] = [],
): Promise<ReportOutcome> {
  const conv = conversationRef(conversationId);
  const id = newId('rpt');
  const results = await batchRows(db, [
    ...extra,
    sql`INSERT INTO message_reports (id, message_seq, conversation_id, reporter_id, sender_id, body_snapshot, reason, status, created_at)
      SELECT ${id}, m.seq, m.conversation_id, ${viewerId}, m.sender_id, m.body, ${reason}, 'open', ${now.getTime()}
      FROM messages m WHERE m.id = ${messageId} AND m.conversation_id = ${conv} AND m.sender_id <> ${viewerId}
        AND ${isActiveParticipant(conv, viewerId)}
      ON CONFLICT DO NOTHING`,
    sql`SELECT ${isActiveParticipant(conv, viewerId)} AS member,
      (SELECT sender_id FROM messages WHERE id = ${messageId} AND conversation_id = ${conv}) AS sender_id`,
    sql`SELECT r.id, r.status, r.created_at FROM message_reports r
      WHERE r.message_seq = (SELECT seq FROM messages WHERE id = ${messageId}) AND r.reporter_id = ${viewerId}`,
  ]);
  const [state, report] = results.slice(-2);
  const [s] = (state ?? []) as Array<{ member: number; sender_id: string | null }>;
  if (!s?.member || !s.sender_id) throw AppError.notFound('message');
  if (s.sender_id === viewerId) throw AppError.validation({ message: ["can't report your own message"] });
  const [r] = (report ?? []) as Array<{ id: string; status: string; created_at: number }>;
  if (!r) throw new Error('report missing after insert');
  return {
    created: r.id === id,
    report: { id: r.id, status: r.status, createdAt: new Date(r.created_at).toISOString() },
  };
}
