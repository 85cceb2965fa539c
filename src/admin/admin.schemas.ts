import { z } from '@hono/zod-openapi';
import { ROLES } from '../security/permissions';

const BLANK = "can't be blank";
const limit = z.coerce.number().int().min(1).max(100).default(20);

export const UserIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'usr_3kF...' }),
});

export const UserSessionParams = UserIdParam.extend({
  sessionId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'sessionId', in: 'path' } }),
});

const positiveId = (name: string) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'must be a positive integer')
    .transform(Number)
    .openapi({ param: { name, in: 'path' }, type: 'integer', example: 1 });

export const CommentIdParam = z.object({ id: positiveId('id') });
export const ReportIdParam = z.object({ id: positiveId('id') });

export const UserListQuery = z.object({
  q: z.string().trim().min(1).max(254).optional().openapi({ description: 'Prefix of the username or email' }),
  role: z.enum(ROLES).optional(),
  limit,
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}\.[A-Za-z0-9_-]{1,64}$/, 'is invalid')
    .optional()
    .openapi({ description: '`nextCursor` of the previous page' }),
});

const iso = z.string().openapi({ format: 'date-time' });

export const AdminUser = z
  .object({
    id: z.string(),
    username: z.string(),
    email: z.string(),
    role: z.enum(ROLES),
    bio: z.string().nullable(),
    image: z.string().nullable(),
    emailVerified: z.boolean(),
    createdAt: iso,
    ban: z.object({ at: iso, until: iso.nullable(), reason: z.string().nullable(), active: z.boolean() }).nullable(),
    deletedAt: iso.nullable(),
  })
  .openapi('AdminUser');

export const UserListResponse = z
  .object({ users: z.array(AdminUser), usersCount: z.number().int(), nextCursor: z.string().nullable() })
  .openapi('AdminUserList');

export const AdminUserResponse = z
  .object({ user: AdminUser.extend({ activeSessions: z.number().int(), articlesCount: z.number().int() }) })
  .openapi('AdminUserDetail');

export const SingleAdminUserResponse = z.object({ user: AdminUser }).openapi('AdminUserResponse');

export const SetRoleBody = z.object({ user: z.object({ role: z.enum(ROLES) }) }).openapi('SetRoleRequest');

export const BanBody = z
  .object({
    ban: z.object({
      reason: z.string({ error: BLANK }).trim().min(1, BLANK).max(1000),
      until: z.iso
        .datetime({ offset: true, error: 'must be an ISO 8601 date-time' })
        .nullable()
        .optional()
        .openapi({ description: 'Omit or null for a permanent ban' }),
    }),
  })
  .openapi('BanRequest');

export const AdminSessionsResponse = z
  .object({
    sessions: z.array(
      z.object({
        id: z.string(),
        createdAt: iso,
        lastSeenAt: iso,
        expiresAt: iso,
        userAgent: z.string().nullable(),
        country: z.string().nullable(),
      }),
    ),
  })
  .openapi('AdminSessions');

export const RevokedResponse = z.object({ revoked: z.number().int() }).openapi('AdminRevoked');

export const ReportListQuery = z.object({
  status: z.enum(['open', 'resolved']).default('open'),
  limit,
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}$/, 'is invalid')
    .transform(Number)
    .optional(),
});

export const ReportListResponse = z
  .object({
    reports: z.array(
      z.object({
        id: z.number().int(),
        reason: z.string(),
        status: z.enum(['open', 'resolved']),
        resolution: z.string().nullable(),
        reporter: z.string().nullable(),
        createdAt: iso,
        resolvedAt: iso.nullable(),
        comment: z.object({
          id: z.number().int(),
          body: z.string(),
          hidden: z.boolean(),
          author: z.string(),
          article: z.string(),
        }),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .openapi('ReportList');

export const HiddenResponse = z
  .object({ comment: z.object({ id: z.number().int(), hidden: z.boolean() }) })
  .openapi('CommentVisibility');

export const ResolveBody = z
  .object({ report: z.object({ resolution: z.enum(['dismissed', 'actioned']) }) })
  .openapi('ResolveReportRequest');

export const ResolveResponse = z
  .object({
    report: z.object({
      id: z.number().int(),
      status: z.enum(['open', 'resolved']),
      resolution: z.string().nullable(),
      resolvedAt: iso.nullable(),
    }),
  })
  .openapi('ResolvedReport');

export const AuditQuery = z.object({
  limit,
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}$/, 'is invalid')
    .transform(Number)
    .optional(),
  targetType: z.string().max(40).optional(),
  targetId: z.string().max(64).optional(),
});

export const AuditResponse = z
  .object({
    entries: z.array(
      z.object({
        id: z.number().int(),
        actor: z.object({ id: z.string(), username: z.string().nullable() }),
        action: z.string(),
        target: z.object({ type: z.string(), id: z.string() }),
        before: z.unknown().nullable(),
        after: z.unknown().nullable(),
        requestId: z.string(),
        createdAt: iso,
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .openapi('AuditLog');
