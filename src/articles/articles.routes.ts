import { createRoute } from '@hono/zod-openapi';
import { viewerOf, type Viewer } from '../billing/membership';
import { getConfig } from '../config';
import { can } from '../security/permissions';
import { optionalAuth, requireAuth, requirePermission } from '../sessions/sessions.middleware';
import { createRouter } from '../router';
import { idempotencyClaim, idempotent } from '../middleware/idempotency';
import { errors, IdempotencyHeaders, jsonBody, jsonResponse, tokenAuth } from '../openapi';
import { conditionalJson } from '../http/conditional-json';
import { edgeCached } from '../http/edge-cache';
import { SlugParam } from '../lib/validation';
import { toArticle, toArticleListItem } from './articles.present';
import {
  ListQuery,
  MultipleArticlesResponse,
  NewArticleBody,
  PageQuery,
  SingleArticleResponse,
  UpdateArticleBody,
} from './articles.schemas';
import {
  createArticle,
  deleteArticle,
  favoriteArticle,
  getArticle,
  listArticles,
  listFeed,
  unfavoriteArticle,
  updateArticle,
  type ArticlePage,
} from './articles.service';

export const articlesRouter = createRouter();
const tags = ['Articles'];

const notModified = { description: 'Not modified (the `If-None-Match` ETag still matches)' };

function toList(page: ArticlePage, viewer: Viewer | null) {
  return {
    articles: page.rows.map((row) => toArticleListItem(row, viewer)),
    articlesCount: page.count,
    nextBefore: page.nextBefore,
  };
}

// Registered before `/articles/{slug}`, so "feed" is never read as a slug.
articlesRouter.openapi(
  createRoute({
    method: 'get',
    path: '/articles/feed',
    tags,
    summary: 'Articles by followed authors, newest first',
    description:
      "Published articles of the users you follow, as list items (no `body`). Paged with `limit`/`offset`, or (Folio extension) with `before` = the previous page's `nextBefore`: a cursor page costs the same at any depth and neither skips nor repeats articles published while the reader scrolls. `articlesCount` is the total. Answers 304 to a matching `If-None-Match`.",
    security: tokenAuth,
    middleware: requireAuth,
    request: { query: PageQuery },
    responses: {
      200: jsonResponse(MultipleArticlesResponse, 'A page of the feed'),
      304: notModified,
      401: errors[401],
      422: errors[422],
    },
  }),
  async (c) => {
    const { userId } = c.get('auth');
    const page = await listFeed(c.get('db'), userId, c.req.valid('query'));
    return conditionalJson(c, toList(page, viewerOf(userId)), userId);
  },
);

articlesRouter.openapi(
  createRoute({
    method: 'get',
    path: '/articles',
    tags,
    summary: 'Articles, newest first (or best match first with `q`)',
    description:
      "Filters combine. `articlesCount` is the total number of matches. Items have no `body`. Folio extensions: `q` (full-text search), `status=draft|scheduled` (your own, needs a token), `before` (cursor pages of published lists: pass the previous page's `nextBefore`).",
    middleware: [edgeCached, optionalAuth] as const,
    request: { query: ListQuery },
    responses: {
      200: jsonResponse(MultipleArticlesResponse, 'A page of articles'),
      304: notModified,
      401: errors[401],
      422: errors[422],
    },
  }),
  async (c) => {
    const userId = c.get('auth')?.userId ?? null;
    const page = await listArticles(c.get('db'), c.req.valid('query'), userId);
    return conditionalJson(c, toList(page, viewerOf(userId)), userId);
  },
);

articlesRouter.openapi(
  createRoute({
    method: 'get',
    path: '/articles/{slug}',
    tags,
    summary: 'One article',
    description:
      'Drafts and scheduled articles are visible to their author only. Without access to the body, `body` is null and `locked` true.',
    middleware: [edgeCached, optionalAuth] as const,
    request: { params: SlugParam },
    responses: {
      200: jsonResponse(SingleArticleResponse, 'The article'),
      304: notModified,
      404: errors[404],
      422: errors[422],
    },
  }),
  async (c) => {
    const userId = c.get('auth')?.userId ?? null;
    const row = await getArticle(c.get('db'), c.req.valid('param').slug, userId);
    return conditionalJson(c, { article: toArticle(row, viewerOf(userId)) }, userId);
  },
);

articlesRouter.openapi(
  createRoute({
    method: 'post',
    path: '/articles',
    tags,
    summary: 'Create an article',
    description:
      'Answers 201 with the article. The slug comes from the title (made unique, so duplicate titles are fine). Folio extensions: `status` (draft, scheduled with `publishAt`) and `visibility`. Needs the permission `publish:article` (every member, unless ONLY_AUTHORS_PUBLISH=true: then authors, editors and admins). At most ARTICLE_CREATE_LIMIT_PER_HOUR (30) new articles per account per hour, drafts included: then 429 with `Retry-After`.',
    security: tokenAuth,
    middleware: [requireAuth, requirePermission('publish:article'), idempotent] as const,
    request: { headers: IdempotencyHeaders, ...jsonBody(NewArticleBody) },
    responses: {
      201: jsonResponse(SingleArticleResponse, 'Created'),
      401: errors[401],
      403: errors[403],
      409: errors[409],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const { userId } = c.get('auth');
    const row = await createArticle(c.get('db'), userId, c.req.valid('json').article, new Date(), {
      limitPerHour: getConfig(c.env).articleCreateLimitPerHour,
      alsoInBatch: idempotencyClaim(c),
    });
    if (row.status !== 'published') c.set('publicReadsUnchanged', true);
    return c.json({ article: toArticle(row, { userId }) }, 201);
  },
);

articlesRouter.openapi(
  createRoute({
    method: 'put',
    path: '/articles/{slug}',
    tags,
    summary: 'Update an article (its author, or an editor)',
    description:
      "A new title gives a new slug. Omitting `tagList` keeps the tags, `[]` clears them. Editors and admins (permission `edit:any-article`) may update any article they can read; that is audited (`article.update`) when it is someone else's.",
    security: tokenAuth,
    middleware: requireAuth,
    request: { params: SlugParam, ...jsonBody(UpdateArticleBody) },
    responses: {
      200: jsonResponse(SingleArticleResponse, 'Updated'),
      401: errors[401],
      403: errors[403],
      404: errors[404],
      422: errors[422],
    },
  }),
  async (c) => {
    const { userId, role } = c.get('auth');
    const updated = await updateArticle(
      c.get('db'),
      { actorId: userId, requestId: c.get('requestId') },
      c.req.valid('param').slug,
      c.req.valid('json').article,
      new Date(),
      { editAny: can(role, 'edit:any-article', getConfig(c.env)) },
    );
    if (!updated.public) c.set('publicReadsUnchanged', true);
    return c.json({ article: toArticle(updated.article, { userId }) }, 200);
  },
);

articlesRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/articles/{slug}',
    tags,
    summary: 'Delete an article (its author, or an editor), with its comments and favorites',
    description:
      "Answers 204 with no body. The author may delete their article; editors and admins (permission `delete:any-article`) may delete any article they can read, for moderation — audited (`article.delete`) when it is someone else's. Anyone else: 403 (404 when they cannot read it). Sends `article.deleted` for a published article.",
    security: tokenAuth,
    middleware: requireAuth,
    request: { params: SlugParam },
    responses: { 204: { description: 'Deleted' }, 401: errors[401], 403: errors[403], 404: errors[404] },
  }),
  async (c) => {
    const { userId, role } = c.get('auth');
    const deleted = await deleteArticle(
      c.get('db'),
      { actorId: userId, requestId: c.get('requestId') },
      c.req.valid('param').slug,
      new Date(),
      { deleteAny: can(role, 'delete:any-article', getConfig(c.env)) },
    );
    if (!deleted.public) c.set('publicReadsUnchanged', true);
    return c.body(null, 204);
  },
);

articlesRouter.openapi(
  createRoute({
    method: 'post',
    path: '/articles/{slug}/favorite',
    tags: ['Favorites'],
    summary: 'Favorite an article (idempotent)',
    description:
      'Answers the whole article with `favorited: true` and the new `favoritesCount`.' +
      ' Favorites and unfavorites together: at most 300 an hour per account (429 with `Retry-After`).',
    security: tokenAuth,
    middleware: requireAuth,
    request: { params: SlugParam },
    responses: {
      200: jsonResponse(SingleArticleResponse, 'The article'),
      401: errors[401],
      404: errors[404],
      429: errors[429],
    },
  }),
  async (c) => {
    const { userId } = c.get('auth');
    const row = await favoriteArticle(c.get('db'), userId, c.req.valid('param').slug, new Date());
    return c.json({ article: toArticle(row, { userId }) }, 200);
  },
);

articlesRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/articles/{slug}/favorite',
    tags: ['Favorites'],
    summary: 'Unfavorite an article (idempotent)',
    description:
      'Answers the whole article with `favorited: false` and the new `favoritesCount`.' +
      ' Favorites and unfavorites together: at most 300 an hour per account (429 with `Retry-After`).',
    security: tokenAuth,
    middleware: requireAuth,
    request: { params: SlugParam },
    responses: {
      200: jsonResponse(SingleArticleResponse, 'The article'),
      401: errors[401],
      404: errors[404],
      429: errors[429],
    },
  }),
  async (c) => {
    const { userId } = c.get('auth');
    const row = await unfavoriteArticle(c.get('db'), userId, c.req.valid('param').slug, new Date());
    return c.json({ article: toArticle(row, { userId }) }, 200);
  },
);
