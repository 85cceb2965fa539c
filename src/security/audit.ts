import { sql, type SQL } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Database } from '../db/client';
import { insertSelectRow } from '../db/computed';
import { auditLog } from '../db/schema';

/** Who did it, under which request. */
export interface AuditActor {
  actorId: string;
  requestId: string;
}

export interface AuditEntry {
  action: string;
  targetType: string;
  /** The target's id, or SQL over the `from` row (e.g. an id the caller does not know up front). */
  targetId: string | SQL;
  /**
   * The row the action changes (`from`), and the condition under which the change applies (`where`):
   * the same condition as the change's own statement, so an audit row exists exactly when the change
   * happens. `before` is read from that row inside the statement (a JSON SQL expression).
   */
  from: SQLiteTable;
  where: SQL;
  before: SQL | null;
  after: object | null;
}

/**
 * The audit row for an admin action, for the SAME batch as the change, placed BEFORE the change's
 * statement (so `before` sees the old row and `where` the old state). The table is append-only.
 */
export function auditStatement(db: Database, actor: AuditActor, entry: AuditEntry, now: Date) {
  return db.insert(auditLog).select(
    db
      .select(
        insertSelectRow(auditLog, {
          id: sql`NULL`,
          actorId: actor.actorId,
          action: entry.action,
          targetType: entry.targetType,
          targetId: entry.targetId,
          before: entry.before ? sql`json(${entry.before})` : null,
          after: entry.after,
          requestId: actor.requestId,
          createdAt: now,
        }),
      )
      .from(entry.from)
      .where(entry.where),
  );
}
