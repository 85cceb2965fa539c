import { drizzle } from 'drizzle-orm/d1';

/**
 * Creates the drizzle client over a (counted) D1 binding or session. One per request: it holds no
 * connection. Built without the schema on purpose: drizzle's relational query API (`db.query.*`) would
 * rebuild its relation config from every table on each call of this function, which was the largest
 * fixed cost of a light request; queries use `db.select()` and friends instead.
 */
export function createDb(d1: D1Database) {
  return drizzle(d1);
}

export type Database = ReturnType<typeof createDb>;
