import { z } from '@hono/zod-openapi';
import { BLANK, requiredText, SlugParam } from '../lib/validation';
import { Profile } from '../profiles/profiles.schemas';

const COMMENT_MAX_LENGTH = 5000;

export const CommentIdParams = SlugParam.extend({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'must be a positive integer')
    .transform(Number)
    .openapi({ param: { name: 'id', in: 'path', description: "The comment's `id`." }, type: 'integer', example: 1 }),
});

export const NewCommentBody = z
  .object({
    comment: z.object({
      body: requiredText(COMMENT_MAX_LENGTH).openapi({
        description: `Text, 1–${COMMENT_MAX_LENGTH} characters.`,
        example: 'His name was my name too.',
      }),
    }),
  })
  .openapi('NewCommentRequest', {
    description: 'A new comment on an article.',
    example: { comment: { body: 'His name was my name too.' } },
  });

const Comment = z
  .object({
    id: z.number().int().openapi({ description: 'Comment id (an integer).' }),
    createdAt: z.string().openapi({ format: 'date-time', description: 'When it was written.' }),
    updatedAt: z.string().openapi({ format: 'date-time', description: 'Last change.' }),
    body: z.string().openapi({ description: 'Text.' }),
    hidden: z.literal(true).optional().openapi({
      description: 'Present only on your own comment that a moderator hid: nobody else sees it until it is unhidden.',
    }),
    author: Profile,
  })
  .openapi('Comment', { description: 'A comment on an article.' });

const exampleComment = {
  id: 1,
  createdAt: '2026-11-23T21:50:36.123Z',
  updatedAt: '2026-11-23T21:50:36.123Z',
  body: 'It takes a Jacobian',
  author: { username: 'jake', bio: 'I work at statefarm', image: null, following: false },
};

export const SingleCommentResponse = z
  .object({ comment: Comment })
  .openapi('SingleCommentResponse', { description: 'One comment.', example: { comment: exampleComment } });
export const MultipleCommentsResponse = z
  .object({ comments: z.array(Comment).openapi({ description: 'Newest first.' }) })
  .openapi('MultipleCommentsResponse', {
    description: "An article's comments.",
    example: { comments: [exampleComment] },
  });

export const ReportCommentBody = z
  .object({
    report: z
      .object({
        reason: z
          .string({ error: BLANK })
          .trim()
          .min(1, BLANK)
          .max(1000, 'is too long (maximum is 1000 characters)')
          .openapi({ example: 'Spam', description: 'What is wrong with the comment (1–1000 characters).' }),
      })
      .openapi({ description: 'The report.' }),
  })
  .openapi('ReportCommentRequest', {
    description: 'Report a comment to the moderators.',
    example: { report: { reason: 'Spam' } },
  });

export const ReportResponse = z
  .object({
    report: z
      .object({
        id: z.number().int().openapi({ description: 'Report id.' }),
        status: z.enum(['open', 'resolved']).openapi({ description: 'open until a moderator resolves it.' }),
        createdAt: z.string().openapi({ format: 'date-time', description: 'When it was reported.' }),
      })
      .openapi({ description: 'Your report.' }),
  })
  .openapi('CommentReportResponse', { description: 'The report (the first one, if you reported it before).' });
