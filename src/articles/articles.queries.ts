/**
 * SQL of the article reads. Each builder returns one drizzle query (not yet run), so a service can put
 * several in one `db.batch` (one D1 round trip) and the index tests can read their SQL (`.toSQL()`).
 * The viewer-specific flags (favorited, following) are correlated subqueries on primary keys, so a
 * page of 100 costs the same round trips as a page of 1.
 */
import { and, desc, eq, isNotNull, or, sql, type SQL } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { userIdByUsername, usernameMatches } from '../accounts/users.queries';
import { paidAccessExpr } from '../billing/membership';
import type { Database } from '../db/client';
import { compiledQuery, placeholder, type Bindable } from '../db/compiled';
import { flag, numberColumn } from '../db/computed';
import { followingExpr } from '../profiles/profiles.queries';
import { articles, articleTags, favorites, follows, siteCounters, tags, users } from '../db/schema';
import type { ArticleStatus } from '../db/values';

/**
 * The FTS5 table of migration 0002 (`rowid` = articles.id), described here rather than in
 * db/schema.ts because drizzle-kit cannot generate virtual tables.
 */
export const articlesFts = sqliteTable('articles_fts', {
  rowid: integer('rowid').notNull(),
  title: text('title').notNull(),
  description: text('description').notNull(),
  body: text('body').notNull(),
});

/** Filters of `GET /api/articles` and the feed, already validated. */
export interface ArticleFilters {
  tag?: Bindable<string>;
  author?: Bindable<string>;
  favorited?: Bindable<string>;
  /** Articles by authors this user follows (the feed). */
  followedBy?: Bindable<string>;
  /** `published` unless the viewer asks for their own drafts or scheduled articles. */
  status: ArticleStatus;
  /** Restricts to one author id (used for the viewer's own drafts). */
  authorId?: Bindable<string>;
  /** An FTS5 MATCH expression built by `toMatchExpression`. */
  match?: Bindable<string>;
}

/** Whether the viewer favorited the article (false for anonymous viewers, without a lookup). */
function favoritedBy(viewerId: Bindable<string> | null) {
  return flag(
    viewerId
      ? sql`EXISTS (SELECT 1 FROM ${favorites} WHERE ${favorites.userId} = ${viewerId} AND ${favorites.articleId} = ${articles.id})`
      : null,
    'favorited',
  );
}

/** Columns of a list item: everything but the body, plus the author and the viewer's flags. */
function listFields(viewerId: Bindable<string> | null) {
  return {
    id: articles.id,
    slug: articles.slug,
    title: articles.title,
    description: articles.description,
    tagList: articles.tagList,
    status: articles.status,
    visibility: articles.visibility,
    publishAt: articles.publishAt,
    publishedAt: articles.publishedAt,
    favoritesCount: articles.favoritesCount,
    price: articles.price,
    currency: articles.currency,
    createdAt: articles.createdAt,
    updatedAt: articles.updatedAt,
    authorId: articles.authorId,
    authorUsername: users.username,
    authorBio: users.bio,
    authorImage: users.image,
    favorited: favoritedBy(viewerId),
    following: followingExpr(viewerId, articles.authorId),
    paidAccess: paidAccessExpr(viewerId, articles.id, articles.visibility),
  };
}

function detailFields(viewerId: Bindable<string> | null) {
  return { ...listFields(viewerId), body: articles.body };
}

export type ArticleListRow = Awaited<ReturnType<typeof listPageQuery>>[number];
export type ArticleDetailRow = Awaited<ReturnType<typeof articleBySlugQuery>>[number];

/** Published articles, plus the viewer's own drafts and scheduled ones. */
export function readableBy(viewerId: Bindable<string> | null): SQL {
  return viewerId
    ? or(eq(articles.status, 'published'), eq(articles.authorId, viewerId))!
    : eq(articles.status, 'published');
}

const newestFirst = [desc(articles.publishedAt), desc(articles.id)] as const;

const tagIdByName = (name: Bindable<string>) => sql`(SELECT ${tags.id} FROM ${tags} WHERE ${tags.name} = ${name})`;

type Driver = 'search' | 'publishedTag' | 'tag' | 'favorited' | 'feed' | null;

/**
 * Which table a list starts from — the one place deciding it.
 * - `publishedTag` (published articles with a tag): walks article_tags' (tag_id, published_at,
 *   article_id) index backwards, already in list order, so a page reads offset + limit index entries
 *   whatever the tag's size. The link's `published_at` is the article's while it is published and NULL
 *   otherwise (kept in every write's batch), so it stands for both the status filter and the sort key.
 * - `search`, `tag` (the viewer's own drafts or scheduled articles with a tag), `favorited`, `feed`:
 *   start from that (smaller, indexed) set and sort it, so the cost is bounded by the set's size.
 *   (The feed itself, without other filters, is paged by `feedPageQuery`'s merge walk instead.)
 * - none: walks an index of articles already in list order.
 */
function driverOf(filters: ArticleFilters): Driver {
  if (filters.match !== undefined) return 'search';
  if (filters.tag !== undefined) return filters.status === 'published' ? 'publishedTag' : 'tag';
  if (filters.favorited !== undefined) return 'favorited';
  if (filters.followedBy !== undefined) return 'feed';
  return null;
}

interface ListSource {
  /** The article id column the page selects. */
  id: SQL;
  from: SQL;
  where: SQL;
  /** Newest first (publishedAt DESC, id DESC), on the columns of the index the list walks. */
  order: SQL[];
  /** The two columns `order` sorts on (publishedAt, id), where a cursor page starts below its cursor. */
  keys: [SQL, SQL];
}

/**
 * `FROM`, conditions and order of a page or count. CROSS JOIN fixes the join order in SQLite, so the
 * plan does not depend on table statistics D1 may not have.
 */
function listSource(filters: ArticleFilters): ListSource {
  const driver = driverOf(filters);
  const conditions = articleConditions(filters, driver);
  const joined = (from: SQL, ...joins: SQL[]): ListSource => ({
    id: sql`${articles.id}`,
    from,
    where: and(...joins, ...conditions)!,
    order: [...newestFirst],
    keys: [sql`${articles.publishedAt}`, sql`${articles.id}`],
  });
  switch (driver) {
    case 'search':
      return joined(
        sql`${articlesFts} CROSS JOIN ${articles}`,
        sql`${articlesFts} MATCH ${filters.match!}`,
        sql`${articles.id} = ${articlesFts.rowid}`,
      );
    case 'publishedTag': {
      const onTag = [eq(articleTags.tagId, tagIdByName(filters.tag!)), isNotNull(articleTags.publishedAt)];
      const order = [desc(articleTags.publishedAt), desc(articleTags.articleId)];
      const keys: [SQL, SQL] = [sql`${articleTags.publishedAt}`, sql`${articleTags.articleId}`];
      // The tag alone: the index answers by itself, without an article row per skipped entry.
      if (conditions.length === 0)
        return { id: sql`${articleTags.articleId}`, from: sql`${articleTags}`, where: and(...onTag)!, order, keys };
      return {
        ...joined(sql`${articleTags} CROSS JOIN ${articles}`, ...onTag, sql`${articles.id} = ${articleTags.articleId}`),
        order,
        keys,
      };
    }
    case 'tag':
      return joined(
        sql`${articleTags} CROSS JOIN ${articles}`,
        sql`${articleTags.tagId} = ${tagIdByName(filters.tag!)}`,
        sql`${articles.id} = ${articleTags.articleId}`,
      );
    case 'favorited':
      return joined(
        sql`${favorites} CROSS JOIN ${articles}`,
        sql`${favorites.userId} = ${userIdByUsername(filters.favorited!)}`,
        sql`${articles.id} = ${favorites.articleId}`,
      );
    case 'feed':
      return joined(
        sql`${follows} CROSS JOIN ${articles}`,
        sql`${follows.followerId} = ${filters.followedBy!}`,
        sql`${articles.authorId} = ${follows.followeeId}`,
      );
    default:
      return joined(sql`${articles}`);
  }
}

/** The filter conditions on `articles` that the list's driving table does not already apply. */
function articleConditions(filters: ArticleFilters, driver: Driver): SQL[] {
  // A non-NULL article_tags.published_at already means published.
  const conditions: SQL[] = driver === 'publishedTag' ? [] : [eq(articles.status, filters.status)];
  if (filters.authorId) conditions.push(eq(articles.authorId, filters.authorId));
  if (filters.author) conditions.push(sql`${articles.authorId} = ${userIdByUsername(filters.author)}`);
  if (filters.tag && driver !== 'tag' && driver !== 'publishedTag') {
    conditions.push(
      sql`${articles.id} IN (SELECT ${articleTags.articleId} FROM ${articleTags} WHERE ${articleTags.tagId} = ${tagIdByName(filters.tag)})`,
    );
  }
  if (filters.favorited && driver !== 'favorited') {
    conditions.push(
      sql`${articles.id} IN (SELECT ${favorites.articleId} FROM ${favorites} WHERE ${favorites.userId} = ${userIdByUsername(filters.favorited)})`,
    );
  }
  if (filters.followedBy && driver !== 'feed') {
    conditions.push(
      sql`${articles.authorId} IN (SELECT ${follows.followeeId} FROM ${follows} WHERE ${follows.followerId} = ${filters.followedBy})`,
    );
  }
  if (filters.match !== undefined && driver !== 'search') {
    conditions.push(
      sql`${articles.id} IN (SELECT ${articlesFts.rowid} FROM ${articlesFts} WHERE ${articlesFts} MATCH ${filters.match})`,
    );
  }
  return conditions;
}

/** The conditions of a search (on `articles`, which the FTS5 match drives). */
function searchCondition(filters: ArticleFilters): SQL {
  return and(...articleConditions(filters, 'search'))!;
}

/** Where a cursor page of published articles starts: below this article (publishedAt in ms, id). */
export interface ArticleCursor {
  at: Bindable<number>;
  id: Bindable<number>;
}

/**
 * One page, newest first. A deferred join: the inner query picks the page's ids (from indexes only
 * for the plain, author, draft and tag lists, so skipping `offset` rows walks index entries), the
 * outer one fetches at most `limit` rows with their author and the viewer's flags. With `below` (a
 * published list's cursor), the walk starts at the cursor: one range seek of the same index, so a
 * deep cursor page reads what the first page reads.
 */
export function listPageQuery(
  db: Database,
  filters: ArticleFilters,
  viewerId: Bindable<string> | null,
  limit: Bindable<number>,
  offset: Bindable<number>,
  below?: ArticleCursor,
) {
  const source = listSource(filters);
  const { id, from, order, keys } = source;
  const where = below ? and(source.where, sql`(${keys[0]}, ${keys[1]}) < (${below.at}, ${below.id})`)! : source.where;
  const pageIds = sql`SELECT ${id} FROM ${from} WHERE ${where} ORDER BY ${sql.join(order, sql`, `)} LIMIT ${limit} OFFSET ${offset}`;
  return db
    .select(listFields(viewerId))
    .from(articles)
    .innerJoin(users, eq(users.id, articles.authorId))
    .where(sql`${articles.id} IN (${pageIds})`)
    .orderBy(...newestFirst);
}

/**
 * The feed's sort key of an article row `x`: published_at and id as one fixed-width text (15 digits
 * each), which orders like (published_at, id) and is unique. It is exactly the expression of the
 * index `articles_author_status_feed_key_idx` (author_id, status, key), so the feed walk seeks it;
 * written literally (not bound) so SQLite matches the index expression.
 */
const FEED_KEY = sql.raw(`printf('%015d%015d', x.published_at, x.id)`);
const FEED_KEY_DIGITS = 15;
const FEED_KEY_ID_FROM = FEED_KEY_DIGITS + 1;

/** A bound above every feed key (keys are digits; ':' sorts right after '9'): the walk from the newest. */
const FEED_TOP = ':';

/**
 * The `before` cursor of published lists and the feed: an article's feed key (as `FEED_KEY` computes
 * it in SQL), 30 digits.
 */
export const ARTICLE_CURSOR = /^\d{30}$/;

/** The cursor of the page after `row` (its feed key). */
export function articleCursorOf(row: { publishedAt: Date | null; id: number }): string {
  const digits = (n: number) => String(n).padStart(FEED_KEY_DIGITS, '0');
  return digits(row.publishedAt?.getTime() ?? 0) + digits(row.id);
}

/** The article a cursor (validated by `ARTICLE_CURSOR`) names, as a list's keyset bound. */
function cursorBound(cursor: string): { beforeAt: number; beforeId: number } {
  return { beforeAt: Number(cursor.slice(0, FEED_KEY_DIGITS)), beforeId: Number(cursor.slice(FEED_KEY_DIGITS)) };
}

/**
 * The ids of one feed page (published articles by the authors `followerId` follows, newest first) by
 * a k-way merge of the followed authors' newest-first index runs, without reading past the page:
 * a recursive CTE whose queue is a priority queue (SQLite takes the queue's rows in the recursive
 * select's ORDER BY order). It starts with each followed author's newest article; every row taken
 * from the queue is the next article of the feed and puts back that author's next older one (one
 * strict seek of the feed-key index, one entry read). The walk starts below `before` (a feed key: the
 * `nextBefore` cursor of the previous page, or `FEED_TOP` for the newest) and stops after
 * `offset + limit` rows. Rows read ≈ 2 × followed authors + 2 × (offset + limit), whatever the
 * authors have written: a cursor page costs what the first page costs, however deep it is.
 * An author without (more) published articles yields one NULL key, taken last and dropped.
 */
function feedPageIds(
  followerId: Bindable<string>,
  limit: Bindable<number>,
  offset: Bindable<number>,
  before: Bindable<string>,
): SQL {
  const nextOf = (authorId: SQL, below: SQL) =>
    sql`(SELECT ${FEED_KEY} FROM ${articles} x WHERE x.author_id = ${authorId} AND x.status = 'published' AND ${FEED_KEY} < ${below} ORDER BY ${FEED_KEY} DESC LIMIT 1)`;
  return sql`WITH RECURSIVE feed_walk(author_id, feed_key) AS (
      SELECT f.followee_id, ${nextOf(sql`f.followee_id`, sql`${before}`)} FROM ${follows} f WHERE f.follower_id = ${followerId}
      UNION ALL
      SELECT w.author_id, ${nextOf(sql`w.author_id`, sql`w.feed_key`)} FROM feed_walk w WHERE w.feed_key IS NOT NULL
      ORDER BY 2 DESC
      LIMIT ${offset} + ${limit}
    )
    SELECT CAST(substr(feed_key, ${FEED_KEY_ID_FROM}) AS INTEGER) AS id FROM feed_walk WHERE feed_key IS NOT NULL
    LIMIT ${limit} OFFSET ${offset}`;
}

/** Whether `filters` are exactly the feed (no other filter), which `feedPageQuery` and the followed authors' counters answer. */
function isPlainFeed(filters: ArticleFilters): filters is ArticleFilters & { followedBy: Bindable<string> } {
  const { status, followedBy, ...others } = filters;
  return (
    status === 'published' && followedBy !== undefined && Object.values(others).every((value) => value === undefined)
  );
}

/**
 * One feed page (see `feedPageIds`): the page's ids drive the join (CROSS JOIN keeps them the outer
 * loop), so each listed article costs its row and its author's row, nothing else. The rows come in
 * no guaranteed order (an ORDER BY here would sort them again in a temp b-tree, which D1 bills as
 * rows read): the caller sorts the page newest first (`sortNewestFirst`). `following` is true by
 * construction: every article comes from one of the viewer's follows rows, read in this statement.
 */
export function feedPageQuery(
  db: Database,
  followerId: Bindable<string>,
  limit: Bindable<number>,
  offset: Bindable<number>,
  before: Bindable<string> = FEED_TOP,
) {
  return db
    .select({ ...listFields(followerId), following: flag(sql`1`, 'following') })
    .from(articles)
    .innerJoin(
      sql`(${feedPageIds(followerId, limit, offset, before)}) AS feed_page`,
      sql`feed_page.id = ${articles.id}`,
    )
    .innerJoin(users, eq(users.id, articles.authorId));
}

/** Orders list rows as every list is ordered: publishedAt DESC, id DESC. */
export function sortNewestFirst<T extends { publishedAt: Date | null; id: number }>(rows: T[]): T[] {
  const time = (row: T) => row.publishedAt?.getTime() ?? 0;
  return rows.sort((a, b) => time(b) - time(a) || b.id - a.id);
}

/**
 * One page of search results, best match first (bm25 via FTS5's `rank`, newest first on ties).
 * Only published articles are in the index (see `ftsInsertStatement`), so drafts cannot match.
 */
export function searchPageQuery(
  db: Database,
  filters: ArticleFilters & { match: Bindable<string> },
  viewerId: Bindable<string> | null,
  limit: Bindable<number>,
  offset: Bindable<number>,
) {
  const ranked = sql`(SELECT ${articlesFts.rowid} AS id, rank FROM ${articlesFts} WHERE ${articlesFts} MATCH ${filters.match})`;
  return db
    .select(listFields(viewerId))
    .from(articles)
    .innerJoin(sql`${ranked} AS hits`, sql`hits.id = ${articles.id}`)
    .innerJoin(users, eq(users.id, articles.authorId))
    .where(searchCondition(filters))
    .orderBy(sql`hits.rank`, ...newestFirst)
    .limit(limit)
    .offset(offset);
}

// ---------------------------------------------------------------------------------------------
// The reads as services run them: compiled once per shape (src/db/compiled.ts), values bound per request.

const FILTER_VALUES = ['tag', 'author', 'favorited', 'followedBy', 'authorId', 'match'] as const;

/** Whether a list is the viewer's own plain feed, paged by `feedPageQuery`'s merge walk (rows come unordered). */
export function isMergedFeed(filters: ArticleFilters, viewerId: string | null): boolean {
  return isPlainFeed(filters) && filters.followedBy === viewerId;
}

/**
 * A list's shape: its status, whether a viewer is signed in (or reads their own feed), and which
 * filters are present — all that changes the SQL text of `listPageQuery`, `feedPageQuery`,
 * `searchPageQuery` and `countQueryFor`. The filter values, the viewer's id, limit, offset and the feed's cursor are
 * bound per request.
 */
function listShapeOf(filters: ArticleFilters, viewerId: string | null, cursor: boolean): string {
  const merged = isMergedFeed(filters, viewerId);
  const present = FILTER_VALUES.filter((name) => filters[name] !== undefined);
  const viewer = merged ? 'follower' : viewerId === null ? 'anonymous' : 'viewer';
  // The feed's walk always binds its cursor; another list's cursor adds a condition.
  return [filters.status, viewer, ...present, ...(cursor && !merged ? ['before'] : [])].join(' ');
}

function filtersOfShape(shape: string): {
  filters: ArticleFilters;
  viewerId: Bindable<string> | null;
  merged: boolean;
  below: ArticleCursor | undefined;
} {
  const [status, viewer, ...present] = shape.split(' ');
  const filters: ArticleFilters = { status: status as ArticleStatus };
  let below: ArticleCursor | undefined;
  for (const name of present) {
    if (name === 'before') below = { at: placeholder<number>('beforeAt'), id: placeholder<number>('beforeId') };
    else filters[name as (typeof FILTER_VALUES)[number]] = placeholder<string>(name);
  }
  return {
    filters,
    viewerId: viewer === 'viewer' || viewer === 'follower' ? placeholder<string>('viewerId') : null,
    merged: viewer === 'follower',
    below,
  };
}

const compiledListPage = compiledQuery((db, shape: string) => {
  const { filters, viewerId, merged, below } = filtersOfShape(shape);
  const limit = placeholder<number>('limit');
  const offset = placeholder<number>('offset');
  // The merge walk's rows have the list's columns (`following` is always true there).
  if (merged) {
    const before = placeholder<string>('before');
    return feedPageQuery(db, viewerId!, limit, offset, before) as unknown as ReturnType<typeof listPageQuery>;
  }
  return filters.match === undefined
    ? listPageQuery(db, filters, viewerId, limit, offset, below)
    : searchPageQuery(db, { ...filters, match: filters.match }, viewerId, limit, offset);
});

const compiledCount = compiledQuery((db, shape: string) => countQueryFor(db, filtersOfShape(shape).filters));

/**
 * A list's page and its count, ready for one `db.batch` (search text ranks the page by relevance).
 * `before` (a cursor, `ARTICLE_CURSOR`) pages published lists other than search; the caller checks that.
 */
export function listReads(
  db: Database,
  filters: ArticleFilters,
  viewerId: string | null,
  limit: number,
  offset: number,
  before?: string,
): [ReturnType<typeof listPageQuery>, ReturnType<typeof countQueryFor>] {
  const shape = listShapeOf(filters, viewerId, before !== undefined);
  const values = {
    ...filters,
    viewerId,
    limit,
    offset,
    before: before ?? FEED_TOP,
    ...(before === undefined ? {} : cursorBound(before)),
  };
  return [compiledListPage(db, shape, values) as ReturnType<typeof listPageQuery>, compiledCount(db, shape, values)];
}

const compiledArticleBySlug = compiledQuery((db, viewer: 'anonymous' | 'viewer') =>
  articleBySlugQuery(db, placeholder('slug'), viewer === 'viewer' ? placeholder('viewerId') : null),
);

/** `articleBySlugQuery` as the article read runs it. */
export function articleBySlugRead(db: Database, slug: string, viewerId: string | null) {
  return compiledArticleBySlug(db, viewerId === null ? 'anonymous' : 'viewer', { slug, viewerId });
}

/** The `site_counters` row holding the number of published articles. */
export const PUBLISHED_ARTICLES_COUNTER = 'published_articles';

/** Where a list's `articlesCount` comes from (see `countQueryFor`). */
export type CountSource = 'publishedCounter' | 'tagCounter' | 'authorCounter' | 'followedCounters' | 'matches';

/**
 * Decides how a list's total is obtained. Counting the matches reads one index entry per match, and
 * D1 bills rows read: about 2,100 rows per request for 2,000 published articles. So the two most
 * requested lists read one counter row instead, kept exact in the batch of every write that can
 * change it and recomputed daily by maintenance:
 * - every published article → `site_counters.published_articles`;
 * - published articles with one tag → `tags.articles_count` (published articles carrying the tag,
 *   whatever their visibility, exactly as the tag list shows them; 0 for an unknown tag);
 * - published articles by one author → that author's `users.published_articles_count` (0 for an
 *   unknown author);
 * - the feed (published articles by the authors the viewer follows) → the sum of the followed
 *   authors' `users.published_articles_count` (one follows entry and one user row per followed author).
 * Any other filter, or a combination (favorited, search, the viewer's drafts, author with tag), counts
 * the matches; so does any filter added later until it is given a counter here.
 */
export function countSourceOf(filters: ArticleFilters): CountSource {
  if (isPlainFeed(filters)) return 'followedCounters';
  const { status, tag, author, ...others } = filters;
  if (status !== 'published' || Object.values(others).some((value) => value !== undefined)) return 'matches';
  if (author !== undefined) return tag === undefined ? 'authorCounter' : 'matches';
  return tag === undefined ? 'publishedCounter' : 'tagCounter';
}

/** The one query giving a list's `articlesCount` (one row `{ count }`, or none for 0), per `countSourceOf`. */
export function countQueryFor(db: Database, filters: ArticleFilters) {
  switch (countSourceOf(filters)) {
    case 'publishedCounter':
      return countSelect(
        db,
        sql`${siteCounters.value}`,
        sql`${siteCounters}`,
        eq(siteCounters.name, PUBLISHED_ARTICLES_COUNTER),
      );
    case 'tagCounter':
      return countSelect(db, sql`${tags.articlesCount}`, sql`${tags}`, eq(tags.name, filters.tag!));
    case 'authorCounter':
      return countSelect(db, sql`${users.publishedArticlesCount}`, sql`${users}`, usernameMatches(filters.author!));
    case 'followedCounters':
      return countSelect(
        db,
        sql`coalesce(sum(${users.publishedArticlesCount}), 0)`,
        sql`${follows} CROSS JOIN ${users}`,
        sql`${follows.followerId} = ${filters.followedBy!} AND ${users.id} = ${follows.followeeId}`,
      );
    case 'matches': {
      const { from, where } = listSource(filters);
      return countSelect(db, sql`count(*)`, from, where);
    }
  }
}

function countSelect(db: Database, value: SQL, from: SQL, where: SQL) {
  return db
    .select({ count: numberColumn(value, 'count') })
    .from(from)
    .where(where);
}

/** One article with body, author and the viewer's flags, if the viewer may see it at all. */
export function articleBySlugQuery(db: Database, slug: Bindable<string>, viewerId: Bindable<string> | null) {
  return db
    .select(detailFields(viewerId))
    .from(articles)
    .innerJoin(users, eq(users.id, articles.authorId))
    .where(and(eq(articles.slug, slug), readableBy(viewerId)))
    .limit(1);
}

/** Same as `articleBySlugQuery`, by id (used at the end of write batches). */
export function articleByIdQuery(db: Database, id: number | SQL, viewerId: string | null) {
  return db
    .select(detailFields(viewerId))
    .from(articles)
    .innerJoin(users, eq(users.id, articles.authorId))
    .where(sql`${articles.id} = ${id}`)
    .limit(1);
}

/**
 * Turns free text into a safe FTS5 expression: every word quoted (so `"`, `*`, `NEAR`, `-` and column
 * filters are plain text) and all words required. Undefined when the text holds no word.
 */
export function toMatchExpression(text: string): string | undefined {
  const words = text.match(/[\p{L}\p{N}_]+/gu)?.slice(0, 12);
  if (!words || words.length === 0) return undefined;
  return words.map((w) => `"${w}"`).join(' ');
}

/** The article behind a slug as far as `viewerId` may see it (published, or their own), for other features. */
export function readableArticleQuery(db: Database, slug: Bindable<string>, viewerId: Bindable<string> | null) {
  return db
    .select({
      id: articles.id,
      slug: articles.slug,
      authorId: articles.authorId,
      status: articles.status,
      visibility: articles.visibility,
      paidAccess: paidAccessExpr(viewerId, articles.id, articles.visibility),
    })
    .from(articles)
    .where(and(eq(articles.slug, slug), readableBy(viewerId)))
    .limit(1);
}
