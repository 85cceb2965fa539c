import type { ConversationViewRow, MessageViewRow } from './messages.queries';

export interface ParticipantView {
  username: string;
  bio: string | null;
  image: string | null;
  following: boolean;
  lastReadSeq: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function parseParticipants(json: string): ParticipantView[] {
  const list = JSON.parse(json) as Array<Omit<ParticipantView, 'following'> & { following: number | boolean }>;
  return list
    .map((p) => ({ ...p, following: Boolean(p.following) }))
    .sort((a, b) => a.username.localeCompare(b.username));
}

/** Opaque list cursor of a conversation: its activity time and id. */
function conversationCursor(row: { activity_at: number; id: string }): string {
  return `${row.activity_at}.${row.id}`;
}

export function toConversation(row: ConversationViewRow) {
  const participants = parseParticipants(row.participants);
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    participants: participants.map(({ username, bio, image, following }) => ({ username, bio, image, following })),
    lastMessage: row.last_message_id
      ? {
          id: row.last_message_id,
          preview: row.last_message_preview,
          sender: row.last_sender,
          deleted: row.last_message_preview === null,
        }
      : null,
    unreadCount: row.unread_count,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.activity_at),
    cursor: conversationCursor(row),
  };
}

/** A message; `readBy` lists the other active participants whose read marker has reached it. */
export function toMessage(row: MessageViewRow, participants: ParticipantView[] = []) {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    sender: row.username === null ? null : { username: row.username, bio: row.bio, image: row.image },
    body: row.body,
    deleted: row.deleted_at !== null,
    clientId: row.client_id,
    createdAt: iso(row.created_at),
    deletedAt: row.deleted_at === null ? null : iso(row.deleted_at),
    readBy: participants.filter((p) => p.username !== row.username && p.lastReadSeq >= row.seq).map((p) => p.username),
  };
}

export type MessageJson = ReturnType<typeof toMessage>;
