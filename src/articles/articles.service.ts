import { and, eq, ne, sql, type SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Database } from '../db/client';
import { insertSelectRow } from '../db/computed';

import { articleEventData, webhookEventPerRowStatement, webhookEventStatement } from '../webhooks/webhooks.outbox';
import { isUniqueViolation } from '../db/errors';
import { articles, articleTags, favorites, tags } from '../db/schema';
import type { ArticleStatus } from '../db/values';
import { AppError, InternalError } from '../errors';
import { RESERVED_SLUGS, slugFitsBase, slugify, slugSuffix } from '../lib/slug';
import { auditStatement, type AuditActor } from '../security/audit';
import {
  contributeArticle,
  contributeDueArticles,
  favoritesCountStatement,
  linkPublishedAt,
  withdrawArticle,
} from './articles.derived';
import {
  articleByIdQuery,
  articleBySlugQuery,
  articleBySlugRead,
  isMergedFeed,
  listReads,
  articleCursorOf,
  readableBy,
  sortNewestFirst,
  toMatchExpression,
  type ArticleDetailRow,
  type ArticleFilters,
  type ArticleListRow,
} from './articles.queries';
import { DEFAULT_LIMIT, type ArticlePatch, type ListQueryInput, type NewArticleInput } from './articles.schemas';
import { limitGuard, rethrowWhenLimited, type WindowLimit } from '../security/rate-limit';

export interface ArticlePage {
  rows: ArticleListRow[];
  count: number;
  /** The cursor of the page after this one; `null` when none can follow, or the list has no cursor. */
  nextBefore: string | null;
}

/** Scheduled articles published per `publishDueArticles` call (keeps one cron batch small). */
const PUBLISH_BATCH_SIZE = 100;
const SLUG_ATTEMPTS = 3;

type Statement = BatchItem<'sqlite'>;

// ---------------------------------------------------------------------------------------------
// Reads: each is one D1 round trip (a page and its count travel in one batch).

async function runList(
  db: Database,
  filters: ArticleFilters,
  viewerId: string | null,
  limit: number,
  offset: number,
  before?: string,
): Promise<ArticlePage> {
  const [listed, counted] = await db.batch(listReads(db, filters, viewerId, limit, offset, before));
  // The feed's merge walk returns its page unordered (see feedPageQuery).
  const rows = isMergedFeed(filters, viewerId) ? sortNewestFirst(listed) : listed;
  const count = counted[0]?.count ?? 0;
  return { rows, count, nextBefore: pagesByCursor(filters) ? nextCursor(rows, count, limit, offset, before) : null };
}

/** Whether a list can be paged by `before`: published articles newest first (not search results, not drafts). */
function pagesByCursor(filters: ArticleFilters): boolean {
  return filters.status === 'published' && filters.match === undefined;
}

/**
 * The `nextBefore` of a page: its last article's cursor when the page is full and more may follow
 * (an offset page knows from the total; a cursor page does not, so a full last page is followed by
 * one empty page).
 */
function nextCursor(
  rows: ArticleListRow[],
  count: number,
  limit: number,
  offset: number,
  before: string | undefined,
): string | null {
  const last = rows.at(-1);
  const more = rows.length === limit && (before !== undefined || offset + limit < count);
  return last && more ? articleCursorOf(last) : null;
}

/**
 * `GET /api/articles`: published articles (or, with `status`, the viewer's own drafts/scheduled),
 * filtered by tag, author, favoriting user and search text, all combinable.
 * `before` (the previous page's `nextBefore`) starts a published list's page below that article, so
 * a reader scrolling on neither skips nor repeats articles when new ones are published meanwhile,
 * and a deep page costs what the first one does (`offset` counts from the cursor).
 */
export async function listArticles(db: Database, query: ListQueryInput, viewerId: string | null): Promise<ArticlePage> {
  const status = query.status ?? 'published';
  const filters: ArticleFilters = { status, tag: query.tag, author: query.author, favorited: query.favorited };
  if (status !== 'published') {
    if (!viewerId) throw AppError.unauthorized();
    filters.authorId = viewerId;
  }
  if (query.q !== undefined && query.q.trim() !== '') {
    filters.match = toMatchExpression(query.q);
    if (filters.match === undefined) throw AppError.validation({ q: ['must contain a word'] });
  }
  if (query.before !== undefined && !pagesByCursor(filters)) {
    throw AppError.validation({ before: ['pages published lists only (not with q or status)'] });
  }
  return runList(db, filters, viewerId, query.limit ?? DEFAULT_LIMIT, query.offset ?? 0, query.before);
}

/**
 * `GET /api/articles/feed`: published articles by the authors the viewer follows, newest first.
 * `before` (the previous page's `nextBefore`) works as on `GET /api/articles`.
 */
export async function listFeed(
  db: Database,
  viewerId: string,
  page: { limit?: number; offset?: number; before?: string },
): Promise<ArticlePage> {
  const filters: ArticleFilters = { status: 'published', followedBy: viewerId };
  return runList(db, filters, viewerId, page.limit ?? DEFAULT_LIMIT, page.offset ?? 0, page.before);
}

export async function getArticle(db: Database, slug: string, viewerId: string | null): Promise<ArticleDetailRow> {
  const [row] = await articleBySlugRead(db, slug, viewerId);
  if (!row) throw AppError.notFound('article');
  return row;
}

// ---------------------------------------------------------------------------------------------
// Statements shared by the writes. The stored counts and copies (search row, tag counts, the
// published-articles counter, the tag links' publication time) come from articles.derived.ts and go in
// the same batch as the change.

/** What an audit row keeps of an article a moderator changes or removes (its `before`). */
const auditedArticle = sql`json_object('slug', ${articles.slug}, 'title', ${articles.title}, 'authorId', ${articles.authorId}, 'status', ${articles.status}, 'visibility', ${articles.visibility})`;

/** The id of the article just inserted in this batch: AUTOINCREMENT ids only grow, and a batch is one transaction. */
const insertedArticleId = sql`(SELECT max(${articles.id}) FROM ${articles})`;

/** Creates missing tags and links them in the given order (one JSON parameter, whatever the count). */
function tagLinkStatements(db: Database, articleId: number | SQL, tagList: string[]): Statement[] {
  if (tagList.length === 0) return [];
  const json = JSON.stringify(tagList);
  const entries = sql`json_each(${json}) AS j`;
  return [
    db
      .insert(tags)
      .select(
        db
          .select(insertSelectRow(tags, { id: sql`NULL`, name: sql`j.value`, articlesCount: 0 }))
          .from(entries)
          // `WHERE true` keeps SQLite from reading ON CONFLICT as a join constraint of the SELECT.
          .where(sql`true`),
      )
      .onConflictDoNothing(),
    db.insert(articleTags).select(
      db
        .select(
          insertSelectRow(articleTags, {
            articleId: sql`${articleId}`,
            tagId: tags.id,
            position: sql`j.key`,
            publishedAt: linkPublishedAt(articleId),
          }),
        )
        .from(entries)
        .innerJoin(tags, sql`${tags.name} = j.value`),
    ),
  ];
}

/**
 * The slug for a (new) title: the plain slug when free, else the slug plus a random suffix — decided
 * by the INSERT/UPDATE itself, so there is no check-then-insert window; the unique index backs it.
 */
function slugExpression(title: string, exceptId?: number): SQL {
  const base = slugify(title);
  const suffixed = `${base}-${slugSuffix()}`;
  if (RESERVED_SLUGS.has(base)) return sql`${suffixed}`;
  const taken = sql`EXISTS (SELECT 1 FROM ${articles} WHERE ${articles.slug} = ${base}${exceptId === undefined ? sql`` : sql` AND ${articles.id} <> ${exceptId}`})`;
  return sql`(CASE WHEN ${taken} THEN ${suffixed} ELSE ${base} END)`;
}

/** Retries a write whose random slug suffix collided (about one chance in two billion per attempt). */
async function withSlugRetry<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= SLUG_ATTEMPTS || !isUniqueViolation(err, 'articles.slug')) throw err;
    }
  }
}

interface Schedule {
  status: ArticleStatus;
  publishAt: Date | null;
}

/** `publishAt` belongs to scheduled articles only, and must then be in the future. */
function checkSchedule(
  status: ArticleStatus,
  publishAt: Date | null | undefined,
  publishAtGiven: boolean,
  now: Date,
): Schedule {
  if (status !== 'scheduled') {
    if (publishAtGiven && publishAt)
      throw AppError.validation({ publishAt: ['is only allowed for scheduled articles'] });
    return { status, publishAt: null };
  }
  if (!publishAt) throw AppError.validation({ publishAt: ["can't be blank"] });
  if (publishAtGiven && publishAt.getTime() <= now.getTime())
    throw AppError.validation({ publishAt: ['must be in the future'] });
  return { status, publishAt };
}

/**
 * An article's price and currency go together: both set, or both NULL (not sold alone; a `paid`
 * article without a price is for members only). On update, omitted fields keep their stored value.
 */
function checkPrice(
  price: number | null | undefined,
  currency: string | null | undefined,
  current: { price: number | null; currency: string | null },
): { price: number | null; currency: string | null } {
  if (price === null) return { price: null, currency: null };
  const nextPrice = price ?? current.price;
  const nextCurrency = currency ?? current.currency;
  if (nextPrice === null && currency !== undefined && currency !== null)
    throw AppError.validation({ price: ["can't be blank"] });
  if (nextPrice !== null && !nextCurrency) throw AppError.validation({ currency: ["can't be blank"] });
  return { price: nextPrice, currency: nextPrice === null ? null : nextCurrency };
}

// ---------------------------------------------------------------------------------------------
// Writes.

/** One D1 round trip: the article, its tags, search row and tag counts, then the stored article. */
export async function createArticle(
  db: Database,
  authorId: string,
  input: NewArticleInput,
  now: Date,
  options: {
    /** New articles this author may create per hour (ARTICLE_CREATE_LIMIT_PER_HOUR). */
    limitPerHour: number;
    /** Statements that must commit with the article or not at all (an Idempotency-Key claim). */
    alsoInBatch?: BatchItem<'sqlite'>[];
  },
): Promise<ArticleDetailRow> {
  const schedule = checkSchedule(input.status ?? 'published', input.publishAt, input.publishAt !== undefined, now);
  const tagList = input.tagList ?? [];
  const priced = checkPrice(input.price, input.currency, { price: null, currency: null });
  const rule: WindowLimit = { limit: options.limitPerHour, windowSeconds: 3600 };
  // The guard aborts the whole batch over the limit: the statements after the insert find the new
  // article as the newest row, which must never be someone else's.
  const [row] = await withSlugRetry(async () => {
    const results = await db.batch([
      ...limitGuard(db, `article:${authorId}`, rule, now),
      db.insert(articles).values({
        slug: slugExpression(input.title),
        title: input.title,
        description: input.description,
        body: input.body,
        authorId,
        status: schedule.status,
        visibility: input.visibility ?? 'public',
        publishAt: schedule.publishAt,
        publishedAt: schedule.status === 'published' ? now : null,
        tagList,
        favoritesCount: 0,
        price: priced.price,
        currency: priced.currency,
        createdAt: now,
        updatedAt: now,
      }),
      ...(options.alsoInBatch ?? []),
      ...tagLinkStatements(db, insertedArticleId, tagList),
      ...contributeArticle(db, insertedArticleId),
      ...(schedule.status === 'published'
        ? [webhookEventStatement(db, 'article.published', articleEventData(insertedArticleId), now)]
        : []),
      articleByIdQuery(db, insertedArticleId, authorId),
    ]);
    return results[results.length - 1] as ArticleDetailRow[];
  }).catch((err: unknown) => rethrowWhenLimited(err, rule, now));
  if (!row) throw new InternalError('created article not found');
  return row;
}

/** Webhook for an update: `article.published` when this update publishes it, `article.updated` when it was public. */
function articleChangedWebhook(db: Database, articleId: number, before: string, after: string, now: Date) {
  if (after === 'published' && before !== 'published') {
    return [webhookEventStatement(db, 'article.published', articleEventData(articleId), now)];
  }
  if (before === 'published') return [webhookEventStatement(db, 'article.updated', articleEventData(articleId), now)];
  return [];
}

/**
 * Two D1 round trips: read the article (existence, ownership, current state), then one batch that
 * updates it with its tags, search row and tag counts and reads it back.
 * A new title gives a new slug (as RealWorld's reference implementations do); the old slug then
 * answers 404. A title whose slug still fits the current one (e.g. only punctuation or case changed)
 * keeps the slug. `public` tells whether anonymous readers could see a difference (the article was or
 * is now published): editing a draft or a scheduled article changes no public read.
 */
export async function updateArticle(
  db: Database,
  actor: AuditActor,
  slug: string,
  patch: ArticlePatch,
  now: Date,
  options: { editAny: boolean } = { editAny: false },
): Promise<{ article: ArticleDetailRow; public: boolean }> {
  const viewerId = actor.actorId;
  const [current] = await db
    .select({
      id: articles.id,
      slug: articles.slug,
      title: articles.title,
      authorId: articles.authorId,
      status: articles.status,
      publishAt: articles.publishAt,
      price: articles.price,
      currency: articles.currency,
    })
    .from(articles)
    .where(and(eq(articles.slug, slug), readableBy(viewerId)))
    .limit(1);
  if (!current) throw AppError.notFound('article');
  // Editors (permission edit:any-article) may edit any article they can read; that is audited.
  const moderating = current.authorId !== viewerId;
  if (moderating && !options.editAny) throw AppError.forbidden('article');

  const status = patch.status ?? current.status;
  const keptPublishAt = current.status === 'scheduled' ? current.publishAt : null;
  const schedule = checkSchedule(
    status,
    patch.publishAt !== undefined ? patch.publishAt : keptPublishAt,
    patch.publishAt !== undefined || (status === 'scheduled' && current.status !== 'scheduled'),
    now,
  );
  const priced =
    patch.price === undefined && patch.currency === undefined
      ? undefined
      : checkPrice(patch.price, patch.currency, current);
  const titleChanged = patch.title !== undefined && patch.title !== current.title;
  const newSlug = titleChanged && !slugFitsBase(current.slug, slugify(patch.title!));

  const [row] = await withSlugRetry(async () => {
    const changes = {
      ...(patch.title !== undefined && { title: patch.title }),
      ...(newSlug && { slug: slugExpression(patch.title!, current.id) }),
      ...(patch.description !== undefined && { description: patch.description }),
      ...(patch.body !== undefined && { body: patch.body }),
      ...(patch.visibility !== undefined && { visibility: patch.visibility }),
      ...(patch.tagList !== undefined && { tagList: patch.tagList }),
      ...priced,
      status: schedule.status,
      publishAt: schedule.publishAt,
      // The first publication fixes the article's place in lists; unpublishing and republishing keeps it.
      ...(schedule.status === 'published' && { publishedAt: sql`COALESCE(${articles.publishedAt}, ${now.getTime()})` }),
      updatedAt: now,
    };
    const results = await db.batch([
      ...withdrawArticle(db, current.id),
      ...(moderating
        ? [
            auditStatement(
              db,
              actor,
              {
                action: 'article.update',
                targetType: 'article',
                targetId: String(current.id),
                from: articles,
                where: eq(articles.id, current.id),
                before: auditedArticle,
                // What the editor changed (field names and values as sent; the body is named, not copied).
                after: { ...patch, ...(patch.body !== undefined && { body: '(changed)' }) },
              },
              now,
            ),
          ]
        : []),
      db.update(articles).set(changes).where(eq(articles.id, current.id)),
      ...(patch.tagList !== undefined
        ? [
            db.delete(articleTags).where(eq(articleTags.articleId, current.id)),
            ...tagLinkStatements(db, current.id, patch.tagList),
          ]
        : []),
      ...contributeArticle(db, current.id),
      ...articleChangedWebhook(db, current.id, current.status, schedule.status, now),
      articleByIdQuery(db, current.id, viewerId),
    ]);
    return results[results.length - 1] as ArticleDetailRow[];
  });
  // Deleted between the read and the batch.
  if (!row) throw AppError.notFound('article');
  return { article: row, public: current.status === 'published' || row.status === 'published' };
}

/**
 * One D1 round trip. The deletes only match an article the viewer may delete — their own, or, with
 * `deleteAny` (permission delete:any-article: moderation), any article they can read — so a refused
 * request changes nothing and the first statement tells 404 from 403. Someone else's article is
 * audited in the same batch, under the same condition. Comments, favorites and tag links go with the
 * article (ON DELETE CASCADE); the search row and tag counts are removed explicitly.
 */
export async function deleteArticle(
  db: Database,
  actor: AuditActor,
  slug: string,
  now: Date,
  options: { deleteAny: boolean } = { deleteAny: false },
): Promise<{ public: boolean }> {
  const viewerId = actor.actorId;
  const deletable = and(
    eq(articles.slug, slug),
    options.deleteAny ? readableBy(viewerId) : eq(articles.authorId, viewerId),
  )!;
  const target = sql`(SELECT ${articles.id} FROM ${articles} WHERE ${deletable})`;
  const [found] = await db.batch([
    db
      .select({ id: articles.id, authorId: articles.authorId, status: articles.status })
      .from(articles)
      .where(and(eq(articles.slug, slug), readableBy(viewerId)))
      .limit(1),
    ...(options.deleteAny
      ? [
          auditStatement(
            db,
            actor,
            {
              action: 'article.delete',
              targetType: 'article',
              targetId: sql`CAST(${articles.id} AS TEXT)`,
              from: articles,
              where: and(deletable, ne(articles.authorId, viewerId))!,
              before: auditedArticle,
              after: null,
            },
            now,
          ),
        ]
      : []),
    ...withdrawArticle(db, target),
    webhookEventStatement(
      db,
      'article.deleted',
      articleEventData(
        sql`(SELECT ${articles.id} FROM ${articles} WHERE ${articles.id} = ${target} AND ${articles.status} = 'published')`,
      ),
      now,
    ),
    db.delete(articles).where(deletable),
  ]);
  const article = found[0];
  if (!article) throw AppError.notFound('article');
  if (article.authorId !== viewerId && !options.deleteAny) throw AppError.forbidden('article');
  // Only a published article was in any public read.
  return { public: article.status === 'published' };
}

/** Favorites and unfavorites together, per account: generous for readers, a brake on like-farming bots. */
export const FAVORITE_LIMIT: WindowLimit = { limit: 300, windowSeconds: 3600 };
const favoriteKey = (viewerId: string) => `favorite:${viewerId}`;

/**
 * One D1 round trip: the limit's guard, the favorite's insert or delete (`change`), the counter (it
 * moves only when a favorite row really changed, see favoritesCountStatement), and the article read back.
 */
async function changeFavorite(
  db: Database,
  viewerId: string,
  slug: string,
  now: Date,
  change: BatchItem<'sqlite'>,
  delta: 1 | -1,
): Promise<ArticleDetailRow> {
  const [, , , , found] = await db
    .batch([
      ...limitGuard(db, favoriteKey(viewerId), FAVORITE_LIMIT, now),
      change,
      favoritesCountStatement(db, slug, delta),
      articleBySlugQuery(db, slug, viewerId),
    ])
    .catch((err: unknown) => rethrowWhenLimited(err, FAVORITE_LIMIT, now));
  if (!found[0]) throw AppError.notFound('article');
  return found[0];
}

export function favoriteArticle(db: Database, viewerId: string, slug: string, now: Date): Promise<ArticleDetailRow> {
  const insert = db
    .insert(favorites)
    .select(
      db
        .select(insertSelectRow(favorites, { userId: viewerId, articleId: articles.id, createdAt: now }))
        .from(articles)
        .where(and(eq(articles.slug, slug), readableBy(viewerId))),
    )
    .onConflictDoNothing();
  return changeFavorite(db, viewerId, slug, now, insert, 1);
}

export function unfavoriteArticle(db: Database, viewerId: string, slug: string, now: Date): Promise<ArticleDetailRow> {
  const remove = db
    .delete(favorites)
    .where(
      and(
        eq(favorites.userId, viewerId),
        sql`${favorites.articleId} = (SELECT ${articles.id} FROM ${articles} WHERE ${articles.slug} = ${slug} AND ${readableBy(viewerId)})`,
      ),
    );
  return changeFavorite(db, viewerId, slug, now, remove, -1);
}

/**
 * Publishes scheduled articles whose `publishAt` has passed, oldest due first, at most
 * `PUBLISH_BATCH_SIZE` per call (a caller may call again while it returns that many). One batch: the
 * stored counts and copies (`contributeDueArticles`) are written for exactly the set the final UPDATE
 * flips, because every statement selects the same due set before the flip, inside one transaction.
 * `publishedAt` is the scheduled time, not the cron's.
 */
export async function publishDueArticles(db: Database, now: Date): Promise<number> {
  const due = sql`(SELECT ${articles.id} FROM ${articles} WHERE ${articles.status} = 'scheduled' AND ${articles.publishAt} <= ${now.getTime()}
    ORDER BY ${articles.publishAt}, ${articles.id} LIMIT ${PUBLISH_BATCH_SIZE})`;
  const results = await db.batch(publishStatements(db, due, now));
  return (results[results.length - 1] as { id: number }[]).length;
}

/**
 * The batch that publishes the scheduled articles in `due` (a parenthesized subquery of ids): their
 * stored counts and copies, then the flip, which returns the published ids last.
 */
export function publishStatements(db: Database, due: SQL, now: Date) {
  return [
    ...contributeDueArticles(db, due),
    // article.published for each, written before the flip (which empties the due set), so its data
    // states what the flip is about to make true.
    webhookEventPerRowStatement(
      db,
      'article.published',
      due,
      (id) =>
        sql`json_set(${articleEventData(id)}, '$.status', 'published', '$.publishedAt',
          (SELECT strftime('%Y-%m-%dT%H:%M:%fZ', p.publish_at / 1000.0, 'unixepoch') FROM ${articles} p WHERE p.id = ${id}))`,
      now,
    ),
    db
      .update(articles)
      .set({ status: 'published', publishedAt: sql`${articles.publishAt}`, publishAt: null, updatedAt: now })
      .where(sql`${articles.id} IN ${due}`)
      .returning({ id: articles.id }),
  ] as const;
}
