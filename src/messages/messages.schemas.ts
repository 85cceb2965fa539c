import { z } from '@hono/zod-openapi';
import { DM_POLICIES } from '../db/values';
import { Profile } from '../profiles/profiles.schemas';

const BLANK = "can't be blank";
export const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;

const idParam = (name: string, description: string, example: string) =>
  z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name, in: 'path', description }, example });

export const ConversationIdParam = z.object({
  id: idParam('id', "The conversation's `id` (random, e.g. `cnv_…`).", 'cnv_Qm9sa2xvcmUgaXMgbmljZQ'),
});
export const MessageIdParams = ConversationIdParam.extend({
  messageId: idParam('messageId', "The message's `id` (e.g. `msg_…`).", 'msg_3kFhY2VzbWVzc2FnZQ'),
});

const limitParam = z
  .string()
  .regex(/^\d{1,4}$/, `must be an integer between 1 and ${MAX_PAGE}`)
  .transform(Number)
  .pipe(
    z
      .number()
      .min(1, `must be an integer between 1 and ${MAX_PAGE}`)
      .max(MAX_PAGE, `must be an integer between 1 and ${MAX_PAGE}`),
  )
  .optional()
  .openapi({
    param: { name: 'limit', in: 'query' },
    type: 'integer',
    description: `Page size, 1–${MAX_PAGE} (default ${DEFAULT_PAGE}).`,
  });

const cursorParam = (name: string, description: string) =>
  z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name, in: 'query' }, description });

export const ConversationsQuery = z.object({
  before: cursorParam('before', 'A conversation `cursor` from the previous page: the next (older) page.'),
  limit: limitParam,
});

export const MessagesQuery = z.object({
  before: cursorParam('before', 'A message id: the page of messages before it (exclusive), newest first.'),
  after: cursorParam('after', 'A message id: the messages after it (exclusive), oldest first (catching up).'),
  limit: limitParam,
});

const clientId = z
  .string()
  .trim()
  .min(1, BLANK)
  .max(100, 'is too long (maximum is 100 characters)')
  .optional()
  .openapi({
    description:
      "Optional, the sender's own id for the message (1–100 characters): a retry with the same one returns the first message.",
  });

/** Length is checked against MESSAGE_MAX_BODY_CHARS in the route (it is configuration). */
const messageBody = z
  .string({ error: BLANK })
  .refine((v) => v.trim().length > 0, BLANK)
  .openapi({
    description: 'Text, not blank, at most MESSAGE_MAX_BODY_CHARS (4000 by default) characters.',
    example: 'Loved your last piece!',
  });

export const NewConversationBody = z
  .object({
    participants: z
      .array(z.string().trim().min(1, BLANK).max(40))
      .min(1, BLANK)
      .openapi({ description: 'Usernames besides yourself: one for a 1:1, more for a group.', example: ['jake'] }),
    title: z
      .string()
      .trim()
      .max(100, 'is too long (maximum is 100 characters)')
      .nullable()
      .optional()
      .openapi({ description: 'Group title (ignored for a 1:1), up to 100 characters.' }),
    message: messageBody.optional().openapi({ description: 'An optional first message.' }),
    clientId,
  })
  .openapi('NewConversationRequest', {
    description: 'Start a 1:1 (one other member) or a group (two or more).',
    example: { participants: ['jake'], message: 'Loved your last piece!' },
  });

export const NewMessageBody = z.object({ body: messageBody, clientId }).openapi('NewMessageRequest', {
  description: 'A new message.',
  example: { body: 'Loved your last piece!', clientId: '9f1c2d3e-client-1' },
});

export const ReadBody = z
  .object({
    upTo: z
      .string({ error: BLANK })
      .min(1, BLANK)
      .max(100)
      .openapi({ description: 'The id of the newest message you have read.' }),
  })
  .openapi('ReadMarkerRequest', { description: 'Move your read marker forward.' });

export const TitleBody = z
  .object({
    title: z
      .string()
      .trim()
      .max(100, 'is too long (maximum is 100 characters)')
      .nullable()
      .openapi({ description: 'New title, up to 100 characters; `null` or "" clears it.' }),
  })
  .openapi('ConversationTitleRequest', { description: "A group's new title." });

export const ReportBody = z
  .object({
    reason: z
      .string()
      .trim()
      .max(500, 'is too long (maximum is 500 characters)')
      .optional()
      .openapi({ description: 'Optional note for the moderators, up to 500 characters.' }),
  })
  .openapi('MessageReportRequest', { description: 'A report to the moderators (the body may be empty).' });

const DmPolicySchema = z.enum(DM_POLICIES).openapi({
  description: 'Who may start a conversation with you: everyone, only people you follow, or nobody.',
});

export const MessagingSettingsBody = z
  .object({
    messaging: z.object({ dmPolicy: DmPolicySchema }).openapi({ description: 'Messaging settings.' }),
  })
  .openapi('MessagingSettingsRequest', {
    description: 'Your messaging settings.',
    example: { messaging: { dmPolicy: 'following' } },
  });

export const MessagingSettingsResponse = z
  .object({
    messaging: z.object({ dmPolicy: DmPolicySchema }).openapi({ description: 'Messaging settings.' }),
  })
  .openapi('MessagingSettingsResponse', { description: 'Your messaging settings.' });

const MessageSender = z
  .object({
    username: z.string().openapi({ description: "The sender's username." }),
    bio: z.string().nullable().openapi({ description: '`null` when not set.' }),
    image: z.string().nullable().openapi({ description: 'Avatar URL; `null` when not set.' }),
  })
  .openapi({ description: "The sender's profile; `null` if the account is gone." });

const Message = z
  .object({
    id: z.string().openapi({ description: 'Message id (random); the cursor of `before` / `after`.' }),
    conversationId: z.string().openapi({ description: 'The conversation it belongs to.' }),
    sender: MessageSender.nullable(),
    body: z.string().nullable().openapi({ description: '`null` once deleted (a tombstone).' }),
    deleted: z.boolean().openapi({ description: 'Whether the sender deleted it.' }),
    clientId: z.string().openapi({ description: "The sender's `clientId` (the message id when none was sent)." }),
    createdAt: z.string().openapi({ format: 'date-time', description: 'When it was sent.' }),
    deletedAt: z.string().nullable().openapi({ description: 'When it was deleted; `null` otherwise.' }),
    readBy: z
      .array(z.string())
      .openapi({ description: 'Usernames of the other participants whose read marker reached this message.' }),
  })
  .openapi('Message', { description: 'One message of a conversation.' });

const Conversation = z
  .object({
    id: z.string().openapi({ description: 'Conversation id (random, unguessable).' }),
    kind: z.enum(['direct', 'group']).openapi({ description: '`direct` (1:1) or `group`.' }),
    title: z.string().nullable().openapi({ description: 'Group title; `null` for a 1:1 or an untitled group.' }),
    participants: z.array(Profile).openapi({ description: 'Current participants, you included.' }),
    lastMessage: z
      .object({
        id: z.string().openapi({ description: 'Id of the newest message.' }),
        preview: z.string().nullable().openapi({ description: 'Its first characters; `null` if it was deleted.' }),
        sender: z.string().nullable().openapi({ description: "Its sender's username." }),
        deleted: z.boolean().openapi({ description: 'Whether it was deleted.' }),
      })
      .nullable()
      .openapi({ description: 'The newest message; `null` before the first.' }),
    unreadCount: z.number().int().openapi({ description: 'Messages from others after your read marker.' }),
    createdAt: z.string().openapi({ format: 'date-time', description: 'When it was started.' }),
    updatedAt: z.string().openapi({ format: 'date-time', description: 'Last activity (the list is sorted by it).' }),
    cursor: z.string().openapi({ description: 'Pass as `before` to list the conversations after this one.' }),
  })
  .openapi('Conversation', { description: 'A conversation as you see it.' });

export const ConversationResponse = z
  .object({
    conversation: Conversation,
    message: Message.optional(),
  })
  .openapi('ConversationResponse', { description: 'One conversation.' });
export const ConversationsResponse = z
  .object({
    conversations: z.array(Conversation).openapi({ description: 'Newest activity first.' }),
    nextBefore: z.string().nullable().openapi({ description: '`before` for the next page; `null` on the last.' }),
  })
  .openapi('ConversationsResponse', { description: 'A page of your conversations.' });
export const MessageResponse = z
  .object({ message: Message })
  .openapi('MessageResponse', { description: 'One message.' });
export const MessagesResponse = z
  .object({
    messages: z.array(Message).openapi({ description: 'The page, in `order`.' }),
    order: z
      .enum(['asc', 'desc'])
      .openapi({ description: '`desc` (newest first) by default and with `before`; `asc` with `after`.' }),
    hasMore: z.boolean().openapi({ description: 'Whether more messages lie beyond this page in that direction.' }),
  })
  .openapi('MessagesResponse', { description: 'A page of messages.' });
export const ProfilesResponse = z
  .object({ profiles: z.array(Profile).openapi({ description: 'Newest block first.' }) })
  .openapi('ProfilesResponse', { description: 'Profiles.' });
export const BlockResponse = z
  .object({
    profile: Profile.extend({
      blocked: z.boolean().openapi({ description: 'Whether you block this member now.' }),
    }).openapi({ description: 'The profile, with your block state.' }),
  })
  .openapi('BlockResponse', { description: 'A profile and whether you block it.' });
export const ReportResponse = z
  .object({
    report: z
      .object({
        id: z.string().openapi({ description: 'Report id.' }),
        status: z.string().openapi({ description: '`open` until a moderator handles it.' }),
        createdAt: z.string().openapi({ format: 'date-time', description: 'When it was filed.' }),
      })
      .openapi({ description: 'Your report.' }),
  })
  .openapi('MessageReportResponse', { description: 'Your report on a message.' });

export const TicketResponse = z
  .object({
    ticket: z.string().openapi({ description: 'Single-use ticket, valid about 60 seconds.' }),
    expiresAt: z.string().openapi({ format: 'date-time', description: 'When the ticket stops working.' }),
    url: z.string().openapi({ description: 'Path to open the WebSocket with (append to the API origin, ws/wss).' }),
  })
  .openapi('RealtimeTicketResponse', { description: 'A WebSocket ticket.' });

export const RealtimeQuery = z.object({
  ticket: z
    .string()
    .max(200)
    .optional()
    .openapi({ param: { name: 'ticket', in: 'query' }, description: 'From POST /api/realtime/ticket; single use.' }),
});
