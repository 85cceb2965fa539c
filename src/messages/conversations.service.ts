import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client';
import { batchRows, rows, type RawStatement } from '../db/raw';
import { AppError } from '../errors';
import { newId } from '../lib/tokens';
import { assertWithinLimit, hitStatement, withinLimit, type WindowLimit } from '../security/rate-limit';
import { toMessage, type MessageJson } from './messages.present';
import {
  blockedWithAny,
  bumpInboxes,
  conversationRef,
  conversationViewSql,
  isActiveParticipant,
  isVerified,
  policyRefuses,
  type ConversationViewRow,
  type MessageViewRow,
} from './messages.queries';
import { cannotDeliver, memberIdsSql, sendStatements, sentMessageSql } from './messages.service';

/** New conversations one member may start per hour. */
const START_LIMIT: WindowLimit = { limit: 30, windowSeconds: 3600 };

export interface StartInput {
  creatorId: string;
  usernames: string[];
  title: string | null;
  message: { body: string; clientId?: string } | null;
}

export interface StartOutcome {
  created: boolean;
  conversation: ConversationViewRow;
  message: { created: boolean; json: MessageJson } | null;
  memberIds: string[];
}

/**
 * Starts a 1:1 (one other member) or a group (two or more). Two round trips: usernames → ids, then
 * one batch whose every write is guarded in SQL: the creator's email is verified, no block either
 * way with any invitee, every invitee's dmPolicy admits the creator, and the start rate limit. A 1:1
 * is keyed by its sorted pair of user ids under a unique index, so starting one that exists (even
 * concurrently) returns it; the creator (and the other member) rejoin it if they had left.
 */
export async function startConversation(
  db: Database,
  input: StartInput,
  sendLimit: WindowLimit,
  now: Date,
  /** Statements that must commit with the start or not at all (an Idempotency-Key claim). */
  extra: RawStatement[] = [],
): Promise<StartOutcome> {
  const me = input.creatorId;
  const wanted = [...new Set(input.usernames.map((u) => u.toLowerCase()))];
  const found = await rows<{ id: string; lname: string }>(
    db,
    sql`SELECT id, lower(username) AS lname FROM users WHERE lower(username) IN (${sql.join(
      wanted.map((u) => sql`lower(${u})`),
      sql`, `,
    )})`,
  );
  const missing = wanted.filter((u) => !found.some((f) => f.lname === u));
  if (missing.length) throw AppError.notFound('profile');
  const others = found.map((f) => f.id).filter((id) => id !== me);
  if (others.length !== found.length || others.length === 0) {
    throw AppError.validation({ participants: ["can't include yourself"] });
  }

  const kind = others.length === 1 ? 'direct' : 'group';
  const newConversationId = newId('cnv');
  const pairKey = kind === 'direct' ? [me, others[0]].sort().join(':') : null;
  const target: SQL =
    kind === 'direct'
      ? sql`(SELECT id FROM conversations WHERE pair_key = ${pairKey})`
      : conversationRef(newConversationId);
  const t = now.getTime();
  const guard = sql`(${isVerified(me)} AND NOT ${blockedWithAny(me, others)} AND NOT ${policyRefuses(me, others)})`;
  const exists = sql`EXISTS (SELECT 1 FROM conversations WHERE id = ${target})`;
  const everyone = sql.join(
    [me, ...others].map((id) => sql`${id}`),
    sql`, `,
  );
  const startKey = `conversation:${me}`;
  const send = input.message
    ? sendStatements(db, target, { senderId: me, ...input.message }, sendLimit, now, guard)
    : null;

  const results = await batchRows(db, [
    ...extra,
    hitStatement(db, startKey, START_LIMIT, now),
    sql`INSERT INTO conversations (id, kind, title, pair_key, created_by, last_activity_at, created_at)
      SELECT ${newConversationId}, ${kind}, ${kind === 'group' ? input.title : null}, ${pairKey}, ${me}, ${t}, ${t}
      WHERE ${guard} AND ${withinLimit(startKey, START_LIMIT, now)}
      ON CONFLICT DO NOTHING`,
    sql`INSERT INTO conversation_participants (conversation_id, user_id, joined_at, activity_at)
      SELECT ${target}, u.id, ${t}, ${t} FROM users u WHERE u.id IN (${everyone}) AND ${exists} AND ${guard}
      ON CONFLICT DO NOTHING`,
    sql`UPDATE conversation_participants SET left_at = NULL, joined_at = ${t}, activity_at = ${t}, unread_count = 0,
        unread_since = NULL, last_read_seq = COALESCE((SELECT last_message_seq FROM conversations WHERE id = ${target}), 0)
      WHERE conversation_id = ${target} AND left_at IS NOT NULL AND ${guard}`,
    bumpInboxes(target, guard),
    ...(send?.statements ?? []),
    sql`SELECT ${isVerified(me)} AS verified, ${blockedWithAny(me, others)} AS blocked,
      ${policyRefuses(me, others)} AS refused, ${target} AS conversation_id`,
    conversationViewSql(me, sql`p.conversation_id = ${target}`, 1),
    send ? sentMessageSql(target, me, send.clientId) : sql`SELECT 1 WHERE 0`,
    memberIdsSql(target),
  ]);
  const hit = results[extra.length]?.[0] as { hits: number; window_start: number } | undefined;
  const [state] = results.at(-4) as Array<{
    verified: number;
    blocked: number;
    refused: number;
    conversation_id: string | null;
  }>;
  const view = results.at(-3)?.[0] as ConversationViewRow | undefined;
  const sent = results.at(-2)?.[0] as MessageViewRow | undefined;
  if (!state?.verified) throw new AppError(403, { email: ['must be verified to start conversations'] });
  if (state.blocked || state.refused) throw cannotDeliver();
  if (!view) {
    assertWithinLimit(hit && { hits: hit.hits, windowStart: hit.window_start }, START_LIMIT, now);
    throw new Error('conversation missing after start');
  }
  if (send && !sent) {
    // The conversation exists; only the first message hit the send rate limit.
    throw AppError.tooManyRequests(60);
  }
  return {
    created: view.id === newConversationId,
    conversation: view,
    message: sent && send ? { created: sent.id === send.publicId, json: toMessage(sent) } : null,
    memberIds: (results.at(-1) ?? []).map((r) => r.user_id as string),
  };
}

export interface ConversationPage {
  rows: ConversationViewRow[];
  hasMore: boolean;
}

/** Parses a list cursor (`<activity ms>.<conversation id>`); null when malformed. */
export function parseConversationCursor(cursor: string): { at: number; id: string } | null {
  const match = /^(\d{1,15})\.(cnv_[A-Za-z0-9_-]{1,64})$/.exec(cursor);
  return match ? { at: Number(match[1]), id: match[2]! } : null;
}

/**
 * The statement listing a member's conversations (exported for the query-plan test). With
 * `unlessVersion` (the inbox version the client already has), it lists nothing when the inbox is
 * still at that version: the LIMIT is then 0, which SQLite checks before reading any row.
 */
export function conversationsPageSql(
  viewerId: string,
  before: { at: number; id: string } | null,
  limit: number,
  unlessVersion: number | null = null,
): SQL {
  const page = before ? sql`(p.activity_at, p.conversation_id) < (${before.at}, ${before.id})` : sql`1`;
  const rows =
    unlessVersion === null
      ? limit + 1
      : sql`CASE WHEN (${inboxVersionSql(viewerId)}) = ${unlessVersion} THEN 0 ELSE ${limit + 1} END`;
  return conversationViewSql(viewerId, page, rows);
}

/** The member's inbox version: what the polling ETag is made of. */
export function inboxVersionSql(viewerId: string): SQL {
  return sql`SELECT inbox_version FROM users WHERE id = ${viewerId}`;
}

/**
 * One round trip: the inbox version and the page, in one read-only batch. Given the version the
 * client already has (`unlessVersion`), the page is read only if the inbox moved since.
 */
export async function listConversations(
  db: Database,
  viewerId: string,
  before: { at: number; id: string } | null,
  limit: number,
  unlessVersion: number | null = null,
): Promise<ConversationPage & { version: number }> {
  const [version, page] = await batchRows(db, [
    inboxVersionSql(viewerId),
    conversationsPageSql(viewerId, before, limit, unlessVersion),
  ]);
  const list = (page ?? []) as unknown as ConversationViewRow[];
  return {
    version: Number(version?.[0]?.inbox_version ?? 0),
    rows: list.slice(0, limit),
    hasMore: list.length > limit,
  };
}

export async function getConversation(db: Database, conversationId: string, viewerId: string) {
  const [row] = await rows<ConversationViewRow>(
    db,
    conversationViewSql(viewerId, sql`p.conversation_id = ${conversationId}`, 1),
  );
  if (!row) throw AppError.notFound('conversation');
  return row;
}

/** Renames a group (any participant may). */
export async function renameConversation(
  db: Database,
  conversationId: string,
  viewerId: string,
  title: string | null,
): Promise<{ conversation: ConversationViewRow; memberIds: string[] }> {
  const conv = conversationRef(conversationId);
  const [renamed, , view, members] = await batchRows(db, [
    sql`UPDATE conversations SET title = ${title}
      WHERE id = ${conv} AND kind = 'group' AND ${isActiveParticipant(conv, viewerId)} RETURNING id`,
    bumpInboxes(
      conv,
      sql`EXISTS (SELECT 1 FROM conversations WHERE id = ${conv} AND kind = 'group') AND ${isActiveParticipant(conv, viewerId)}`,
    ),
    conversationViewSql(viewerId, sql`p.conversation_id = ${conv}`, 1),
    memberIdsSql(conv),
  ]);
  const conversation = view?.[0] as ConversationViewRow | undefined;
  if (!conversation) throw AppError.notFound('conversation');
  if (!renamed?.length) throw AppError.validation({ title: ['can only be set on a group conversation'] });
  return { conversation, memberIds: (members ?? []).map((r) => r.user_id as string) };
}

/** Leaves a conversation: history stays for the others; the leaver stops receiving (and gets 404 after). */
export async function leaveConversation(
  db: Database,
  conversationId: string,
  viewerId: string,
  now: Date,
): Promise<{ memberIds: string[] }> {
  const conv = conversationRef(conversationId);
  const [left, , members] = await batchRows(db, [
    sql`UPDATE conversation_participants SET left_at = ${now.getTime()}, unread_count = 0, unread_since = NULL
      WHERE conversation_id = ${conv} AND user_id = ${viewerId} AND left_at IS NULL RETURNING user_id`,
    sql`UPDATE users SET inbox_version = inbox_version + 1
      WHERE (id = ${viewerId} OR id IN (SELECT user_id FROM conversation_participants WHERE conversation_id = ${conv} AND left_at IS NULL))
        AND EXISTS (SELECT 1 FROM conversation_participants WHERE conversation_id = ${conv} AND user_id = ${viewerId} AND left_at = ${now.getTime()})`,
    memberIdsSql(conv),
  ]);
  if (!left?.length) throw AppError.notFound('conversation');
  return { memberIds: [viewerId, ...(members ?? []).map((r) => r.user_id as string)] };
}
