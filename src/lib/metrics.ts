/**
 * Per-request counters of storage round trips, reported in the request log line and asserted by the
 * performance-budget tests. A `db.batch` counts as one D1 round trip, as it is one on the wire.
 */
export interface RequestMetrics {
  d1: number;
  /** The part of `d1` sent through a session that starts on the primary (security and money paths). */
  d1Primary: number;
  kv: number;
}

export function newMetrics(): RequestMetrics {
  return { d1: 0, d1Primary: 0, kv: 0 };
}

/** What the counted wrapper needs of a D1 binding or of a D1 session (`withSession`). */
type D1Like = Pick<D1Database, 'prepare' | 'batch'>;

const innerStatements = new WeakMap<object, D1PreparedStatement>();

function countStatement(inner: D1PreparedStatement, count: () => void): D1PreparedStatement {
  const wrapped = {
    bind: (...values: unknown[]) => countStatement(inner.bind(...values), count),
    first: (column?: string) => {
      count();
      return column === undefined ? inner.first() : inner.first(column);
    },
    all: () => {
      count();
      return inner.all();
    },
    run: () => {
      count();
      return inner.run();
    },
    raw: (options?: { columnNames?: boolean }) => {
      count();
      return options?.columnNames ? inner.raw({ columnNames: true }) : inner.raw();
    },
  };
  innerStatements.set(wrapped, inner);
  return wrapped as unknown as D1PreparedStatement;
}

/**
 * Wraps a D1 binding or session so every query or batch sent increments `metrics.d1` (and
 * `metrics.d1Primary` when `primary`). Only `prepare` and `batch` are offered: request code never
 * needs `exec`, `dump` or a nested `withSession`.
 */
export function countD1(db: D1Like, metrics: RequestMetrics, primary = false): D1Database {
  const count = primary
    ? () => {
        metrics.d1++;
        metrics.d1Primary++;
      }
    : () => {
        metrics.d1++;
      };
  const wrapped = {
    prepare: (query: string) => countStatement(db.prepare(query), count),
    batch: (statements: D1PreparedStatement[]) => {
      count();
      // workerd only accepts its own statement objects inside a batch.
      return db.batch(statements.map((s) => innerStatements.get(s) ?? s));
    },
  };
  return wrapped as unknown as D1Database;
}

/** Wraps a KV namespace so every get, put, delete or list increments `metrics.kv`. */
export function countKv(kv: KVNamespace, metrics: RequestMetrics): KVNamespace {
  return new Proxy(kv, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop === 'get' || prop === 'getWithMetadata' || prop === 'put' || prop === 'delete' || prop === 'list') {
          metrics.kv++;
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
