import { and, desc, eq, not, sql } from 'drizzle-orm';
import { readableArticleQuery } from '../articles/articles.queries';
import { canReadBody, viewerOf } from '../billing/membership';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Database } from '../db/client';
import { compiledQuery, placeholder, type Bindable } from '../db/compiled';
import { articles, commentReports, comments, users } from '../db/schema';
import { flag, insertSelectRow } from '../db/computed';
import { AppError } from '../errors';
import { followingExpr } from '../profiles/profiles.queries';
import { banInForce, isBanned } from '../security/permissions';
import { commentEventData, webhookEventStatement } from '../webhooks/webhooks.outbox';
import { assertWithinLimit, hitStatement, withinLimit, type WindowLimit } from '../security/rate-limit';
import type { CommentRow } from './comments.present';

/** Per-user limit on new comments. */
const COMMENT_LIMIT: WindowLimit = { limit: 10, windowSeconds: 60 };
/** RealWorld has no comment pagination; the newest this many are returned. */
export const MAX_COMMENTS_LISTED = 500;

type ReadableRow = Awaited<ReturnType<typeof readableArticleQuery>>[number];

/**
 * How a viewer may use an article's discussion: `hidden` (unknown, or someone else's draft/scheduled
 * article, which `readableArticleQuery` does not return: answered as 404), `locked` (visible, but
 * `canReadBody` says no, so the discussion is withheld too) or `open`.
 */
function articleAccess(article: ReadableRow | undefined, viewerId: string | null): 'hidden' | 'locked' | 'open' {
  if (!article) return 'hidden';
  return canReadBody(viewerOf(viewerId), article) ? 'open' : 'locked';
}

const articleIdBySlug = (slug: Bindable<string>) =>
  sql`(SELECT ${articles.id} FROM ${articles} WHERE ${articles.slug} = ${slug})`;

/** An article's comments joined to their authors, with the viewer's `following` (exported for the query-plan test). */
export function commentsQuery(db: Database, slug: Bindable<string>, viewerId: Bindable<string> | null) {
  return db
    .select({
      id: comments.id,
      createdAt: comments.createdAt,
      updatedAt: comments.updatedAt,
      body: comments.body,
      // Only its author can see a hidden comment, so only they are told it is hidden.
      hidden: flag(viewerId ? sql`${comments.hiddenAt} IS NOT NULL` : null, 'hidden'),
      author: {
        username: users.username,
        bio: users.bio,
        image: users.image,
        following: followingExpr(viewerId, comments.authorId),
      },
    })
    .from(comments)
    .innerJoin(users, eq(users.id, comments.authorId))
    .where(
      and(
        sql`${comments.articleId} = ${articleIdBySlug(slug)}`,
        // Hidden by a moderator: only its author still sees it.
        viewerId
          ? sql`(${comments.hiddenAt} IS NULL OR ${comments.authorId} = ${viewerId})`
          : sql`${comments.hiddenAt} IS NULL`,
      ),
    )
    .orderBy(desc(comments.createdAt), desc(comments.id))
    .limit(MAX_COMMENTS_LISTED);
}

/**
 * The article's comments, newest first, with each author's profile and the viewer's `following`, in
 * ONE round trip: the article lookup and the comments join run in the same batch (the comments are
 * selected through a subquery on the slug, so neither statement waits for the other).
 * A locked article's discussion is withheld: an empty list, the article itself stays visible.
 */
const compiledArticle = compiledQuery((db, viewer: 'anonymous' | 'viewer') =>
  readableArticleQuery(db, placeholder('slug'), viewer === 'viewer' ? placeholder('viewerId') : null),
);
const compiledComments = compiledQuery((db, viewer: 'anonymous' | 'viewer') =>
  commentsQuery(db, placeholder('slug'), viewer === 'viewer' ? placeholder('viewerId') : null),
);

export async function listComments(db: Database, slug: string, viewerId: string | null): Promise<CommentRow[]> {
  const viewer = viewerId === null ? 'anonymous' : 'viewer';
  const [found, rows] = await db.batch([
    compiledArticle(db, viewer, { slug, viewerId }),
    compiledComments(db, viewer, { slug, viewerId }),
  ]);
  const access = articleAccess(found[0], viewerId);
  if (access === 'hidden') throw AppError.notFound('article');
  return access === 'open' ? rows : [];
}

/**
 * Adds a comment in two round trips: (1) the article and the author's profile, (2) the rate-limit
 * counter and the insert in one atomic batch. The insert only happens while the counter is within
 * the limit and the article still exists, so neither a race nor a flood gets past it.
 */
export async function addComment(
  db: Database,
  slug: string,
  viewerId: string,
  body: string,
  now: Date,
  /** Statements that must commit with the comment or not at all (an Idempotency-Key claim). */
  alsoInBatch: BatchItem<'sqlite'>[] = [],
): Promise<CommentRow> {
  const [found, authors] = await db.batch([
    readableArticleQuery(db, slug, viewerId),
    db
      .select({
        username: users.username,
        bio: users.bio,
        image: users.image,
        bannedAt: users.bannedAt,
        bannedUntil: users.bannedUntil,
      })
      .from(users)
      .where(eq(users.id, viewerId))
      .limit(1),
  ]);
  const found0 = authors[0];
  if (!found0) throw AppError.unauthorized();
  if (banInForce(found0, now)) throw new AppError(403, { user: ['is banned'] });
  const author = { username: found0.username, bio: found0.bio, image: found0.image };
  const article = found[0];
  const access = articleAccess(article, viewerId);
  if (!article || access === 'hidden') throw AppError.notFound('article');
  if (access === 'locked') throw AppError.forbidden('article');

  const key = `comment:${viewerId}`;
  const [hits, inserted] = await db.batch([
    hitStatement(db, key, COMMENT_LIMIT, now),
    db
      .insert(comments)
      .select(
        db
          .select(
            insertSelectRow(comments, {
              id: sql`NULL`,
              articleId: articles.id,
              authorId: viewerId,
              body,
              createdAt: now,
              updatedAt: now,
              hiddenAt: null,
            }),
          )
          .from(articles)
          .where(and(eq(articles.id, article.id), withinLimit(key, COMMENT_LIMIT, now), not(isBanned(viewerId, now)))),
      )
      .returning({ id: comments.id }),
    // changes(): the comment above was really inserted (it stays the previous statement's count here).
    webhookEventStatement(
      db,
      'comment.created',
      commentEventData(
        sql`(SELECT ${comments.id} FROM ${comments} WHERE changes() = 1 AND ${comments.authorId} = ${viewerId} AND ${comments.createdAt} = ${now.getTime()} ORDER BY ${comments.id} DESC LIMIT 1)`,
      ),
      now,
    ),
    ...alsoInBatch,
  ]);
  assertWithinLimit(hits[0], COMMENT_LIMIT, now);
  const row = inserted[0];
  if (!row) throw AppError.notFound('article');
  return { id: row.id, createdAt: now, updatedAt: now, body, author: { ...author, following: false } };
}

const REPORT_LIMIT: WindowLimit = { limit: 20, windowSeconds: 3600 };

/**
 * Reports a comment the reporter can see (a hidden one is not visible to them, so 404). Reporting the
 * same comment again is harmless (unique index; the first reason stays). One round trip for the read,
 * one for the counter and the insert.
 */
export async function reportComment(
  db: Database,
  slug: string,
  commentId: number,
  reporterId: string,
  reason: string,
  now: Date,
): Promise<{ id: number; status: 'open' | 'resolved'; createdAt: Date }> {
  const [found, rows] = await db.batch([
    readableArticleQuery(db, slug, reporterId),
    db
      .select({ id: comments.id })
      .from(comments)
      .where(
        and(
          eq(comments.id, commentId),
          sql`${comments.articleId} = ${articleIdBySlug(slug)}`,
          sql`(${comments.hiddenAt} IS NULL OR ${comments.authorId} = ${reporterId})`,
        ),
      )
      .limit(1),
  ]);
  if (articleAccess(found[0], reporterId) !== 'open') throw AppError.notFound('article');
  if (!rows[0]) throw AppError.notFound('comment');
  const key = `report:${reporterId}`;
  const [hits, , report] = await db.batch([
    hitStatement(db, key, REPORT_LIMIT, now),
    db
      .insert(commentReports)
      .select(
        db
          .select(
            insertSelectRow(commentReports, {
              id: sql`NULL`,
              commentId,
              reporterId,
              reason,
              status: 'open',
              resolution: null,
              resolvedBy: null,
              createdAt: now,
              resolvedAt: null,
            }),
          )
          .from(sql`(SELECT 1)`)
          .where(withinLimit(key, REPORT_LIMIT, now)),
      )
      .onConflictDoNothing(),
    db
      .select({ id: commentReports.id, status: commentReports.status, createdAt: commentReports.createdAt })
      .from(commentReports)
      .where(and(eq(commentReports.commentId, commentId), eq(commentReports.reporterId, reporterId))),
  ]);
  const existing = report[0];
  if (existing) return existing;
  assertWithinLimit(hits[0], REPORT_LIMIT, now);
  throw AppError.notFound('comment');
}

/**
 * Deletes a comment. The comment's author or the article's author (moderation) may delete it; the
 * comment's author keeps that right even if they lost access to a locked article. Two round trips.
 */
export async function deleteComment(db: Database, slug: string, commentId: number, viewerId: string): Promise<void> {
  const [found, rows] = await db.batch([
    readableArticleQuery(db, slug, viewerId),
    db
      .select({ id: comments.id, authorId: comments.authorId })
      .from(comments)
      .where(and(eq(comments.id, commentId), sql`${comments.articleId} = ${articleIdBySlug(slug)}`))
      .limit(1),
  ]);
  const article = found[0];
  if (!article || articleAccess(article, viewerId) === 'hidden') throw AppError.notFound('article');
  const comment = rows[0];
  if (!comment) throw AppError.notFound('comment');
  if (comment.authorId !== viewerId && article.authorId !== viewerId) throw AppError.forbidden('comment');
  await db.delete(comments).where(eq(comments.id, comment.id));
}
