import { eq, getTableName, sql, type SQL } from 'drizzle-orm';
import { SITE_COUNTS, STORED_COUNTS, type SiteCount, type StoredCount } from '../articles/articles.derived';
import { publishDueArticles } from '../articles/articles.service';
import type { Database } from '../db/client';
import { numberColumn } from '../db/computed';
import { siteCounters } from '../db/schema';
import { logWarn } from '../lib/log';
import type { Job } from './job';

/** Rows per reconciliation batch: keeps each statement (and D1's write lock) short. */
export const RECONCILE_CHUNK = 5_000;
/** Batches per counter per run (1M rows); past this the run logs a warning rather than run unbounded. */
const RECONCILE_MAX_CHUNKS = 200;
/** Drifted rows quoted in the log line. */
const SAMPLE_SIZE = 5;

/** Every 5 minutes: publish scheduled articles whose `publish_at` has come. */
export const publishScheduledJob: Job = async ({ db, now }) => ({ published: await publishDueArticles(db, now) });

/** An id of the table a counter's windows walk: integer for articles and tags, text for users. */
type WindowId = number | string;

interface DriftRow {
  id: WindowId;
  stored: number | null;
  actual: number | null;
}

/**
 * The next RECONCILE_CHUNK ids of `table` after `after` (from the first id when null), as a condition
 * on `idColumn`. Ids compare in the primary key's order (numbers, or text in binary collation).
 */
function windowOf(table: StoredCount['windows']['table'], after: WindowId | null, idColumn: SQL) {
  const name = sql.identifier(getTableName(table));
  const from = (column: SQL) => (after === null ? sql`1` : sql`${column} > ${after}`);
  const ids = sql`SELECT id FROM ${name} WHERE ${from(sql`id`)} ORDER BY id LIMIT ${RECONCILE_CHUNK}`;
  return {
    /** The window's last id and size: where the next window starts, and whether there is one. */
    bounds: sql`(SELECT max(id) AS last, count(*) AS size FROM (${ids}))`,
    condition: sql`${from(idColumn)} AND ${idColumn} <= (SELECT max(id) FROM (${ids}))`,
  };
}

function windowBounds(db: Database, bounds: SQL) {
  return db.select({ last: sql<WindowId | null>`last`, size: sql<number>`size` }).from(bounds);
}

/**
 * Recomputes one denormalized counter, RECONCILE_CHUNK rows at a time in id order. Each chunk is one
 * `db.batch` (one round trip, atomic) whose statements address the same window of ids: its bounds,
 * a sample of drifted rows for the log, and one UPDATE that rewrites only the rows whose stored value
 * differs from the recount — so a run without drift writes nothing.
 */
async function reconcile(db: Database, counter: StoredCount): Promise<number> {
  let after: WindowId | null = null;
  let fixed = 0;
  const sample: DriftRow[] = [];
  for (let chunk = 0; ; chunk++) {
    if (chunk === RECONCILE_MAX_CHUNKS) {
      logWarn('counter reconciliation truncated', { counter: counter.name, checkedUpToId: after });
      break;
    }
    const ids = windowOf(counter.windows.table, after, counter.windows.idColumn);
    const [driftSample, repair] = counter.check(db, ids.condition, SAMPLE_SIZE);
    const [bounds, drifted, repaired] = (await db.batch([windowBounds(db, ids.bounds), driftSample, repair])) as [
      { last: WindowId | null; size: number }[],
      DriftRow[],
      { id: number }[],
    ];
    fixed += repaired.length;
    sample.push(...drifted.slice(0, SAMPLE_SIZE - sample.length));
    const window = bounds[0];
    if (!window || window.last === null || window.size < RECONCILE_CHUNK) break;
    after = window.last;
  }
  if (fixed > 0) {
    logWarn('counter drift repaired', {
      counter: counter.name,
      mismatches: fixed,
      sampleIds: sample.map((r) => r.id).join(','),
      sample: sample.map((r) => `${r.id}:${r.stored}->${r.actual}`).join(','),
    });
  }
  return fixed;
}

/**
 * Recomputes one `site_counters` row in one batch (atomic, so no write can slip in between): the
 * stored and actual values for the log, then an upsert that writes only when they differ (and
 * recreates a missing row). Returns 1 when it repaired the row, else 0.
 */
async function reconcileSiteCounter(db: Database, counter: SiteCount): Promise<number> {
  const [found, repaired] = await db.batch([
    db
      .select({ stored: siteCounters.value, actual: numberColumn(counter.actual, 'actual') })
      .from(siteCounters)
      .where(eq(siteCounters.name, counter.name)),
    db
      .insert(siteCounters)
      .values({ name: counter.name, value: counter.actual })
      .onConflictDoUpdate({
        target: siteCounters.name,
        set: { value: sql`excluded.value` },
        setWhere: sql`${siteCounters.value} <> excluded.value`,
      })
      .returning({ value: siteCounters.value }),
  ]);
  const fixed = repaired[0];
  if (!fixed) return 0;
  logWarn('counter drift repaired', {
    counter: `site_counters.${counter.name}`,
    mismatches: 1,
    sampleIds: counter.name,
    sample: `${counter.name}:${found[0]?.stored ?? 'missing'}->${fixed.value}`,
  });
  return 1;
}

/** Daily: recompute counters that could drift (a bug, a manual fix in the console), log and repair drift. */
export const reconcileCountersJob: Job = async ({ db }) => {
  const result: Record<string, number> = {};
  for (const counter of STORED_COUNTS) result[counter.resultKey] = await reconcile(db, counter);
  for (const counter of SITE_COUNTS) result[counter.resultKey] = await reconcileSiteCounter(db, counter);
  return result;
};

/** Daily, after the purges: let SQLite refresh the statistics its planner uses. Failure is not fatal. */
export const optimizeJob: Job = async ({ db }) => {
  try {
    await db.run(sql`PRAGMA optimize`);
    return { optimized: 1 };
  } catch (err) {
    logWarn('PRAGMA optimize failed', { error: err instanceof Error ? err.message.slice(0, 300) : 'unknown' });
    return { optimized: 0 };
  }
};
