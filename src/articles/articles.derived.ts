/**
 * Every value stored as a copy or a count of other rows, so reads stay one cheap query, and the one
 * place that keeps each of them exact:
 * - `articles_fts` row (the search index): title, description and public body of published articles;
 * - `tags.articles_count`: published articles carrying the tag;
 * - `site_counters.published_articles`: published articles;
 * - `users.published_articles_count`: the author's published articles (the feed's and `?author=`'s count);
 * - `article_tags.published_at`: the article's `published_at` while it is published, else NULL;
 * - `articles.favorites_count`: the article's favorites.
 *
 * Writes put `withdrawArticle` before and `contributeArticle` after the statements that change an
 * article, in the same `db.batch` (one transaction): the values follow the stored state even under
 * concurrent edits, because every statement reads it inside the batch. The scheduled publisher uses
 * `contributeDueArticles` for a whole set; the daily repair job recomputes `STORED_COUNTS` and
 * `SITE_COUNTS` and logs drift. A new stored value is added here (all three paths) with one test.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Database } from '../db/client';
import { articles, articleTags, siteCounters, tags, users } from '../db/schema';
import { articlesFts, PUBLISHED_ARTICLES_COUNTER } from './articles.queries';

type Statement = BatchItem<'sqlite'>;
/** Non-empty, so a batch may start with it. */
type Statements = [Statement, ...Statement[]];
type ArticleRef = number | SQL;

// ---------------------------------------------------------------------------------------------
// Per write: one article.

const isPublished = (articleId: ArticleRef) =>
  sql`EXISTS (SELECT 1 FROM ${articles} WHERE ${articles.id} = ${articleId} AND ${articles.status} = 'published')`;

const indexedBody = sql`CASE WHEN ${articles.visibility} = 'public' THEN ${articles.body} ELSE '' END`;

/**
 * Only published articles are searchable, and only public bodies are indexed: members/paid articles
 * are found by title and description alone, so search never reveals text a viewer could not read.
 */
function ftsInsertStatement(db: Database, articleId: ArticleRef) {
  return db.insert(articlesFts)
    .select(sql`SELECT ${articles.id}, ${articles.title}, ${articles.description}, ${indexedBody}
    FROM ${articles} WHERE ${articles.id} = ${articleId} AND ${articles.status} = 'published'`);
}

function ftsDeleteStatement(db: Database, articleId: ArticleRef) {
  return db.delete(articlesFts).where(sql`${articlesFts.rowid} = ${articleId}`);
}

/** Adds `delta` to the count of every tag the article carries, if the article is published right now. */
function tagCountStatement(db: Database, articleId: ArticleRef, delta: 1 | -1) {
  return db
    .update(tags)
    .set({ articlesCount: sql`${tags.articlesCount} + ${delta}` })
    .where(
      and(
        sql`${tags.id} IN (SELECT ${articleTags.tagId} FROM ${articleTags} WHERE ${articleTags.articleId} = ${articleId})`,
        isPublished(articleId),
      ),
    );
}

const publishedCounter = eq(siteCounters.name, PUBLISHED_ARTICLES_COUNTER);

/** Adds `delta` to the published-articles counter if the article is published right now. */
function publishedCountStatement(db: Database, articleId: ArticleRef, delta: 1 | -1) {
  return db
    .update(siteCounters)
    .set({ value: sql`${siteCounters.value} + ${delta}` })
    .where(and(publishedCounter, isPublished(articleId)));
}

/** Adds `delta` to the author's published-articles count if the article is published right now. */
function authorCountStatement(db: Database, articleId: ArticleRef, delta: 1 | -1) {
  return db
    .update(users)
    .set({ publishedArticlesCount: sql`${users.publishedArticlesCount} + ${delta}` })
    .where(
      sql`${users.id} = (SELECT ${articles.authorId} FROM ${articles} WHERE ${articles.id} = ${articleId} AND ${articles.status} = 'published')`,
    );
}

/**
 * What `article_tags.published_at` holds for an article: its `published_at` while it is published,
 * else NULL, read inside the batch. Tag links are inserted with it (see articles.service.ts).
 */
export const linkPublishedAt = (articleId: ArticleRef) =>
  sql`(SELECT ${articles.publishedAt} FROM ${articles} WHERE ${articles.id} = ${articleId} AND ${articles.status} = 'published')`;

/** Brings the article's links in line with its stored state; writes only the links whose value changes. */
function linkPublishedAtStatement(db: Database, articleId: ArticleRef) {
  const value = linkPublishedAt(articleId);
  return db
    .update(articleTags)
    .set({ publishedAt: value })
    .where(and(sql`${articleTags.articleId} = ${articleId}`, sql`${articleTags.publishedAt} IS NOT ${value}`));
}

/**
 * Takes the article's contribution out of the stored counts and the search index: put before the
 * statements that change or delete it (or its tag links).
 */
export function withdrawArticle(db: Database, articleId: ArticleRef): Statements {
  return [
    tagCountStatement(db, articleId, -1),
    publishedCountStatement(db, articleId, -1),
    authorCountStatement(db, articleId, -1),
    ftsDeleteStatement(db, articleId),
  ];
}

/** Puts the article's contribution back from its stored state: after the statements that insert or change it. */
export function contributeArticle(db: Database, articleId: ArticleRef): Statements {
  return [
    linkPublishedAtStatement(db, articleId),
    ftsInsertStatement(db, articleId),
    tagCountStatement(db, articleId, 1),
    publishedCountStatement(db, articleId, 1),
    authorCountStatement(db, articleId, 1),
  ];
}

/**
 * Moves `articles.favorites_count` by `delta` for the article behind `slug` when the previous
 * statement of the batch (the favorite insert or delete) really changed a row: `changes()` is that
 * statement's row count (same connection, same transaction), so a repeated favorite leaves it alone.
 */
export function favoritesCountStatement(db: Database, slug: string, delta: 1 | -1) {
  const value = delta === 1 ? sql`${articles.favoritesCount} + 1` : sql`max(${articles.favoritesCount} - 1, 0)`;
  return db
    .update(articles)
    .set({ favoritesCount: value })
    .where(and(eq(articles.slug, slug), sql`changes() = 1`));
}

// ---------------------------------------------------------------------------------------------
// In bulk: a set of scheduled articles about to be published.

/**
 * The contribution of the scheduled articles in `due` (a subquery of ids) as they are published with
 * `published_at = publish_at`: put before the UPDATE that flips them, in the same batch, so every
 * statement sees the same set.
 */
export function contributeDueArticles(db: Database, due: SQL): Statements {
  return [
    db
      .update(tags)
      .set({
        articlesCount: sql`${tags.articlesCount} + (SELECT count(*) FROM ${articleTags} WHERE ${articleTags.tagId} = ${tags.id} AND ${articleTags.articleId} IN ${due})`,
      })
      .where(
        sql`${tags.id} IN (SELECT ${articleTags.tagId} FROM ${articleTags} WHERE ${articleTags.articleId} IN ${due})`,
      ),
    db
      .insert(articlesFts)
      .select(
        sql`SELECT ${articles.id}, ${articles.title}, ${articles.description}, ${indexedBody} FROM ${articles} WHERE ${articles.id} IN ${due}`,
      ),
    db
      .update(siteCounters)
      .set({ value: sql`${siteCounters.value} + (SELECT count(*) FROM ${due})` })
      .where(and(publishedCounter, sql`EXISTS ${due}`)),
    db
      .update(users)
      .set({
        publishedArticlesCount: sql`${users.publishedArticlesCount} + (SELECT count(*) FROM ${articles} WHERE ${articles.authorId} = ${users.id} AND ${articles.id} IN ${due})`,
      })
      .where(sql`${users.id} IN (SELECT ${articles.authorId} FROM ${articles} WHERE ${articles.id} IN ${due})`),
    // The links take the publication time the flip gives the article (its publishAt).
    db
      .update(articleTags)
      .set({
        publishedAt: sql`(SELECT ${articles.publishAt} FROM ${articles} WHERE ${articles.id} = ${articleTags.articleId})`,
      })
      .where(sql`${articleTags.articleId} IN ${due}`),
  ];
}

// ---------------------------------------------------------------------------------------------
// Repair: what each stored value should be, recomputed from the rows (maintenance/content.jobs.ts).

/**
 * A stored value the daily job recomputes in windows of ids. `check` gets the condition selecting
 * the window's rows and returns a sample of drifted rows (for the log) and the set-based repair,
 * which rewrites only the rows whose stored value differs.
 */
export interface StoredCount {
  /** `table.column`, as logged. */
  name: string;
  /** Key of the number of repaired rows in the job's result. */
  resultKey: string;
  /** The table whose ids the windows walk, and the column holding that id in the checked table. */
  windows: { table: typeof articles | typeof tags | typeof users; idColumn: SQL };
  check: (db: Database, inWindow: SQL, sampleSize: number) => readonly [Statement, Statement];
}

// Written with literal names: drizzle drops the table qualifier of interpolated columns in a
// single-table select list, which would bind `id` to the subquery's own table.
const favoritesActual = sql<number>`(SELECT count(*) FROM favorites f WHERE f.article_id = articles.id)`;
const tagArticlesActual = sql<number>`(SELECT count(*) FROM article_tags at JOIN articles a ON a.id = at.article_id
  WHERE at.tag_id = tags.id AND a.status = 'published')`;
const authorPublishedActual = sql<number>`(SELECT count(*) FROM articles a WHERE a.author_id = users.id AND a.status = 'published')`;
const linkPublishedAtActual = sql<
  number | null
>`(SELECT a.published_at FROM articles a WHERE a.id = article_tags.article_id AND a.status = 'published')`;

export const STORED_COUNTS: StoredCount[] = [
  {
    name: 'articles.favorites_count',
    resultKey: 'favoritesCountFixed',
    windows: { table: articles, idColumn: sql`articles.id` },
    check: (db, inWindow, sampleSize) => {
      const drifted = and(inWindow, sql`${articles.favoritesCount} <> ${favoritesActual}`);
      return [
        db
          .select({ id: articles.id, stored: articles.favoritesCount, actual: favoritesActual })
          .from(articles)
          .where(drifted)
          .orderBy(articles.id)
          .limit(sampleSize),
        db.update(articles).set({ favoritesCount: favoritesActual }).where(drifted).returning({ id: articles.id }),
      ] as const;
    },
  },
  {
    name: 'tags.articles_count',
    resultKey: 'tagArticlesCountFixed',
    windows: { table: tags, idColumn: sql`tags.id` },
    check: (db, inWindow, sampleSize) => {
      const drifted = and(inWindow, sql`${tags.articlesCount} <> ${tagArticlesActual}`);
      return [
        db
          .select({ id: tags.id, stored: tags.articlesCount, actual: tagArticlesActual })
          .from(tags)
          .where(drifted)
          .orderBy(tags.id)
          .limit(sampleSize),
        db.update(tags).set({ articlesCount: tagArticlesActual }).where(drifted).returning({ id: tags.id }),
      ] as const;
    },
  },
  {
    // Windows of user ids (text); each recount reads the author's entries of the (author_id, status, ...) index.
    name: 'users.published_articles_count',
    resultKey: 'authorPublishedCountFixed',
    windows: { table: users, idColumn: sql`users.id` },
    check: (db, inWindow, sampleSize) => {
      const drifted = and(inWindow, sql`${users.publishedArticlesCount} <> ${authorPublishedActual}`);
      return [
        db
          .select({ id: users.id, stored: users.publishedArticlesCount, actual: authorPublishedActual })
          .from(users)
          .where(drifted)
          .orderBy(users.id)
          .limit(sampleSize),
        db
          .update(users)
          .set({ publishedArticlesCount: authorPublishedActual })
          .where(drifted)
          .returning({ id: users.id }),
      ] as const;
    },
  },
  {
    // Windows of article ids; drift is counted per link, sampled per article.
    name: 'article_tags.published_at',
    resultKey: 'tagLinkPublishedAtFixed',
    windows: { table: articles, idColumn: sql`article_tags.article_id` },
    check: (db, inWindow, sampleSize) => {
      const drifted = and(inWindow, sql`article_tags.published_at IS NOT ${linkPublishedAtActual}`);
      return [
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
          .limit(sampleSize),
        db
          .update(articleTags)
          .set({ publishedAt: linkPublishedAtActual })
          .where(drifted)
          .returning({ id: articleTags.articleId }),
      ] as const;
    },
  },
];

/** A `site_counters` row and the value it should hold. */
export interface SiteCount {
  /** The row's `name` in `site_counters`. */
  name: string;
  resultKey: string;
  /** The value recomputed from the data. */
  actual: SQL<number>;
}

export const SITE_COUNTS: SiteCount[] = [
  {
    name: PUBLISHED_ARTICLES_COUNTER,
    resultKey: 'publishedArticlesFixed',
    // One pass over the (status, published_at, id) index: a count, not a scan of the rows.
    actual: sql<number>`(SELECT count(*) FROM articles WHERE status = 'published')`,
  },
];
