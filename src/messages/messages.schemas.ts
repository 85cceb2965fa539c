import { z } from '@hono/zod-openapi';
import { Profile } from '../profiles/profiles.schemas';

const BLANK = "can't be blank";
export const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;

const idParam = (name: string, example: string) =>
  z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name, in: 'path' }, example });

export const ConversationIdParam = z.object({ id: idParam('id', 'cnv_Qm9sa2xvcmUgaXMgbmljZQ') });
export const MessageIdParams = ConversationIdParam.extend({ messageId: idParam('messageId', 'msg_3kFhY2Vz') });

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
  .openapi({ description: 'Idempotency key: a retry with the same one returns the first message.' });

/** Length is checked against MESSAGE_MAX_BODY_CHARS in the route (it is configuration). */
const messageBody = z
  .string({ error: BLANK })
  .refine((v) => v.trim().length > 0, BLANK)
  .openapi({ example: 'Loved your last piece!' });

export const NewConversationBody = z
  .object({
    participants: z
      .array(z.string().trim().min(1, BLANK).max(40))
      .min(1, BLANK)
      .openapi({ description: 'Usernames besides yourself: one for a 1:1, more for a group.', example: ['jake'] }),
    title: z.string().trim().max(100, 'is too long (maximum is 100 characters)').nullable().optional(),
    message: messageBody.optional().openapi({ description: 'An optional first message.' }),
    clientId,
  })
  .openapi('NewConversationRequest');

export const NewMessageBody = z.object({ body: messageBody, clientId }).openapi('NewMessageRequest');

export const ReadBody = z
  .object({ upTo: z.string({ error: BLANK }).min(1, BLANK).max(100).openapi({ description: 'A message id.' }) })
  .openapi('ReadMarkerRequest');

export const TitleBody = z
  .object({ title: z.string().trim().max(100, 'is too long (maximum is 100 characters)').nullable() })
  .openapi('ConversationTitleRequest');

export const ReportBody = z
  .object({ reason: z.string().trim().max(500, 'is too long (maximum is 500 characters)').optional() })
  .openapi('MessageReportRequest');

const DmPolicySchema = z.enum(['everyone', 'following', 'nobody']).openapi({
  description: 'Who may start a conversation with you: everyone, only people you follow, or nobody.',
});

export const MessagingSettingsBody = z
  .object({ messaging: z.object({ dmPolicy: DmPolicySchema }) })
  .openapi('MessagingSettingsRequest');

export const MessagingSettingsResponse = z
  .object({ messaging: z.object({ dmPolicy: DmPolicySchema }) })
  .openapi('MessagingSettingsResponse');

const MessageSender = z.object({ username: z.string(), bio: z.string().nullable(), image: z.string().nullable() });

const Message = z
  .object({
    id: z.string(),
    conversationId: z.string(),
    sender: MessageSender.nullable(),
    body: z.string().nullable().openapi({ description: 'null once deleted (a tombstone).' }),
    deleted: z.boolean(),
    clientId: z.string(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    deletedAt: z.string().nullable(),
    readBy: z
      .array(z.string())
      .openapi({ description: 'Usernames of the other participants whose read marker reached this message.' }),
  })
  .openapi('Message');

const Conversation = z
  .object({
    id: z.string(),
    kind: z.enum(['direct', 'group']),
    title: z.string().nullable(),
    participants: z.array(Profile),
    lastMessage: z
      .object({ id: z.string(), preview: z.string().nullable(), sender: z.string().nullable(), deleted: z.boolean() })
      .nullable(),
    unreadCount: z.number().int(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
    cursor: z.string().openapi({ description: 'Pass as `before` to list the conversations after this one.' }),
  })
  .openapi('Conversation');

export const ConversationResponse = z
  .object({ conversation: Conversation, message: Message.optional() })
  .openapi('ConversationResponse');
export const ConversationsResponse = z
  .object({ conversations: z.array(Conversation), nextBefore: z.string().nullable() })
  .openapi('ConversationsResponse');
export const MessageResponse = z.object({ message: Message }).openapi('MessageResponse');
export const MessagesResponse = z
  .object({ messages: z.array(Message), order: z.enum(['asc', 'desc']), hasMore: z.boolean() })
  .openapi('MessagesResponse');
export const ProfilesResponse = z.object({ profiles: z.array(Profile) }).openapi('ProfilesResponse');
export const BlockResponse = z.object({ profile: Profile.extend({ blocked: z.boolean() }) }).openapi('BlockResponse');
export const ReportResponse = z
  .object({ report: z.object({ id: z.string(), status: z.string(), createdAt: z.string() }) })
  .openapi('MessageReportResponse');

export const TicketResponse = z
  .object({
    ticket: z.string(),
    expiresAt: z.string().openapi({ format: 'date-time' }),
    url: z.string().openapi({ description: 'Path to open the WebSocket with (append to the API origin, ws/wss).' }),
  })
  .openapi('RealtimeTicketResponse');

export const RealtimeQuery = z.object({
  ticket: z
    .string()
    .max(200)
    .optional()
    .openapi({ param: { name: 'ticket', in: 'query' }, description: 'From POST /api/realtime/ticket; single use.' }),
});
