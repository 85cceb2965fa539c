import { and, count, desc, eq, gt, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client';
import { articles, auditLog, commentReports, comments, messageReports, messages, sessions, users } from '../db/schema';
import { AppError } from '../errors';
import { removeMessage, type RemoveOutcome } from '../messages/messages.service';
import { auditStatement, type AuditActor } from '../security/audit';
import { bannedAt, isAdmin, type Role } from '../security/permissions';

// ---------------------------------------------------------------------------------------------
// Cursors: opaque to clients, `<createdAt ms>.<id>` (ids never contain a dot).

function encodeCursor(createdAt: Date, id: string | number): string {
  return `${createdAt.getTime()}.${id}`;
}

function decodeCursor(cursor: string): { at: number; id: string } {
  const dot = cursor.indexOf('.');
  return { at: Number(cursor.slice(0, dot)), id: cursor.slice(dot + 1) };
}

// ---------------------------------------------------------------------------------------------
// Users.

const userColumns = {
  id: users.id,
  username: users.username,
  email: users.email,
  role: users.role,
  bio: users.bio,
  image: users.image,
  emailVerifiedAt: users.emailVerifiedAt,
  createdAt: users.createdAt,
  bannedAt: users.bannedAt,
  bannedUntil: users.bannedUntil,
  banReason: users.banReason,
  deletedAt: users.deletedAt,
};

export type AdminUserRow = {
  id: string;
  username: string;
  email: string;
  role: Role;
  bio: string | null;
  image: string | null;
  emailVerifiedAt: Date | null;
  createdAt: Date;
  bannedAt: Date | null;
  bannedUntil: Date | null;
  banReason: string | null;
  deletedAt: Date | null;
};

export interface UserListQuery {
  q?: string;
  role?: Role;
  limit: number;
  cursor?: string;
}

/** Prefix match on username or email, as index ranges on the lower(...) unique indexes. */
function prefixMatch(column: SQL, prefix: string): SQL {
  return sql`(${column} >= lower(${prefix}) AND ${column} < lower(${prefix}) || char(1114111))`;
}

/**
 * Newest accounts first, keyset-paginated on (created_at, id), with the total number of matches: one
 * round trip (page and count in one batch).
 */
export async function listUsers(db: Database, query: UserListQuery) {
  const [rows, total] = await db.batch([usersPageQuery(db, query), usersCountQuery(db, query)]);
  const more = rows.length > query.limit;
  const items = more ? rows.slice(0, query.limit) : rows;
  const last = items[items.length - 1];
  return {
    users: items as AdminUserRow[],
    total: total[0]?.n ?? 0,
    nextCursor: more && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

function userFilters(query: Pick<UserListQuery, 'q' | 'role'>): SQL[] {
  const filters: SQL[] = [];
  if (query.q) {
    filters.push(
      or(prefixMatch(sql`lower(${users.username})`, query.q), prefixMatch(sql`lower(${users.email})`, query.q))!,
    );
  }
  if (query.role) filters.push(eq(users.role, query.role));
  return filters;
}

/** A page of accounts (one more than asked, to know whether another page follows). */
export function usersPageQuery(db: Database, query: UserListQuery) {
  const page = userFilters(query);
  if (query.cursor) {
    const c = decodeCursor(query.cursor);
    page.push(or(lt(users.createdAt, new Date(c.at)), and(eq(users.createdAt, new Date(c.at)), lt(users.id, c.id)))!);
  }
  return db
    .select(userColumns)
    .from(users)
    .where(page.length ? and(...page) : undefined)
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(query.limit + 1);
}

export function usersCountQuery(db: Database, query: Pick<UserListQuery, 'q' | 'role'>) {
  const filters = userFilters(query);
  return db
    .select({ n: count() })
    .from(users)
    .where(filters.length ? and(...filters) : undefined);
}

/** One account with its number of active sessions and content, in one round trip. */
export async function getUser(db: Database, id: string, now: Date) {
  const [found, active, written] = await db.batch([
    db.select(userColumns).from(users).where(eq(users.id, id)).limit(1),
    db
      .select({ n: count() })
      .from(sessions)
      .where(and(eq(sessions.userId, id), isNull(sessions.revokedAt), gt(sessions.expiresAt, now))),
    db.select({ n: count() }).from(articles).where(eq(articles.authorId, id)),
  ]);
  const user = found[0];
  if (!user) throw AppError.notFound('user');
  return { user: user as AdminUserRow, activeSessions: active[0]?.n ?? 0, articles: written[0]?.n ?? 0 };
}

const userSnapshot = sql`json_object('role', ${users.role}, 'bannedAt', ${users.bannedAt}, 'bannedUntil', ${users.bannedUntil}, 'banReason', ${users.banReason})`;

/** Revokes every active session of `userId` when `condition` holds on the account after the batch's change. */
function revokeSessionsIf(db: Database, userId: string, condition: SQL, now: Date) {
  return db
    .update(sessions)
    .set({ revokedAt: now })
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId} AND ${condition})`,
      ),
    )
    .returning({ id: sessions.id });
}

/** Reads the target for a checked admin action (existence and the rules that need a clear error). */
async function findTarget(db: Database, id: string) {
  const [user] = await db.select(userColumns).from(users).where(eq(users.id, id)).limit(1);
  if (!user || user.deletedAt) throw AppError.notFound('user');
  return user as AdminUserRow;
}

const lastAdminGuard = sql`(SELECT count(*) FROM ${users} WHERE ${users.role} = 'admin') > 1`;

/**
 * Sets an account's role and revokes its sessions (so the new role applies at once; KV copies are
 * deleted by the caller). The last admin cannot be demoted (guarded in SQL, not only read first).
 * Returns the revoked session ids.
 */
export async function setRole(
  db: Database,
  actor: AuditActor,
  id: string,
  role: Role,
  now: Date,
): Promise<{ user: AdminUserRow; revokedSessionIds: string[] }> {
  if (id === actor.actorId) throw AppError.validation({ role: ["can't change your own role"] });
  const target = await findTarget(db, id);
  if (target.role === role) return { user: target, revokedSessionIds: [] };
  const guard = and(
    eq(users.id, id),
    isNull(users.deletedAt),
    sql`${users.role} <> ${role}`,
    sql`(${users.role} <> 'admin' OR ${lastAdminGuard})`,
  )!;
  const [, updated, revoked] = await db.batch([
    auditStatement(
      db,
      actor,
      {
        action: 'user.role.set',
        targetType: 'user',
        targetId: id,
        from: users,
        where: guard,
        before: sql`json_object('role', ${users.role})`,
        after: { role },
      },
      now,
    ),
    db.update(users).set({ role, updatedAt: now }).where(guard).returning(userColumns),
    revokeSessionsIf(db, id, sql`${users.role} = ${role}`, now),
  ]);
  if (!updated[0]) throw AppError.conflict({ role: ['the last admin cannot be demoted'] });
  return { user: updated[0] as AdminUserRow, revokedSessionIds: revoked.map((r) => r.id) };
}

/**
 * Bans an account (until `until`, or for good when null): blocks login and commenting (the
 * `isBanned` SQL condition) and revokes every session. Admins cannot be banned (demote first).
 */
export async function banUser(
  db: Database,
  actor: AuditActor,
  id: string,
  input: { reason: string; until: Date | null },
  now: Date,
): Promise<{ user: AdminUserRow; revokedSessionIds: string[] }> {
  if (id === actor.actorId) throw AppError.validation({ user: ["can't ban yourself"] });
  if (input.until && input.until.getTime() <= now.getTime()) {
    throw AppError.validation({ until: ['must be in the future'] });
  }
  const target = await findTarget(db, id);
  if (isAdmin(target.role)) throw AppError.validation({ user: ["an admin can't be banned; change the role first"] });
  const guard = and(eq(users.id, id), isNull(users.deletedAt), sql`${users.role} <> 'admin'`)!;
  const [, updated, revoked] = await db.batch([
    auditStatement(
      db,
      actor,
      {
        action: 'user.ban',
        targetType: 'user',
        targetId: id,
        from: users,
        where: guard,
        before: userSnapshot,
        after: { bannedAt: now.getTime(), bannedUntil: input.until?.getTime() ?? null, banReason: input.reason },
      },
      now,
    ),
    db
      .update(users)
      .set({ bannedAt: now, bannedUntil: input.until, banReason: input.reason, updatedAt: now })
      .where(guard)
      .returning(userColumns),
    revokeSessionsIf(db, id, bannedAt(now), now),
  ]);
  if (!updated[0]) throw AppError.validation({ user: ["an admin can't be banned; change the role first"] });
  return { user: updated[0] as AdminUserRow, revokedSessionIds: revoked.map((r) => r.id) };
}

export async function unbanUser(db: Database, actor: AuditActor, id: string, now: Date): Promise<AdminUserRow> {
  const target = await findTarget(db, id);
  if (!target.bannedAt) return target;
  const guard = and(eq(users.id, id), sql`${users.bannedAt} IS NOT NULL`)!;
  const [, updated] = await db.batch([
    auditStatement(
      db,
      actor,
      {
        action: 'user.unban',
        targetType: 'user',
        targetId: id,
        from: users,
        where: guard,
        before: userSnapshot,
        after: { bannedAt: null, bannedUntil: null, banReason: null },
      },
      now,
    ),
    db
      .update(users)
      .set({ bannedAt: null, bannedUntil: null, banReason: null, updatedAt: now })
      .where(guard)
      .returning(userColumns),
  ]);
  return (updated[0] as AdminUserRow | undefined) ?? target;
}

// ---------------------------------------------------------------------------------------------
// A user's sessions.

export async function listUserSessions(db: Database, id: string, now: Date) {
  const [found, rows] = await db.batch([
    db.select({ id: users.id }).from(users).where(eq(users.id, id)).limit(1),
    db
      .select({
        id: sessions.id,
        createdAt: sessions.createdAt,
        lastSeenAt: sessions.lastSeenAt,
        expiresAt: sessions.expiresAt,
        userAgent: sessions.userAgent,
        country: sessions.country,
      })
      .from(sessions)
      .where(and(eq(sessions.userId, id), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
      .orderBy(desc(sessions.createdAt)),
  ]);
  if (!found[0]) throw AppError.notFound('user');
  return rows;
}

/** Revokes one session (`sessionId`) or all (`null`) of a user; returns the revoked ids (none: 404). */
export async function revokeUserSessions(
  db: Database,
  actor: AuditActor,
  userId: string,
  sessionId: string | null,
  now: Date,
): Promise<string[]> {
  const active = and(
    eq(sessions.userId, userId),
    isNull(sessions.revokedAt),
    sessionId ? eq(sessions.id, sessionId) : undefined,
  )!;
  const [, revoked] = await db.batch([
    auditStatement(
      db,
      actor,
      {
        action: sessionId ? 'session.revoke' : 'session.revoke_all',
        targetType: 'user',
        targetId: userId,
        from: users,
        where: and(eq(users.id, userId), sql`EXISTS (SELECT 1 FROM ${sessions} WHERE ${active})`)!,
        before: sql`json_object('sessions', (SELECT json_group_array(${sessions.id}) FROM ${sessions} WHERE ${active}))`,
        after: null,
      },
      now,
    ),
    db.update(sessions).set({ revokedAt: now }).where(active).returning({ id: sessions.id }),
  ]);
  if (sessionId && revoked.length === 0) throw AppError.notFound('session');
  return revoked.map((r) => r.id);
}

// ---------------------------------------------------------------------------------------------
// Moderation.

/** The reports queue, oldest open first by default (keyset on id), with the comment and who wrote it. */
export function reportsQuery(db: Database, query: { status: 'open' | 'resolved'; limit: number; after?: number }) {
  const reporters = sql`(SELECT ${users.username} FROM ${users} WHERE ${users.id} = ${commentReports.reporterId})`;
  return db
    .select({
      id: commentReports.id,
      reason: commentReports.reason,
      status: commentReports.status,
      resolution: commentReports.resolution,
      createdAt: commentReports.createdAt,
      resolvedAt: commentReports.resolvedAt,
      reporter: sql<string>`${reporters}`,
      comment: {
        id: comments.id,
        body: comments.body,
        hidden: sql<number>`${comments.hiddenAt} IS NOT NULL`,
        author: users.username,
        article: articles.slug,
      },
    })
    .from(commentReports)
    .innerJoin(comments, eq(comments.id, commentReports.commentId))
    .innerJoin(users, eq(users.id, comments.authorId))
    .innerJoin(articles, eq(articles.id, comments.articleId))
    .where(
      and(
        eq(commentReports.status, query.status),
        query.after !== undefined ? gt(commentReports.id, query.after) : undefined,
      ),
    )
    .orderBy(commentReports.id)
    .limit(query.limit + 1);
}

export async function listReports(db: Database, query: { status: 'open' | 'resolved'; limit: number; after?: number }) {
  const rows = await reportsQuery(db, query);
  const more = rows.length > query.limit;
  const items = more ? rows.slice(0, query.limit) : rows;
  return { reports: items, nextCursor: more ? String(items[items.length - 1]!.id) : null };
}

/** Hides (or shows again) a comment: hidden comments show only to their author. */
export async function setCommentHidden(
  db: Database,
  actor: AuditActor,
  commentId: number,
  hidden: boolean,
  now: Date,
): Promise<{ id: number; hidden: boolean }> {
  const guard = and(
    eq(comments.id, commentId),
    hidden ? isNull(comments.hiddenAt) : sql`${comments.hiddenAt} IS NOT NULL`,
  )!;
  const [, , found] = await db.batch([
    auditStatement(
      db,
      actor,
      {
        action: hidden ? 'comment.hide' : 'comment.unhide',
        targetType: 'comment',
        targetId: String(commentId),
        from: comments,
        where: guard,
        before: sql`json_object('hidden', json(CASE WHEN ${comments.hiddenAt} IS NULL THEN 'false' ELSE 'true' END))`,
        after: { hidden },
      },
      now,
    ),
    db
      .update(comments)
      .set({ hiddenAt: hidden ? now : null })
      .where(guard),
    db.select({ id: comments.id, hiddenAt: comments.hiddenAt }).from(comments).where(eq(comments.id, commentId)),
  ]);
  const row = found[0];
  if (!row) throw AppError.notFound('comment');
  return { id: row.id, hidden: row.hiddenAt !== null };
}

/** Resolves an open report with a resolution (`dismissed` or `actioned`) and an optional note. */
export async function resolveReport(
  db: Database,
  actor: AuditActor,
  reportId: number,
  input: { resolution: string },
  now: Date,
) {
  const guard = and(eq(commentReports.id, reportId), eq(commentReports.status, 'open'))!;
  const [, , found] = await db.batch([
    auditStatement(
      db,
      actor,
      {
        action: 'report.resolve',
        targetType: 'comment_report',
        targetId: String(reportId),
        from: commentReports,
        where: guard,
        before: sql`json_object('status', ${commentReports.status})`,
        after: { status: 'resolved', resolution: input.resolution },
      },
      now,
    ),
    db
      .update(commentReports)
      .set({ status: 'resolved', resolution: input.resolution, resolvedBy: actor.actorId, resolvedAt: now })
      .where(guard),
    db
      .select({
        id: commentReports.id,
        status: commentReports.status,
        resolution: commentReports.resolution,
        resolvedAt: commentReports.resolvedAt,
      })
      .from(commentReports)
      .where(eq(commentReports.id, reportId)),
  ]);
  if (!found[0]) throw AppError.notFound('report');
  return found[0];
}

// ---------------------------------------------------------------------------------------------
// Message moderation (reports filed by conversation participants).

export interface MessageReportQuery {
  status: 'open' | 'resolved';
  limit: number;
  cursor?: string;
}

/**
 * The message reports queue, oldest first, keyset on (created_at, id) over the (status, created_at)
 * index, with the message as reported (body snapshot) and as it is now (removed or not).
 */
export function messageReportsQuery(db: Database, query: MessageReportQuery) {
  const username = (id: SQL | typeof messageReports.reporterId) =>
    sql<string | null>`(SELECT ${users.username} FROM ${users} WHERE ${users.id} = ${id})`;
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  return db
    .select({
      id: messageReports.id,
      reason: messageReports.reason,
      status: messageReports.status,
      resolution: messageReports.resolution,
      createdAt: messageReports.createdAt,
      resolvedAt: messageReports.resolvedAt,
      reporter: username(messageReports.reporterId),
      message: {
        id: messages.id,
        conversationId: messageReports.conversationId,
        reportedBody: messageReports.bodySnapshot,
        removed: sql<number>`${messages.deletedAt} IS NOT NULL`,
        sender: username(sql`${messageReports.senderId}`),
        sentAt: messages.createdAt,
      },
    })
    .from(messageReports)
    .innerJoin(messages, eq(messages.seq, messageReports.messageSeq))
    .where(
      and(
        eq(messageReports.status, query.status),
        after
          ? or(
              gt(messageReports.createdAt, new Date(after.at)),
              and(eq(messageReports.createdAt, new Date(after.at)), gt(messageReports.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(messageReports.createdAt, messageReports.id)
    .limit(query.limit + 1);
}

export async function listMessageReports(db: Database, query: MessageReportQuery) {
  const rows = await messageReportsQuery(db, query);
  const more = rows.length > query.limit;
  const items = more ? rows.slice(0, query.limit) : rows;
  const last = items[items.length - 1];
  return { reports: items, nextCursor: more && last ? encodeCursor(last.createdAt, last.id) : null };
}

/** Removes a message (the tombstone of the sender's delete); audited when it changes something. */
export async function removeReportedMessage(
  db: Database,
  actor: AuditActor,
  messageId: string,
  now: Date,
): Promise<RemoveOutcome> {
  const audit = auditStatement(
    db,
    actor,
    {
      action: 'message.remove',
      targetType: 'message',
      targetId: messageId,
      from: messages,
      where: and(eq(messages.id, messageId), isNull(messages.deletedAt))!,
      before: sql`json_object('conversationId', ${messages.conversationId}, 'senderId', ${messages.senderId}, 'body', ${messages.body})`,
      after: { removed: true },
    },
    now,
  );
  return removeMessage(db, messageId, now, [audit]);
}

/** Resolves an open message report (`dismissed` or `actioned`); resolving twice changes nothing. */
export async function resolveMessageReport(
  db: Database,
  actor: AuditActor,
  reportId: string,
  input: { resolution: string },
  now: Date,
) {
  const guard = and(eq(messageReports.id, reportId), eq(messageReports.status, 'open'))!;
  const [, , found] = await db.batch([
    auditStatement(
      db,
      actor,
      {
        action: 'message_report.resolve',
        targetType: 'message_report',
        targetId: reportId,
        from: messageReports,
        where: guard,
        before: sql`json_object('status', ${messageReports.status})`,
        after: { status: 'resolved', resolution: input.resolution },
      },
      now,
    ),
    db
      .update(messageReports)
      .set({ status: 'resolved', resolution: input.resolution, resolvedBy: actor.actorId, resolvedAt: now })
      .where(guard),
    db
      .select({
        id: messageReports.id,
        status: messageReports.status,
        resolution: messageReports.resolution,
        resolvedAt: messageReports.resolvedAt,
      })
      .from(messageReports)
      .where(eq(messageReports.id, reportId)),
  ]);
  if (!found[0]) throw AppError.notFound('report');
  return found[0];
}

// ---------------------------------------------------------------------------------------------
// Audit log.

/** Newest first, keyset on id, optionally for one target. */
export function auditQuery(
  db: Database,
  query: { limit: number; before?: number; targetType?: string; targetId?: string },
) {
  const actorName = sql<
    string | null
  >`(SELECT ${users.username} FROM ${users} WHERE ${users.id} = ${auditLog.actorId})`;
  return db
    .select({
      id: auditLog.id,
      actorId: auditLog.actorId,
      actor: actorName,
      action: auditLog.action,
      targetType: auditLog.targetType,
      targetId: auditLog.targetId,
      before: auditLog.before,
      after: auditLog.after,
      requestId: auditLog.requestId,
      createdAt: auditLog.createdAt,
    })
    .from(auditLog)
    .where(
      and(
        query.before !== undefined ? lt(auditLog.id, query.before) : undefined,
        query.targetType ? eq(auditLog.targetType, query.targetType) : undefined,
        query.targetId ? eq(auditLog.targetId, query.targetId) : undefined,
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(query.limit + 1);
}

export async function listAudit(
  db: Database,
  query: { limit: number; before?: number; targetType?: string; targetId?: string },
) {
  const rows = await auditQuery(db, query);
  const more = rows.length > query.limit;
  const items = more ? rows.slice(0, query.limit) : rows;
  return { entries: items, nextCursor: more ? String(items[items.length - 1]!.id) : null };
}
