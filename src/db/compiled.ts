/**
 * Hot reads compiled once per isolate: the one way to skip drizzle's per-request SQL generation.
 *
 * Drizzle turns a query builder into SQL text on every run, walking every selected column and
 * subquery; for an article read or a list page that was about a fifth of the request's CPU in the
 * Worker (see BENCHMARKS.md, "Where a request spends its CPU"). A read whose SQL depends only on its
 * *shape* (which filters are present, anonymous or signed in) is built once per shape with
 * placeholders (`sql.placeholder(name)`) and prepared; each request then only binds its values to a
 * statement on its own (counted) D1 session and reuses drizzle's row mapping.
 *
 * The compiled query behaves like the builder it was made from for the two things services do with
 * builders: `await` it, or put it in `db.batch([...])`. It cannot be refined further (no `.where()`).
 * Builders must not branch on a placeholder's value in JavaScript: anything that changes the SQL
 * text belongs in the shape. Shapes must come from a small closed set (flags, filter names, enum
 * values), never from request values: each one is kept for the isolate's lifetime.
 */
import { sql, type Placeholder } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import type { Database } from './client';

/** A value known per request, or the placeholder standing for it in a compiled query. */
export type Bindable<T> = T | Placeholder<string, T>;

/** A placeholder for `name`, typed as the value it stands for. */
export function placeholder<T>(name: string): Placeholder<string, T> {
  return sql.placeholder(name) as Placeholder<string, T>;
}

/** What drizzle's prepared D1 query offers that compiled queries use (public, plus batch's internals). */
interface PreparedTemplate {
  getQuery(): { sql: string; params: unknown[] };
  execute(placeholderValues?: Record<string, unknown>): Promise<unknown>;
}

interface Preparable {
  prepare(): unknown;
}

/**
 * Compiling never runs anything: this client only receives `prepare(sql)` calls, whose statement
 * each request replaces with one on its own session.
 */
const compilingDb: Database = drizzle({
  prepare: () => ({}),
  batch: () => Promise.reject(new Error('a compiling database cannot run queries')),
} as unknown as D1Database);

/**
 * `build(db, shape)` returns the query for one shape, with `placeholder(name)` wherever a request
 * value goes. The result runs that query for a request: `compiled(db, shape, values)`.
 */
export function compiledQuery<Shape extends string, Query extends Preparable>(
  build: (db: Database, shape: Shape) => Query,
): (db: Database, shape: Shape, values: Record<string, unknown>) => Query {
  const templates = new Map<Shape, PreparedTemplate>();
  return (db, shape, values) => {
    let template = templates.get(shape);
    if (!template) {
      template = build(compilingDb, shape).prepare() as PreparedTemplate;
      templates.set(shape, template);
    }
    return bound(template, db, values) as unknown as Query;
  };
}

/**
 * The template's prepared query with this request's statement and parameters: an object inheriting
 * drizzle's prepared query (its field list and row mapping) and overriding only `stmt` and `query`.
 */
function bound(template: PreparedTemplate, db: Database, values: Record<string, unknown>) {
  const { sql: text, params } = template.getQuery();
  const filled = params.map((p) => fill(p, values));
  const prepared = Object.create(template) as PreparedTemplate & { stmt: D1PreparedStatement; query: unknown };
  prepared.stmt = db.$client.prepare(text);
  prepared.query = { sql: text, params: filled };
  return {
    // drizzle's db.batch calls this on every item it is given.
    _prepare: () => prepared,
    then<R1, R2>(onFulfilled?: (value: unknown) => R1, onRejected?: (reason: unknown) => R2) {
      return prepared.execute().then(onFulfilled, onRejected);
    },
    toSQL: () => ({ sql: text, params: filled }),
  };
}

/** A template parameter with this request's value: placeholders (and encoded placeholders) are replaced. */
function fill(param: unknown, values: Record<string, unknown>): unknown {
  if (param instanceof PLACEHOLDER) return valueOf(values, (param as Placeholder).name);
  if (param instanceof PARAM && (param as ParamLike).value instanceof PLACEHOLDER) {
    const p = param as ParamLike;
    return p.encoder.mapToDriverValue(valueOf(values, (p.value as Placeholder).name));
  }
  return param;
}

function valueOf(values: Record<string, unknown>, name: string): unknown {
  if (!(name in values)) throw new TypeError(`compiled query: no value for placeholder "${name}"`);
  return values[name];
}

interface ParamLike {
  value: unknown;
  encoder: { mapToDriverValue(value: unknown): unknown };
}

const PLACEHOLDER = sql.placeholder('x').constructor;
const PARAM = sql.param(0).constructor;
