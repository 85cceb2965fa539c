/**
 * The session write guard: a signed-in request's writes commit only while its session is live in D1.
 *
 * Sessions are checked on the hot path against their edge copy in KV, which another location may keep
 * for up to about a minute after a revocation (KV is eventually consistent). Reads may lag by that
 * bound; writes must not. So once a request is signed in, its D1 handle puts one statement at the head
 * of every batch that writes, and sends every lone write as a batch behind it: the migration's trigger
 * (`session_write_guard`, migrations/0014_create_session_write_guard.sql) aborts the batch, and with it
 * the whole transaction, unless the session exists, is not revoked and has not expired. One
 * primary-key read per writing batch, no extra round trip. Reads, alone or in read-only batches, are
 * sent as they are, whatever the request's method.
 */

import { failedWith } from './errors';

const GUARD_SQL = 'INSERT INTO session_write_guard (session_id, now) VALUES (?, ?)';
/** The trigger's abort message (migrations/0014_create_session_write_guard.sql). */
const REVOKED = 'folio_session_revoked';
const WRITE = /^\s*(insert|update|delete|replace)\b/i;

type D1Like = Pick<D1Database, 'prepare' | 'batch'>;

/** True when a batch was refused because its session is no longer live. */
export function isRevokedSessionWrite(err: unknown): boolean {
  return failedWith(err, REVOKED);
}

/** A D1 handle whose writes are guarded by a session's liveness once `guardBy` has named it. */
export interface GuardableD1 extends D1Database {
  guardBy(sessionId: string): void;
}

/** Wraps a (counted) D1 binding or session; unguarded (a pass-through) until `guardBy` is called. */
export function guardableD1(d1: D1Like): GuardableD1 {
  let sessionId: string | null = null;
  const inner = new WeakMap<object, D1PreparedStatement>();
  /** `statements` behind the guard, in one batch; their own results. */
  const behindGuard = async (statements: D1PreparedStatement[]): Promise<D1Result[]> => {
    const guard = d1.prepare(GUARD_SQL).bind(sessionId, Date.now());
    return (await d1.batch([guard, ...statements])).slice(1);
  };
  const batch = (statements: D1PreparedStatement[]): Promise<D1Result[]> => {
    const unwrapped = statements.map((s) => inner.get(s) ?? s);
    const writes = sessionId !== null && statements.some((s) => inner.has(s));
    return writes ? behindGuard(unwrapped) : d1.batch(unwrapped);
  };
  const lone = async (statement: D1PreparedStatement): Promise<D1Result> => (await behindGuard([statement]))[0]!;

  /** A write statement: sent as a batch behind the guard, and recognised as a write inside a batch. */
  function guarded(statement: D1PreparedStatement): D1PreparedStatement {
    const wrapped = {
      bind: (...values: unknown[]) => guarded(statement.bind(...values)),
      run: () => lone(statement),
      all: () => lone(statement),
      first: async (column?: string) => {
        const row = ((await lone(statement)).results[0] ?? null) as Record<string, unknown> | null;
        return column === undefined || row === null ? row : (row[column] ?? null);
      },
      // A write's RETURNING columns come from one table, so their names are distinct and the
      // objects a batch returns keep every value, in column order.
      raw: async (options?: { columnNames?: boolean }) => {
        const rows = (await lone(statement)).results as Record<string, unknown>[];
        const values = rows.map((row) => Object.values(row));
        return options?.columnNames ? [Object.keys(rows[0] ?? {}), ...values] : values;
      },
    };
    inner.set(wrapped, statement);
    return wrapped as unknown as D1PreparedStatement;
  }

  return {
    prepare: (query: string) =>
      sessionId !== null && WRITE.test(query) ? guarded(d1.prepare(query)) : d1.prepare(query),
    batch,
    guardBy: (id: string) => {
      sessionId = id;
    },
  } as unknown as GuardableD1;
}
