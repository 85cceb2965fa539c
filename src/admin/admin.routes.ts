import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { errors, jsonBody, jsonResponse, tokenAuth } from '../openapi';
import { createRouter } from '../router';
import type { AuditActor } from '../security/audit';
import { banInForce, type Permission } from '../security/permissions';
import { closeRealtimeSessions, notifyMembers } from '../messages/realtime.notify';
import { deleteSessionCopies } from '../sessions/sessions.kv';
import { requireAuth, requirePermission, type AuthEnv } from '../sessions/sessions.middleware';
import {
  AdminSessionsResponse,
  AdminUserResponse,
  AuditQuery,
  AuditResponse,
  BanBody,
  CommentIdParam,
  HiddenResponse,
  MessageIdParam,
  MessageReportIdParam,
  MessageReportListQuery,
  MessageReportListResponse,
  MessageResolveResponse,
  RemovedMessageResponse,
  ReportIdParam,
  ReportListQuery,
  ReportListResponse,
  ResolveBody,
  ResolveResponse,
  RevokedResponse,
  SetRoleBody,
  SingleAdminUserResponse,
  UserIdParam,
  UserListQuery,
  UserListResponse,
  UserSessionParams,
} from './admin.schemas';
import {
  banUser,
  getUser,
  listAudit,
  listMessageReports,
  removeReportedMessage,
  resolveMessageReport,
  listReports,
  listUsers,
  listUserSessions,
  resolveReport,
  revokeUserSessions,
  setCommentHidden,
  setRole,
  unbanUser,
  type AdminUserRow,
} from './admin.service';

/** Everything under /api/admin: each route names the one permission it needs. */
export const adminRouter = createRouter();
const tags = ['Admin'];

function guard(permission: Permission): [typeof requireAuth, ReturnType<typeof requirePermission>] {
  return [requireAuth, requirePermission(permission)];
}

function actorOf(c: Context<AppEnv & AuthEnv>): AuditActor {
  return { actorId: c.get('auth').userId, requestId: c.get('requestId') };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toAdminUser(user: AdminUserRow, now: Date) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    role: user.role,
    bio: user.bio,
    image: user.image,
    emailVerified: user.emailVerifiedAt !== null,
    createdAt: user.createdAt.toISOString(),
    ban: user.bannedAt
      ? {
          at: user.bannedAt.toISOString(),
          until: iso(user.bannedUntil),
          reason: user.banReason,
          active: banInForce(user, now),
        }
      : null,
    deletedAt: iso(user.deletedAt),
  };
}

const denied = { 401: errors[401], 403: errors[403] };

adminRouter.openapi(
  createRoute({
    method: 'get',
    path: '/admin/users',
    tags,
    summary: 'List and search accounts (newest first)',
    description: 'Permission `read:users`. `q` matches a username or email prefix. Keyset pagination with `cursor`.',
    security: tokenAuth,
    middleware: guard('read:users'),
    request: { query: UserListQuery },
    responses: { 200: jsonResponse(UserListResponse, 'A page of accounts'), ...denied, 422: errors[422] },
  }),
  async (c) => {
    const now = new Date();
    const page = await listUsers(c.get('db'), c.req.valid('query'));
    return c.json(
      { users: page.users.map((u) => toAdminUser(u, now)), usersCount: page.total, nextCursor: page.nextCursor },
      200,
    );
  },
);

adminRouter.openapi(
  createRoute({
    method: 'get',
    path: '/admin/users/{id}',
    tags,
    summary: 'One account',
    description: 'Permission `read:users`. With the number of active sessions and articles.',
    security: tokenAuth,
    middleware: guard('read:users'),
    request: { params: UserIdParam },
    responses: { 200: jsonResponse(AdminUserResponse, 'The account'), ...denied, 404: errors[404] },
  }),
  async (c) => {
    const now = new Date();
    const found = await getUser(c.get('db'), c.req.valid('param').id, now);
    return c.json(
      {
        user: {
          ...toAdminUser(found.user, now),
          activeSessions: found.activeSessions,
          articlesCount: found.articles,
        },
      },
      200,
    );
  },
);

adminRouter.openapi(
  createRoute({
    method: 'put',
    path: '/admin/users/{id}/role',
    tags,
    summary: "Set an account's role",
    description:
      "Permission `manage:roles`. Revokes the account's sessions so the new role applies at once (other locations: within ~60 s). Your own role and the last admin's cannot change.",
    security: tokenAuth,
    middleware: guard('manage:roles'),
    request: { params: UserIdParam, ...jsonBody(SetRoleBody) },
    responses: {
      200: jsonResponse(SingleAdminUserResponse, 'Updated'),
      ...denied,
      404: errors[404],
      409: errors[409],
      422: errors[422],
    },
  }),
  async (c) => {
    const now = new Date();
    const { user, revokedSessionIds } = await setRole(
      c.get('db'),
      actorOf(c),
      c.req.valid('param').id,
      c.req.valid('json').user.role,
      now,
    );
    await deleteSessionCopies(c.get('sessionsKv'), revokedSessionIds);
    c.executionCtx.waitUntil(closeRealtimeSessions(c.env, c.req.valid('param').id, revokedSessionIds));
    return c.json({ user: toAdminUser(user, now) }, 200);
  },
);

adminRouter.openapi(
  createRoute({
    method: 'post',
    path: '/admin/users/{id}/ban',
    tags,
    summary: 'Ban an account',
    description:
      'Permission `ban:user`. Blocks login and commenting, and revokes every session. `until` omitted or null: permanent.',
    security: tokenAuth,
    middleware: guard('ban:user'),
    request: { params: UserIdParam, ...jsonBody(BanBody) },
    responses: { 200: jsonResponse(SingleAdminUserResponse, 'Banned'), ...denied, 404: errors[404], 422: errors[422] },
  }),
  async (c) => {
    const now = new Date();
    const { reason, until } = c.req.valid('json').ban;
    const { user, revokedSessionIds } = await banUser(
      c.get('db'),
      actorOf(c),
      c.req.valid('param').id,
      { reason, until: until ? new Date(until) : null },
      now,
    );
    await deleteSessionCopies(c.get('sessionsKv'), revokedSessionIds);
    c.executionCtx.waitUntil(closeRealtimeSessions(c.env, c.req.valid('param').id, revokedSessionIds));
    return c.json({ user: toAdminUser(user, now) }, 200);
  },
);

adminRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/admin/users/{id}/ban',
    tags,
    summary: 'Lift a ban',
    description: 'Permission `ban:user`. The member can sign in again at once. Audited.',
    security: tokenAuth,
    middleware: guard('ban:user'),
    request: { params: UserIdParam },
    responses: { 200: jsonResponse(SingleAdminUserResponse, 'Unbanned'), ...denied, 404: errors[404] },
  }),
  async (c) => {
    const now = new Date();
    const user = await unbanUser(c.get('db'), actorOf(c), c.req.valid('param').id, now);
    return c.json({ user: toAdminUser(user, now) }, 200);
  },
);

adminRouter.openapi(
  createRoute({
    method: 'get',
    path: '/admin/users/{id}/sessions',
    tags,
    summary: "An account's active sessions",
    description: 'Permission `manage:sessions`. Newest first.',
    security: tokenAuth,
    middleware: guard('manage:sessions'),
    request: { params: UserIdParam },
    responses: { 200: jsonResponse(AdminSessionsResponse, 'Active sessions'), ...denied, 404: errors[404] },
  }),
  async (c) => {
    const rows = await listUserSessions(c.get('db'), c.req.valid('param').id, new Date());
    return c.json(
      {
        sessions: rows.map((s) => ({
          id: s.id,
          createdAt: s.createdAt.toISOString(),
          lastSeenAt: s.lastSeenAt.toISOString(),
          expiresAt: s.expiresAt.toISOString(),
          userAgent: s.userAgent,
          country: s.country,
        })),
      },
      200,
    );
  },
);

adminRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/admin/users/{id}/sessions/{sessionId}',
    tags,
    summary: "Revoke one of an account's sessions",
    description: 'Permission `manage:sessions`. Its KV copy is deleted (other locations: within ~60 s). Audited.',
    security: tokenAuth,
    middleware: guard('manage:sessions'),
    request: { params: UserSessionParams },
    responses: { 204: { description: 'Revoked' }, ...denied, 404: errors[404] },
  }),
  async (c) => {
    const { id, sessionId } = c.req.valid('param');
    const revoked = await revokeUserSessions(c.get('db'), actorOf(c), id, sessionId, new Date());
    await deleteSessionCopies(c.get('sessionsKv'), revoked);
    c.executionCtx.waitUntil(closeRealtimeSessions(c.env, id, revoked));
    return c.body(null, 204);
  },
);

adminRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/admin/users/{id}/sessions',
    tags,
    summary: "Revoke all of an account's sessions",
    description: 'Permission `manage:sessions`. Signs the account out everywhere. Audited.',
    security: tokenAuth,
    middleware: guard('manage:sessions'),
    request: { params: UserIdParam },
    responses: { 200: jsonResponse(RevokedResponse, 'How many were revoked'), ...denied },
  }),
  async (c) => {
    const revoked = await revokeUserSessions(c.get('db'), actorOf(c), c.req.valid('param').id, null, new Date());
    await deleteSessionCopies(c.get('sessionsKv'), revoked);
    c.executionCtx.waitUntil(closeRealtimeSessions(c.env, c.req.valid('param').id, revoked));
    return c.json({ revoked: revoked.length }, 200);
  },
);

adminRouter.openapi(
  createRoute({
    method: 'get',
    path: '/admin/reports',
    tags,
    summary: 'The comment reports queue',
    description: 'Permission `moderate:comment` (editors and admins). Oldest first; `cursor` is `nextCursor`.',
    security: tokenAuth,
    middleware: guard('moderate:comment'),
    request: { query: ReportListQuery },
    responses: { 200: jsonResponse(ReportListResponse, 'Reports'), ...denied, 422: errors[422] },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const page = await listReports(c.get('db'), { status: q.status, limit: q.limit, after: q.cursor });
    return c.json(
      {
        reports: page.reports.map((r) => ({
          id: r.id,
          reason: r.reason,
          status: r.status,
          resolution: r.resolution,
          reporter: r.reporter,
          createdAt: r.createdAt.toISOString(),
          resolvedAt: iso(r.resolvedAt),
          comment: { ...r.comment, hidden: Boolean(r.comment.hidden) },
        })),
        nextCursor: page.nextCursor,
      },
      200,
    );
  },
);

adminRouter.openapi(
  createRoute({
    method: 'post',
    path: '/admin/reports/{id}/resolve',
    tags,
    summary: 'Resolve a report',
    description: 'Permission `moderate:comment`. Resolving twice changes nothing. Audited.',
    security: tokenAuth,
    middleware: guard('moderate:comment'),
    request: { params: ReportIdParam, ...jsonBody(ResolveBody) },
    responses: { 200: jsonResponse(ResolveResponse, 'Resolved'), ...denied, 404: errors[404], 422: errors[422] },
  }),
  async (c) => {
    const r = await resolveReport(
      c.get('db'),
      actorOf(c),
      c.req.valid('param').id,
      c.req.valid('json').report,
      new Date(),
    );
    return c.json(
      { report: { id: r.id, status: r.status, resolution: r.resolution, resolvedAt: iso(r.resolvedAt) } },
      200,
    );
  },
);

for (const hidden of [true, false]) {
  adminRouter.openapi(
    createRoute({
      method: hidden ? 'post' : 'delete',
      path: '/admin/comments/{id}/hide',
      tags,
      summary: hidden ? 'Hide a comment (only its author still sees it)' : 'Show a hidden comment again',
      description: hidden
        ? 'Permission `moderate:comment`. The comment disappears from the list for everyone but its author. Audited.'
        : 'Permission `moderate:comment`. The comment is listed for everyone again. Audited.',
      security: tokenAuth,
      middleware: guard('moderate:comment'),
      request: { params: CommentIdParam },
      responses: { 200: jsonResponse(HiddenResponse, 'The comment'), ...denied, 404: errors[404], 422: errors[422] },
    }),
    async (c) => {
      const comment = await setCommentHidden(c.get('db'), actorOf(c), c.req.valid('param').id, hidden, new Date());
      return c.json({ comment }, 200);
    },
  );
}

adminRouter.openapi(
  createRoute({
    method: 'get',
    path: '/admin/message-reports',
    tags,
    summary: 'The message reports queue',
    description:
      'Permission `moderate:message` (editors and admins). Reports members filed on messages, with the body as reported. Oldest first; `cursor` is `nextCursor`.',
    security: tokenAuth,
    middleware: guard('moderate:message'),
    request: { query: MessageReportListQuery },
    responses: { 200: jsonResponse(MessageReportListResponse, 'Reports'), ...denied, 422: errors[422] },
  }),
  async (c) => {
    const page = await listMessageReports(c.get('db'), c.req.valid('query'));
    return c.json(
      {
        reports: page.reports.map((r) => ({
          id: r.id,
          reason: r.reason,
          status: r.status,
          resolution: r.resolution,
          reporter: r.reporter,
          createdAt: r.createdAt.toISOString(),
          resolvedAt: iso(r.resolvedAt),
          message: {
            id: r.message.id,
            conversationId: r.message.conversationId,
            reportedBody: r.message.reportedBody,
            removed: Boolean(r.message.removed),
            sender: r.message.sender,
            sentAt: r.message.sentAt.toISOString(),
          },
        })),
        nextCursor: page.nextCursor,
      },
      200,
    );
  },
);

adminRouter.openapi(
  createRoute({
    method: 'post',
    path: '/admin/message-reports/{id}/resolve',
    tags,
    summary: 'Resolve a message report',
    description: 'Permission `moderate:message`. Resolving twice changes nothing. Audited.',
    security: tokenAuth,
    middleware: guard('moderate:message'),
    request: { params: MessageReportIdParam, ...jsonBody(ResolveBody) },
    responses: {
      200: jsonResponse(MessageResolveResponse, 'Resolved'),
      ...denied,
      404: errors[404],
      422: errors[422],
    },
  }),
  async (c) => {
    const r = await resolveMessageReport(
      c.get('db'),
      actorOf(c),
      c.req.valid('param').id,
      c.req.valid('json').report,
      new Date(),
    );
    return c.json(
      { report: { id: r.id, status: r.status, resolution: r.resolution, resolvedAt: iso(r.resolvedAt) } },
      200,
    );
  },
);

adminRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/admin/messages/{id}',
    tags,
    summary: 'Remove a message',
    description:
      "Permission `moderate:message`. The same tombstone as the sender's delete: the body goes for every participant, the conversation stays coherent (preview, unread counts), connected participants get `message.deleted`. Removing twice changes nothing. Audited.",
    security: tokenAuth,
    middleware: guard('moderate:message'),
    request: { params: MessageIdParam },
    responses: { 200: jsonResponse(RemovedMessageResponse, 'Removed'), ...denied, 404: errors[404] },
  }),
  async (c) => {
    const messageId = c.req.valid('param').id;
    const outcome = await removeReportedMessage(c.get('db'), actorOf(c), messageId, new Date());
    if (outcome.removed) {
      c.executionCtx.waitUntil(
        notifyMembers(c.env, outcome.memberIds, {
          type: 'message.deleted',
          conversationId: outcome.conversationId,
          messageId,
        }),
      );
    }
    return c.json({ message: { id: messageId, conversationId: outcome.conversationId, removed: true } }, 200);
  },
);

adminRouter.openapi(
  createRoute({
    method: 'get',
    path: '/admin/audit',
    tags,
    summary: 'The audit log, newest first',
    description: 'Permission `read:audit`. Filter by `targetType` and `targetId`; `cursor` is `nextCursor`.',
    security: tokenAuth,
    middleware: guard('read:audit'),
    request: { query: AuditQuery },
    responses: { 200: jsonResponse(AuditResponse, 'Entries'), ...denied, 422: errors[422] },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const page = await listAudit(c.get('db'), {
      limit: q.limit,
      before: q.cursor,
      targetType: q.targetType,
      targetId: q.targetId,
    });
    return c.json(
      {
        entries: page.entries.map((e) => ({
          id: e.id,
          actor: { id: e.actorId, username: e.actor },
          action: e.action,
          target: { type: e.targetType, id: e.targetId },
          before: e.before ?? null,
          after: e.after ?? null,
          requestId: e.requestId,
          createdAt: e.createdAt.toISOString(),
        })),
        nextCursor: page.nextCursor,
      },
      200,
    );
  },
);
