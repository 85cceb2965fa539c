/**
 * Computed columns and insert-select rows: the one way to write them.
 *
 * Every computed column is named (`.as(name)`): inside `db.batch`, drizzle maps D1's row objects to
 * fields by position (`Object.values`), so two unnamed columns with the same text (e.g. two `0`s, one
 * key) or a numeric-looking column name (which JavaScript orders first) would shift every field after
 * it. Plain `db.select()` outside a batch does not need it, but one rule is easier to keep.
 */
import { Column, getTableColumns, is, SQL, sql, type SQLWrapper } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';

/** A named boolean column: `condition` (an SQL truth value), or false without a query when null. */
export function flag(condition: SQLWrapper | null, name: string): SQL.Aliased<boolean> {
  return sql<boolean>`${condition ?? sql`0`}`.mapWith(Boolean).as(name);
}

/** A named integer column computed by `expression` (a count, a counter's value). */
export function numberColumn(expression: SQLWrapper, name: string): SQL.Aliased<number> {
  return sql<number>`${expression}`.mapWith(Number).as(name);
}

type Source = SQL | SQL.Aliased | SQLiteColumn;
type RowSource<T extends SQLiteTable> = { [K in keyof T['$inferSelect']]-?: T['$inferSelect'][K] | Source };
/** Typed as the table's row so `db.insert(table).select(...)` checks it; each entry is SQL or a column. */
type RowFields<T extends SQLiteTable> = { [K in keyof T['$inferSelect']]-?: SQL.Aliased<T['$inferSelect'][K]> };

/**
 * The select list of an `INSERT INTO table SELECT ...`: one entry per column of `table`, in the
 * table's order (drizzle requires it), each either a column/SQL of the query's FROM or a literal value.
 * Literals are bound through the column's own mapping (a Date becomes its `timestamp_ms`, JSON is
 * serialized) and named after the column. Every column must be given: an insert-select does not apply
 * column defaults.
 *
 * @example db.insert(follows).select(db.select(insertSelectRow(follows, { followerId: viewerId,
 *   followeeId: users.id, createdAt: now })).from(users).where(...))
 */
export function insertSelectRow<T extends SQLiteTable>(table: T, row: RowSource<T>): RowFields<T> {
  const fields: Record<string, Source> = {};
  const source = row as Record<string, unknown>;
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    if (!(key in source)) throw new TypeError(`insertSelectRow: no value for ${key}`);
    const value = source[key];
    if (is(value, Column) || is(value, SQL) || is(value, SQL.Aliased)) fields[key] = value as Source;
    else {
      const bound = value === null ? null : column.mapToDriverValue(value);
      fields[key] = sql`${bound}`.as(column.name);
    }
  }
  return fields as RowFields<T>;
}
