import { z } from '@hono/zod-openapi';
import { Profile } from '../profiles/profiles.schemas';

const BLANK = "can't be blank";
export const COMMENT_MAX_LENGTH = 5000;

export const SlugParam = z.object({
  slug: z
    .string()
    .min(1)
    .openapi({ param: { name: 'slug', in: 'path' }, example: 'how-to-train-your-dragon' }),
});

export const CommentIdParams = SlugParam.extend({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'must be a positive integer')
    .transform(Number)
    .openapi({ param: { name: 'id', in: 'path' }, type: 'integer', example: 1 }),
});

export const NewCommentBody = z
  .object({
    comment: z.object({
      body: z
        .string({ error: BLANK })
        .trim()
        .min(1, BLANK)
        .max(COMMENT_MAX_LENGTH, `is too long (maximum is ${COMMENT_MAX_LENGTH} characters)`)
        .openapi({ example: 'His name was my name too.' }),
    }),
  })
  .openapi('NewCommentRequest');

export const Comment = z
  .object({
    id: z.number().int(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
    body: z.string(),
    author: Profile,
  })
  .openapi('Comment');

export const SingleCommentResponse = z.object({ comment: Comment }).openapi('SingleCommentResponse');
export const MultipleCommentsResponse = z.object({ comments: z.array(Comment) }).openapi('MultipleCommentsResponse');
