import { z } from '@hono/zod-openapi';

export const TagsResponse = z
  .object({
    tags: z
      .array(z.string())
      .openapi({ description: 'Every tag carried by at least one published article, most used first.' }),
  })
  .openapi('TagsResponse', { description: 'The tags in use.', example: { tags: ['reactjs', 'angularjs'] } });
