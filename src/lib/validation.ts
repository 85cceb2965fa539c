/**
 * The validation pieces every feature's zod schemas share, so a message or a limit reads the same
 * everywhere. Messages follow the RealWorld/Rails wording the contract tests pin.
 */
import { z } from '@hono/zod-openapi';

/** A missing or blank required field. */
export const BLANK = "can't be blank";

/** `is too long (maximum is N characters)` (or another unit). */
export const tooLong = (max: number, unit = 'characters') => `is too long (maximum is ${max} ${unit})`;

/** A required string, trimmed, not blank, at most `max` characters. */
export const requiredText = (max: number) =>
  z.string({ error: 'must be a string' }).trim().min(1, BLANK).max(max, tooLong(max));

/** A required string kept as sent (passwords, Markdown bodies): present and at most `max` characters. */
export const requiredRawText = (max: number) =>
  z.string({ error: 'must be a string' }).min(1, BLANK).max(max, tooLong(max));

/** Longest slug accepted in a path (generated slugs are far shorter). */
const SLUG_PARAM_MAX_LENGTH = 200;

/** The `:slug` path parameter of every article route (articles, comments, favorites). */
export const SlugParam = z.object({
  slug: z
    .string()
    .min(1)
    .max(SLUG_PARAM_MAX_LENGTH)
    .openapi({
      param: { name: 'slug', in: 'path', description: "The article's `slug`." },
      example: 'how-to-train-your-dragon',
    }),
});
