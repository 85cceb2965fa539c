import { createRoute } from '@hono/zod-openapi';
import { conditionalJson } from '../http/conditional-json';
import { edgeCached } from '../http/edge-cache';
import { createRouter } from '../router';
import { jsonResponse } from '../openapi';
import { TagsResponse } from './tags.schemas';
import { listTags } from './tags.service';

export const tagsRouter = createRouter();

tagsRouter.openapi(
  createRoute({
    method: 'get',
    path: '/tags',
    tags: ['Tags'],
    summary: 'Tags in use',
    description:
      'Every tag carried by at least one published article, most used first (no top-N cut). Answers 304 to a matching `If-None-Match`.',
    middleware: edgeCached,
    responses: {
      200: jsonResponse(TagsResponse, 'Every tag of a published article'),
      304: { description: 'Not modified (the `If-None-Match` ETag still matches)' },
    },
  }),
  async (c) => conditionalJson(c, { tags: await listTags(c.get('db')) }, null),
);
