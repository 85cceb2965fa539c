import { createRoute } from '@hono/zod-openapi';
import { conditionalJson } from '../http/conditional-json';
import { edgeCached } from '../http/edge-cache';
import { optionalAuth, requireAuth, requirePermission } from '../sessions/sessions.middleware';
import { SlugParam } from '../lib/validation';
import { createRouter } from '../router';
import { idempotencyClaim, idempotent } from '../middleware/idempotency';
import { errors, IdempotencyHeaders, jsonBody, jsonResponse, tokenAuth } from '../openapi';
import { toComment } from './comments.present';
import {
  CommentIdParams,
  MultipleCommentsResponse,
  NewCommentBody,
  ReportCommentBody,
  ReportResponse,
  SingleCommentResponse,
} from './comments.schemas';
import { addComment, deleteComment, listComments, MAX_COMMENTS_LISTED, reportComment } from './comments.service';

export const commentsRouter = createRouter();
const tags = ['Comments'];

commentsRouter.openapi(
  createRoute({
    method: 'get',
    path: '/articles/{slug}/comments',
    tags,
    summary: 'Get comments for an article',
    description: `Authentication optional. Newest first, at most ${MAX_COMMENTS_LISTED}. On a members-only or paid article the viewer cannot read, the list is empty.`,
    middleware: [edgeCached, optionalAuth] as const,
    security: [{}, ...tokenAuth],
    request: { params: SlugParam },
    responses: {
      200: jsonResponse(MultipleCommentsResponse, 'The comments'),
      304: { description: 'Not modified' },
      404: errors[404],
    },
  }),
  async (c) => {
    const viewerId = c.get('auth')?.userId ?? null;
    const rows = await listComments(c.get('db'), c.req.valid('param').slug, viewerId);
    return conditionalJson(c, { comments: rows.map(toComment) }, viewerId);
  },
);

commentsRouter.openapi(
  createRoute({
    method: 'post',
    path: '/articles/{slug}/comments',
    tags,
    summary: 'Create a comment for an article',
    description:
      'Requires read access to the article; banned members get 403 `user`. Limited per user (see 429 and Retry-After).',
    middleware: [requireAuth, idempotent] as const,
    security: tokenAuth,
    request: { params: SlugParam, headers: IdempotencyHeaders, ...jsonBody(NewCommentBody) },
    responses: {
      201: jsonResponse(SingleCommentResponse, 'The new comment'),
      401: errors[401],
      403: errors[403],
      404: errors[404],
      409: errors[409],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const row = await addComment(
      c.get('db'),
      c.req.valid('param').slug,
      c.get('auth').userId,
      c.req.valid('json').comment.body,
      new Date(),
      idempotencyClaim(c),
    );
    return c.json({ comment: toComment(row) }, 201);
  },
);

commentsRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/articles/{slug}/comments/{id}',
    tags,
    summary: 'Delete a comment for an article',
    description: "The comment's author or the article's author may delete it.",
    middleware: requireAuth,
    security: tokenAuth,
    request: { params: CommentIdParams },
    responses: {
      204: { description: 'Deleted' },
      401: errors[401],
      403: errors[403],
      404: errors[404],
      422: errors[422],
    },
  }),
  async (c) => {
    const { slug, id } = c.req.valid('param');
    await deleteComment(c.get('db'), slug, id, c.get('auth').userId);
    return c.body(null, 204);
  },
);

commentsRouter.openapi(
  createRoute({
    method: 'post',
    path: '/articles/{slug}/comments/{id}/report',
    tags,
    summary: 'Report a comment to the moderators',
    description:
      'Reporting the same comment again is harmless (200 with the first report). 20 reports an hour per member.',
    middleware: [requireAuth, requirePermission('report:comment')] as const,
    security: tokenAuth,
    request: { params: CommentIdParams, ...jsonBody(ReportCommentBody) },
    responses: {
      201: jsonResponse(ReportResponse, 'Reported'),
      401: errors[401],
      404: errors[404],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const { slug, id } = c.req.valid('param');
    const now = new Date();
    const report = await reportComment(
      c.get('db'),
      slug,
      id,
      c.get('auth').userId,
      c.req.valid('json').report.reason,
      now,
    );
    return c.json({ report: { id: report.id, status: report.status, createdAt: report.createdAt.toISOString() } }, 201);
  },
);
