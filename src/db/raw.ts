import { is, SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import type { Database } from './client';

/**
 * Raw SQL in D1 batches. drizzle's `db.batch` cannot run `db.run(sql)` / `db.all(sql)` items with
 * parameters, and hand-written guarded statements (INSERT ... SELECT ... WHERE <guards> ON CONFLICT)
 * read better as SQL, so these helpers send `sql` fragments (or built drizzle queries) through the
 * same (counted) D1 binding. Rows come back as plain objects keyed by SQL column name.
 */
export type Row = Record<string, unknown>;
export type RawStatement = SQL | { toSQL(): { sql: string; params: unknown[] } };

const dialect = new SQLiteAsyncDialect();

function prepare(db: Database, statement: RawStatement): D1PreparedStatement {
  const query = is(statement, SQL) ? dialect.sqlToQuery(statement) : statement.toSQL();
  return (db.$client as D1Database).prepare(query.sql).bind(...query.params);
}

/** Runs the statements as ONE batch (one round trip, one transaction) and returns each one's rows. */
export async function batchRows(db: Database, statements: RawStatement[]): Promise<Row[][]> {
  const results = await (db.$client as D1Database).batch(statements.map((s) => prepare(db, s)));
  return results.map((r) => (r.results ?? []) as Row[]);
}

/** Runs one statement and returns its rows. */
export async function rows<T = Row>(db: Database, statement: RawStatement): Promise<T[]> {
  const { results } = await prepare(db, statement).all();
  return results as T[];
}

/**
 * A raw statement as an item of drizzle's `db.batch([...])`, beside builders: drizzle prepares each item
 * (`_prepare()`), binds its parameters and maps its result; this one's result is its rows as objects.
 */
export function batchItem(db: Database, statement: SQL): BatchItem<'sqlite'> {
  const query = dialect.sqlToQuery(statement);
  const prepared = {
    getQuery: () => query,
    stmt: (db.$client as D1Database).prepare(query.sql),
    mapResult: (result: D1Result) => result.results ?? [],
  };
  return { _prepare: () => prepared } as unknown as BatchItem<'sqlite'>;
}
