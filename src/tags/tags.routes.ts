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
    middleware: edgeCached,
    responses: {
      200: jsonResponse(TagsResponse, 'Every tag of a published article'),
      304: { description: 'Not modified' },
    },
  }),
  async (c) => conditionalJson(c, { tags: await listTags(c.var.db) }, null),
);
