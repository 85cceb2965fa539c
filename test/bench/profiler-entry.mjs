// Bench-only entry module, loaded by test/bench/bench.mjs next to the built Worker (never deployed).
// It wraps env.DB so each request reports what D1 did for it in an `X-Bench-D1` response header:
// round trips, and rows read/written from each result's `meta` (D1's billing units). `first()` and
// `raw()` return no meta, so a read run that way is run once more with `all()` to read its meta; a
// write is run once, with `all()`, and its result converted back to what the caller expected.
/* global Headers, Response */
import worker from './index.js';

// The Worker's Durable Object classes must be exported by this entry too.
export { MemberSockets } from './index.js';

const WRITE = /\b(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b/i;

function wrapD1(db, stats) {
  const inner = new WeakMap();
  const add = (meta) => {
    stats.rowsRead += meta?.rows_read ?? 0;
    stats.rowsWritten += meta?.rows_written ?? 0;
  };
  const wrap = (stmt, sql) => {
    const isWrite = WRITE.test(sql);
    const wrapped = {
      bind: (...values) => wrap(stmt.bind(...values), sql),
      all: async () => {
        stats.roundTrips++;
        const result = await stmt.all();
        add(result.meta);
        return result;
      },
      run: async () => {
        stats.roundTrips++;
        const result = await stmt.run();
        add(result.meta);
        return result;
      },
      first: async (column) => {
        stats.roundTrips++;
        if (!isWrite) {
          const value = column === undefined ? await stmt.first() : await stmt.first(column);
          add((await stmt.all()).meta);
          return value;
        }
        const result = await stmt.all();
        add(result.meta);
        const row = result.results[0];
        return row === undefined ? null : column === undefined ? row : (row[column] ?? null);
      },
      raw: async (options) => {
        stats.roundTrips++;
        if (!isWrite) {
          const rows = options?.columnNames ? await stmt.raw({ columnNames: true }) : await stmt.raw();
          add((await stmt.all()).meta);
          return rows;
        }
        const result = await stmt.all();
        add(result.meta);
        const rows = result.results.map((r) => Object.values(r));
        return options?.columnNames ? [Object.keys(result.results[0] ?? {}), ...rows] : rows;
      },
    };
    inner.set(wrapped, stmt);
    return wrapped;
  };
  return {
    prepare: (sql) => wrap(db.prepare(sql), sql),
    batch: async (statements) => {
      stats.roundTrips++;
      const results = await db.batch(statements.map((s) => inner.get(s) ?? s));
      for (const result of results) add(result.meta);
      return results;
    },
    exec: (sql) => {
      stats.roundTrips++;
      return db.exec(sql);
    },
    // A D1 session (read replicas) is counted like the binding it came from.
    withSession: (constraint) => wrapD1(db.withSession(constraint), stats),
    getBookmark: () => db.getBookmark?.() ?? null,
    dump: () => db.dump(),
  };
}

export default {
  async fetch(request, env, ctx) {
    const stats = { roundTrips: 0, rowsRead: 0, rowsWritten: 0 };
    const response = await worker.fetch(request, { ...env, DB: wrapD1(env.DB, stats) }, ctx);
    const headers = new Headers(response.headers);
    headers.set('X-Bench-D1', JSON.stringify(stats));
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  },
};
