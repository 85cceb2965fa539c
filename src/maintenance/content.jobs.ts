import { and, eq, getTableName, ne, sql, type SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { PUBLISHED_ARTICLES_COUNTER } from '../articles/articles.queries';
import { publishDueArticles } from '../articles/articles.service';
import type { Database } from '../db/client';
import { numberColumn } from '../db/computed';
import { articles, articleTags, siteCounters, tags } from '../db/schema';
import { logWarn } from '../lib/log';
import type { Job } from './job';

/** Rows per reconciliation batch: keeps each statement (and D1's write lock) short. */
export const RECONCILE_CHUNK = 5_000;
/** Batches per counter per run (1M rows); past this the run logs a warning rather than run unbounded. */
export const RECONCILE_MAX_CHUNKS = 200;
/** Drifted rows quoted in the log line. */
const SAMPLE_SIZE = 5;

/** Every 5 minutes: publish scheduled articles whose `publish_at` has come. */
export const publishScheduledJob: Job = async ({ db, now }) => ({ published: await publishDueArticles(db, now) });

interface DriftRow {
  id: number;
  stored: number | null;
  actual: number | null;
}

/** The next RECONCILE_CHUNK ids of `table` after `after`, as a condition on `table.id` (or on `column`). */
function windowOf(
  table: typeof articles | typeof tags,
  after: number,
  column: SQL = sql`${sql.identifier(getTableName(table))}.id`,
) {
  const name = sql.identifier(getTableName(table));
  const ids = sql`SELECT id FROM ${name} WHERE id > ${after} ORDER BY id LIMIT ${RECONCILE_CHUNK}`;
  return {
    /** The window's last id and size: where the next window starts, and whether there is one. */
    bounds: sql`(SELECT max(id) AS last, count(*) AS size FROM (${ids}))`,
    condition: sql`${column} > ${after} AND ${column} <= (SELECT max(id) FROM (${ids}))`,
  };
}

interface Counter {
  /** `table.column`, as logged. */
  name: string;
  /** Key of the number of repaired rows in the job's result. */
  resultKey: string;
  /** One chunk's statements: window bounds, a sample of drifted rows, the set-based repair. */
  chunk: (db: Database, after: number) => readonly [BatchItem<'sqlite'>, BatchItem<'sqlite'>, BatchItem<'sqlite'>];
}

function windowBounds(db: Database, bounds: SQL) {
  return db.select({ last: sql<number | null>`last`, size: sql<number>`size` }).from(bounds);
}

// Written with literal names: drizzle drops the table qualifier of interpolated columns in a
// single-table select list, which would bind `id` to the subquery's own table.
const favoritesActual = sql<number>`(SELECT count(*) FROM favorites f WHERE f.article_id = articles.id)`;
const tagArticlesActual = sql<number>`(SELECT count(*) FROM article_tags at JOIN articles a ON a.id = at.article_id
  WHERE at.tag_id = tags.id AND a.status = 'published')`;
const linkPublishedAtActual = sql<
  number | null
>`(SELECT a.published_at FROM articles a WHERE a.id = article_tags.article_id AND a.status = 'published')`;

const COUNTERS: Counter[] = [
  {
    name: 'articles.favorites_count',
    resultKey: 'favoritesCountFixed',
    chunk: (db, after) => {
      const window = windowOf(articles, after);
      const drifted = and(window.condition, ne(articles.favoritesCount, favoritesActual));
      return [
        windowBounds(db, window.bounds),
        db
          .select({ id: articles.id, stored: articles.favoritesCount, actual: favoritesActual })
          .from(articles)
          .where(drifted)
          .orderBy(articles.id)
          .limit(SAMPLE_SIZE),
        db.update(articles).set({ favoritesCount: favoritesActual }).where(drifted).returning({ id: articles.id }),
      ] as const;
    },
  },
  {
    name: 'tags.articles_count',
    resultKey: 'tagArticlesCountFixed',
    chunk: (db, after) => {
      const window = windowOf(tags, after);
      const drifted = and(window.condition, ne(tags.articlesCount, tagArticlesActual));
      return [
        windowBounds(db, window.bounds),
        db
          .select({ id: tags.id, stored: tags.articlesCount, actual: tagArticlesActual })
          .from(tags)
          .where(drifted)
          .orderBy(tags.id)
          .limit(SAMPLE_SIZE),
        db.update(tags).set({ articlesCount: tagArticlesActual }).where(drifted).returning({ id: tags.id }),
      ] as const;
    },
  },
  {
    // The article's publication time copied onto its tag links (NULL unless published), which the
    // tag list walks. Windows of article ids; drift is counted per link, sampled per article.
    name: 'article_tags.published_at',
    resultKey: 'tagLinkPublishedAtFixed',
    chunk: (db, after) => {
      const window = windowOf(articles, after, sql`article_tags.article_id`);
      const drifted = and(window.condition, sql`article_tags.published_at IS NOT ${linkPublishedAtActual}`);
      return [
        windowBounds(db, window.bounds),
        db
          .select({
            id: articleTags.articleId,
            stored: sql<number | null>`article_tags.published_at`,
            actual: linkPublishedAtActual,
          })
          .from(articleTags)
          .where(drifted)
          .groupBy(articleTags.articleId)
          .orderBy(articleTags.articleId)
          .limit(SAMPLE_SIZE),
        db
          .update(articleTags)
          .set({ publishedAt: linkPublishedAtActual })
          .where(drifted)
          .returning({ id: articleTags.articleId }),
      ] as const;
    },
  },
];

/**
 * Recomputes one denormalized counter, RECONCILE_CHUNK rows at a time in id order. Each chunk is one
 * `db.batch` (one round trip, atomic) whose statements address the same window of ids: its bounds,
 * a sample of drifted rows for the log, and one UPDATE that rewrites only the rows whose stored value
 * differs from the recount — so a run without drift writes nothing.
 */
async function reconcile(db: Database, counter: Counter): Promise<number> {
  let after = 0;
  let fixed = 0;
  const sample: DriftRow[] = [];
  for (let chunk = 0; ; chunk++) {
    if (chunk === RECONCILE_MAX_CHUNKS) {
      logWarn('counter reconciliation truncated', { counter: counter.name, checkedUpToId: after });
      break;
    }
    const [bounds, drifted, repaired] = (await db.batch(counter.chunk(db, after))) as [
      { last: number | null; size: number }[],
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

interface SiteCounter {
  /** The row's `name` in `site_counters`. */
  name: string;
  resultKey: string;
  /** The value recomputed from the data. */
  actual: SQL<number>;
}

const SITE_COUNTERS: SiteCounter[] = [
  {
    name: PUBLISHED_ARTICLES_COUNTER,
    resultKey: 'publishedArticlesFixed',
    // One pass over the (status, published_at, id) index: a count, not a scan of the rows.
    actual: sql<number>`(SELECT count(*) FROM articles WHERE status = 'published')`,
  },
];

/**
 * Recomputes one `site_counters` row in one batch (atomic, so no write can slip in between): the
 * stored and actual values for the log, then an upsert that writes only when they differ (and
 * recreates a missing row). Returns 1 when it repaired the row, else 0.
 */
async function reconcileSiteCounter(db: Database, counter: SiteCounter): Promise<number> {
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
  for (const counter of COUNTERS) result[counter.resultKey] = await reconcile(db, counter);
  for (const counter of SITE_COUNTERS) result[counter.resultKey] = await reconcileSiteCounter(db, counter);
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
