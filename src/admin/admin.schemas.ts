import { z } from '@hono/zod-openapi';
import { ROLES } from '../security/permissions';

const BLANK = "can't be blank";
const limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(100)
  .default(20)
  .openapi({ description: 'Page size, 1–100 (default 20).' });
const iso = (description: string) => z.string().openapi({ format: 'date-time', description });

const pathId = (name: string, description: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name, in: 'path' }, description });

export const UserIdParam = z.object({ id: pathId('id', 'The account id (`id` in the admin user list).') });

export const UserSessionParams = UserIdParam.extend({
  sessionId: pathId('sessionId', 'The session id (from the account’s session list).'),
});

const positiveId = (name: string, description: string) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'must be a positive integer')
    .transform(Number)
    .openapi({ param: { name, in: 'path' }, type: 'integer', example: 1, description });

export const CommentIdParam = z.object({ id: positiveId('id', 'The comment id.') });
export const ReportIdParam = z.object({ id: positiveId('id', 'The report id.') });

export const UserListQuery = z.object({
  q: z.string().trim().min(1).max(254).optional().openapi({ description: 'Prefix of the username or email' }),
  role: z.enum(ROLES).optional().openapi({ description: 'Only accounts with this role.' }),
  limit,
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}\.[A-Za-z0-9_-]{1,64}$/, 'is invalid')
    .optional()
    .openapi({ description: '`nextCursor` of the previous page' }),
});

const Ban = z
  .object({
    at: iso('When the ban was set.'),
    until: iso('When it ends; null: permanent.').nullable(),
    reason: z.string().nullable().openapi({ description: 'Why (shown to admins only).' }),
    active: z.boolean().openapi({ description: 'Whether the ban is in force now.' }),
  })
  .nullable()
  .openapi({ description: 'The latest ban, or null if never banned (or lifted).' });

const adminUserFields = {
  id: z.string().openapi({ description: 'Stable account id.' }),
  username: z.string().openapi({ description: 'Current username.' }),
  email: z.string().openapi({ description: 'Current email address.' }),
  role: z.enum(ROLES).openapi({ description: 'Stored role (ADMIN_USERNAMES may raise it to admin at sign-in).' }),
  bio: z.string().nullable().openapi({ description: 'Profile bio.' }),
  image: z.string().nullable().openapi({ description: 'Profile image URL.' }),
  emailVerified: z.boolean().openapi({ description: 'Whether the email address is confirmed.' }),
  createdAt: iso('When the account was registered.'),
  ban: Ban,
  deletedAt: iso('When the member deleted the account (it is anonymised); null otherwise.').nullable(),
};

const AdminUser = z.object(adminUserFields).openapi('AdminUser', { description: 'An account as admins see it.' });

export const UserListResponse = z
  .object({
    users: z.array(AdminUser).openapi({ description: 'Newest first.' }),
    usersCount: z.number().int().openapi({ description: 'How many accounts match, over all pages.' }),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last.' }),
  })
  .openapi('AdminUserList', { description: 'A page of accounts.' });

export const AdminUserResponse = z
  .object({
    user: z
      .object({
        ...adminUserFields,
        activeSessions: z.number().int().openapi({ description: 'Sessions currently signed in.' }),
        articlesCount: z.number().int().openapi({ description: 'Articles credited to the account, drafts included.' }),
      })
      .openapi({ description: 'The account with its activity counts.' }),
  })
  .openapi('AdminUserDetail', { description: 'One account.' });

export const SingleAdminUserResponse = z
  .object({ user: AdminUser })
  .openapi('AdminUserResponse', { description: 'The account after the change.' });

export const SetRoleBody = z
  .object({
    user: z
      .object({ role: z.enum(ROLES).openapi({ description: 'member < author < editor < admin.' }) })
      .openapi({ description: 'The new role.' }),
  })
  .openapi('SetRoleRequest', { description: 'Set an account’s role.', example: { user: { role: 'editor' } } });

export const BanBody = z
  .object({
    ban: z
      .object({
        reason: z
          .string({ error: BLANK })
          .trim()
          .min(1, BLANK)
          .max(1000)
          .openapi({ description: 'Why (kept with the account and in the audit log).' }),
        until: z.iso
          .datetime({ offset: true, error: 'must be an ISO 8601 date-time' })
          .nullable()
          .optional()
          .openapi({ description: 'Omit or null for a permanent ban' }),
      })
      .openapi({ description: 'The ban.' }),
  })
  .openapi('BanRequest', {
    description: 'Ban an account.',
    example: { ban: { reason: 'Spam', until: '2026-12-31T00:00:00.000Z' } },
  });

export const AdminSessionsResponse = z
  .object({
    sessions: z
      .array(
        z
          .object({
            id: z.string().openapi({ description: 'Session id.' }),
            createdAt: iso('When it signed in.'),
            lastSeenAt: iso('Last use (updated at most every 5 minutes).'),
            expiresAt: iso('When it ends unless refreshed.'),
            userAgent: z.string().nullable().openapi({ description: 'Client user agent at sign-in.' }),
            country: z.string().nullable().openapi({ description: 'Country at sign-in (Cloudflare).' }),
          })
          .openapi({ description: 'A session.' }),
      )
      .openapi({ description: 'Active sessions, newest first.' }),
  })
  .openapi('AdminSessions', { description: 'An account’s active sessions.' });

export const RevokedResponse = z
  .object({ revoked: z.number().int().openapi({ description: 'How many sessions were revoked.' }) })
  .openapi('AdminRevoked', { description: 'The outcome of revoking sessions.' });

export const ReportListQuery = z.object({
  status: z.enum(['open', 'resolved']).default('open').openapi({ description: 'Which reports (default open).' }),
  limit,
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}$/, 'is invalid')
    .transform(Number)
    .optional()
    .openapi({ description: '`nextCursor` of the previous page.' }),
});

export const ReportListResponse = z
  .object({
    reports: z
      .array(
        z
          .object({
            id: z.number().int().openapi({ description: 'Report id.' }),
            reason: z.string().openapi({ description: 'What the reporter wrote.' }),
            status: z.enum(['open', 'resolved']).openapi({ description: 'open or resolved.' }),
            resolution: z.string().nullable().openapi({ description: 'dismissed or actioned, once resolved.' }),
            reporter: z.string().nullable().openapi({ description: 'Username of the reporter.' }),
            createdAt: iso('When it was reported.'),
            resolvedAt: iso('When it was resolved.').nullable(),
            comment: z
              .object({
                id: z.number().int().openapi({ description: 'Comment id.' }),
                body: z.string().openapi({ description: 'Comment text.' }),
                hidden: z.boolean().openapi({ description: 'Whether moderators hid it.' }),
                author: z.string().openapi({ description: 'Username of its author.' }),
                article: z.string().openapi({ description: 'Slug of its article.' }),
              })
              .openapi({ description: 'The reported comment.' }),
          })
          .openapi({ description: 'A report.' }),
      )
      .openapi({ description: 'Oldest first.' }),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last.' }),
  })
  .openapi('ReportList', { description: 'A page of the comment reports queue.' });

export const HiddenResponse = z
  .object({
    comment: z
      .object({
        id: z.number().int().openapi({ description: 'Comment id.' }),
        hidden: z.boolean().openapi({ description: 'Whether it is hidden now.' }),
      })
      .openapi({ description: 'The comment.' }),
  })
  .openapi('CommentVisibility', { description: 'A comment’s visibility after the change.' });

export const ResolveBody = z
  .object({
    report: z
      .object({
        resolution: z
          .enum(['dismissed', 'actioned'])
          .openapi({ description: 'dismissed (nothing wrong) or actioned (e.g. the comment was hidden).' }),
      })
      .openapi({ description: 'The resolution.' }),
  })
  .openapi('ResolveReportRequest', {
    description: 'Resolve a report.',
    example: { report: { resolution: 'actioned' } },
  });

export const ResolveResponse = z
  .object({
    report: z
      .object({
        id: z.number().int().openapi({ description: 'Report id.' }),
        status: z.enum(['open', 'resolved']).openapi({ description: 'resolved.' }),
        resolution: z.string().nullable().openapi({ description: 'The resolution.' }),
        resolvedAt: iso('When it was resolved.').nullable(),
      })
      .openapi({ description: 'The report.' }),
  })
  .openapi('ResolvedReport', { description: 'The resolved report.' });

export const AuditQuery = z.object({
  limit,
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}$/, 'is invalid')
    .transform(Number)
    .optional()
    .openapi({ description: '`nextCursor` of the previous page.' }),
  targetType: z
    .string()
    .max(40)
    .optional()
    .openapi({ description: 'Only entries about this kind of target (user, comment, comment_report, webhook).' }),
  targetId: z.string().max(64).optional().openapi({ description: 'Only entries about this target id.' }),
});

export const AuditResponse = z
  .object({
    entries: z
      .array(
        z
          .object({
            id: z.number().int().openapi({ description: 'Entry id (increasing).' }),
            actor: z
              .object({
                id: z.string().openapi({ description: 'Account id of who acted.' }),
                username: z.string().nullable().openapi({ description: 'Their current username.' }),
              })
              .openapi({ description: 'Who acted.' }),
            action: z.string().openapi({ description: 'What was done, e.g. user.ban, comment.hide.' }),
            target: z
              .object({
                type: z.string().openapi({ description: 'Kind of target.' }),
                id: z.string().openapi({ description: 'Target id.' }),
              })
              .openapi({ description: 'What it was done to.' }),
            before: z.unknown().nullable().openapi({ description: 'The relevant state before (JSON), if any.' }),
            after: z.unknown().nullable().openapi({ description: 'The relevant state after (JSON), if any.' }),
            requestId: z.string().openapi({ description: 'The X-Request-Id of the request that did it.' }),
            createdAt: iso('When.'),
          })
          .openapi({ description: 'An audit entry.' }),
      )
      .openapi({ description: 'Newest first.' }),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last.' }),
  })
  .openapi('AuditLog', { description: 'A page of the audit log.' });

// ---------------------------------------------------------------------------------------------
// Message moderation.

export const MessageReportIdParam = z.object({ id: pathId('id', 'The message report id (`rpt_...`).') });
export const MessageIdParam = z.object({ id: pathId('id', 'The message id (`msg_...`).') });

export const MessageReportListQuery = z.object({
  status: z.enum(['open', 'resolved']).default('open').openapi({ description: 'Which reports (default open).' }),
  limit,
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}\.[A-Za-z0-9_-]{1,64}$/, 'is invalid')
    .optional()
    .openapi({ description: '`nextCursor` of the previous page.' }),
});

const MessageReport = z
  .object({
    id: z.string().openapi({ description: 'Report id.' }),
    reason: z.string().nullable().openapi({ description: 'What the reporter wrote (optional).' }),
    status: z.enum(['open', 'resolved']).openapi({ description: 'open or resolved.' }),
    resolution: z.string().nullable().openapi({ description: 'dismissed or actioned, once resolved.' }),
    reporter: z.string().nullable().openapi({ description: 'Username of the reporter (null: account deleted).' }),
    createdAt: iso('When it was reported.'),
    resolvedAt: iso('When it was resolved.').nullable(),
    message: z
      .object({
        id: z.string().openapi({ description: 'Message id.' }),
        conversationId: z.string().openapi({ description: 'Its conversation.' }),
        reportedBody: z.string().nullable().openapi({ description: 'The body as it was when reported.' }),
        removed: z
          .boolean()
          .openapi({ description: 'Whether the message is deleted now (by its sender or a moderator).' }),
        sender: z.string().nullable().openapi({ description: 'Username of its sender (null: account deleted).' }),
        sentAt: iso('When it was sent.'),
      })
      .openapi({ description: 'The reported message.' }),
  })
  .openapi({ description: 'A message report.' });

export const MessageReportListResponse = z
  .object({
    reports: z.array(MessageReport).openapi({ description: 'Oldest first.' }),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last.' }),
  })
  .openapi('MessageReportList', { description: 'A page of the message reports queue.' });

export const MessageResolveResponse = z
  .object({
    report: z
      .object({
        id: z.string().openapi({ description: 'Report id.' }),
        status: z.enum(['open', 'resolved']).openapi({ description: 'resolved.' }),
        resolution: z.string().nullable().openapi({ description: 'The resolution.' }),
        resolvedAt: iso('When it was resolved.').nullable(),
      })
      .openapi({ description: 'The report.' }),
  })
  .openapi('ResolvedMessageReport', { description: 'The resolved message report.' });

export const RemovedMessageResponse = z
  .object({
    message: z
      .object({
        id: z.string().openapi({ description: 'Message id.' }),
        conversationId: z.string().openapi({ description: 'Its conversation.' }),
        removed: z.boolean().openapi({ description: 'Always true: the message is a tombstone now.' }),
      })
      .openapi({ description: 'The message.' }),
  })
  .openapi('RemovedMessage', { description: 'The message after removal.' });
