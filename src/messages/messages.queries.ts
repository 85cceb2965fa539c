import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client';
import { users } from '../db/schema';

/*
 * SQL pieces shared by the messaging services. D1 has no interactive transactions, so every guard
 * (membership, blocks, policy, idempotency) is an expression evaluated inside the statement it guards.
 * A conversation is passed as SQL: a bound id, or a subquery (the 1:1 found by its pair key).
 */

export type ConversationRef = SQL;

export const conversationRef = (id: string): ConversationRef => sql`${id}`;

/** True while `userId` is an active participant (primary key seek). */
export function isActiveParticipant(conversation: ConversationRef, userId: string): SQL {
  return sql`EXISTS (SELECT 1 FROM conversation_participants WHERE conversation_id = ${conversation} AND user_id = ${userId} AND left_at IS NULL)`;
}

/** True when a block stands between `userId` and any other active participant, in either direction. */
export function blockedInConversation(conversation: ConversationRef, userId: string): SQL {
  return sql`(EXISTS (SELECT 1 FROM conversation_participants bp JOIN blocks b ON b.blocker_id = bp.user_id AND b.blocked_id = ${userId}
      WHERE bp.conversation_id = ${conversation} AND bp.left_at IS NULL)
    OR EXISTS (SELECT 1 FROM conversation_participants bp JOIN blocks b ON b.blocker_id = ${userId} AND b.blocked_id = bp.user_id
      WHERE bp.conversation_id = ${conversation} AND bp.left_at IS NULL))`;
}

const idList = (ids: string[]) =>
  sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  );

/** True when a block stands between `userId` and any of `others`, in either direction. */
export function blockedWithAny(userId: string, others: string[]): SQL {
  return sql`(EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ${userId} AND blocked_id IN (${idList(others)}))
    OR EXISTS (SELECT 1 FROM blocks WHERE blocked_id = ${userId} AND blocker_id IN (${idList(others)})))`;
}

/** True when one of `others` does not accept new conversations from `userId` (their `dmPolicy`). */
export function policyRefuses(userId: string, others: string[]): SQL {
  return sql`EXISTS (SELECT 1 FROM users pu WHERE pu.id IN (${idList(others)}) AND NOT (pu.dm_policy = 'everyone'
    OR (pu.dm_policy = 'following' AND EXISTS (SELECT 1 FROM follows WHERE follower_id = pu.id AND followee_id = ${userId}))))`;
}

export function isVerified(userId: string): SQL {
  return sql`(SELECT email_verified_at FROM users WHERE id = ${userId}) IS NOT NULL`;
}

/** Bumps the inbox version (the polling ETag) of every active participant. */
export function bumpInboxes(conversation: ConversationRef, condition: SQL = sql`1`): SQL {
  return sql`UPDATE users SET inbox_version = inbox_version + 1
    WHERE id IN (SELECT user_id FROM conversation_participants WHERE conversation_id = ${conversation} AND left_at IS NULL)
      AND ${condition}`;
}

/**
 * Bumps the inbox version of every member whose conversation list shows `userId`'s profile: the
 * active participants of each conversation `userId` is in or has left (a leaver can still be the
 * last sender), `userId` included. One set-based statement (conversation_participants_user_idx, then
 * primary keys); `condition` is evaluated once, so put it in the batch before the change it tests.
 */
export function bumpInboxesShowing(db: Database, userId: string, condition: SQL) {
  return db
    .update(users)
    .set({ inboxVersion: sql`${users.inboxVersion} + 1` })
    .where(
      sql`${users.id} IN (SELECT q.user_id FROM conversation_participants p
          JOIN conversation_participants q ON q.conversation_id = p.conversation_id AND q.left_at IS NULL
        WHERE p.user_id = ${userId}) AND ${condition}`,
    );
}

/** JSON array of the active participants' profiles and read markers, for one conversation row `c`. */
function participantsJson(viewerId: string): SQL {
  return sql`(SELECT json_group_array(json_object('username', u.username, 'bio', u.bio, 'image', u.image,
      'following', EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ${viewerId} AND f.followee_id = u.id),
      'lastReadSeq', q.last_read_seq))
    FROM conversation_participants q JOIN users u ON u.id = q.user_id
    WHERE q.conversation_id = c.id AND q.left_at IS NULL)`;
}

/** The row a conversation is presented from (see messages.present.ts). */
export interface ConversationViewRow {
  id: string;
  kind: 'direct' | 'group';
  title: string | null;
  last_message_id: string | null;
  last_message_seq: number | null;
  last_message_preview: string | null;
  last_sender: string | null;
  created_at: number;
  unread_count: number;
  last_read_seq: number;
  activity_at: number;
  participants: string;
}

/**
 * Conversations seen by `viewerId` (one row each), walking the partial index
 * conversation_participants_inbox_idx (user_id, activity_at, conversation_id) newest first.
 */
export function conversationViewSql(viewerId: string, filter: SQL, limit: number | SQL): SQL {
  return sql`SELECT c.id, c.kind, c.title, c.last_message_id, c.last_message_seq, c.last_message_preview,
      (SELECT username FROM users WHERE id = c.last_message_sender_id) AS last_sender,
      c.created_at, p.unread_count, p.last_read_seq, p.activity_at, ${participantsJson(viewerId)} AS participants
    FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
    WHERE p.user_id = ${viewerId} AND p.left_at IS NULL AND ${filter}
    ORDER BY p.activity_at DESC, p.conversation_id DESC
    LIMIT ${limit}`;
}

export interface MessageViewRow {
  seq: number;
  id: string;
  conversation_id: string;
  body: string | null;
  client_id: string;
  created_at: number;
  deleted_at: number | null;
  username: string | null;
  bio: string | null;
  image: string | null;
}

export const messageColumns = sql`m.seq, m.id, m.conversation_id, m.body, m.client_id, m.created_at, m.deleted_at,
  u.username, u.bio, u.image`;
