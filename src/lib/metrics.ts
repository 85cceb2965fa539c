/**
 * Per-request counters of storage round trips, reported in the request log line and asserted by the
 * performance-budget tests. A `db.batch` counts as one D1 round trip, as it is one on the wire.
 */
export interface RequestMetrics {
  d1: number;
  kv: number;
}

export function newMetrics(): RequestMetrics {
  return { d1: 0, kv: 0 };
}

const innerStatements = new WeakMap<object, D1PreparedStatement>();

function countStatement(inner: D1PreparedStatement, metrics: RequestMetrics): D1PreparedStatement {
  const wrapped = {
    bind: (...values: unknown[]) => countStatement(inner.bind(...values), metrics),
    first: (column?: string) => {
      metrics.d1++;
      return column === undefined ? inner.first() : inner.first(column);
    },
    all: () => {
      metrics.d1++;
      return inner.all();
    },
    run: () => {
      metrics.d1++;
      return inner.run();
    },
    raw: (options?: { columnNames?: boolean }) => {
      metrics.d1++;
      return options?.columnNames ? inner.raw({ columnNames: true }) : inner.raw();
    },
  };
  innerStatements.set(wrapped, inner);
  return wrapped as unknown as D1PreparedStatement;
}

/** Wraps a D1 binding so every query or batch sent increments `metrics.d1`. */
export function countD1(db: D1Database, metrics: RequestMetrics): D1Database {
  const wrapped = {
    prepare: (query: string) => countStatement(db.prepare(query), metrics),
    batch: (statements: D1PreparedStatement[]) => {
      metrics.d1++;
      // workerd only accepts its own statement objects inside a batch.
      return db.batch(statements.map((s) => innerStatements.get(s) ?? s));
    },
    exec: (query: string) => {
      metrics.d1++;
      return db.exec(query);
    },
    withSession: (constraint?: string) => db.withSession(constraint),
    dump: () => db.dump(),
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
