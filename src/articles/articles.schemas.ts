import { z } from '@hono/zod-openapi';
import { ARTICLE_STATUSES, ARTICLE_VISIBILITIES } from '../db/values';
import { BLANK, requiredText, tooLong } from '../lib/validation';
import { Profile } from '../profiles/profiles.schemas';
import { ARTICLE_CURSOR } from './articles.queries';

const MAX_TAGS = 20;
const MAX_TAG_LENGTH = 64;
const MAX_LIMIT = 100;
export const DEFAULT_LIMIT = 20;
const MAX_OFFSET = 2_147_483_647;

/** The body keeps its exact text (Markdown whitespace matters); only a blank body is refused. */
const bodyText = z
  .string({ error: BLANK })
  .max(100_000, tooLong(100_000))
  .refine((v) => v.trim().length > 0, BLANK);

/** Trimmed, blanks dropped, duplicates removed, order kept. `null` is refused (omit the key to keep tags). */
const tagListSchema = z
  .array(
    z
      .string({ error: 'must be an array of strings' })
      .max(MAX_TAG_LENGTH, `entries are too long (maximum is ${MAX_TAG_LENGTH} characters)`),
    {
      error: 'must be an array of strings',
    },
  )
  .max(MAX_TAGS, tooLong(MAX_TAGS, 'tags'))
  .transform((tags) => normalizeTags(tags))
  .openapi({
    description: `Up to ${MAX_TAGS} tags of at most ${MAX_TAG_LENGTH} characters; trimmed, blanks and duplicates dropped, order kept.`,
    example: ['dragons', 'training'],
  });

function normalizeTags(tags: string[]): string[] {
  const seen = new Set<string>();
  for (const raw of tags) {
    const tag = raw.trim();
    if (tag !== '' && !seen.has(tag)) seen.add(tag);
  }
  return [...seen];
}

const statusSchema = z.enum(ARTICLE_STATUSES, { error: `must be one of ${ARTICLE_STATUSES.join(', ')}` }).openapi({
  description:
    'Folio extension. `draft` and `scheduled` articles are visible only to their author. Default `published`.',
});

const visibilitySchema = z
  .enum(ARTICLE_VISIBILITIES, { error: `must be one of ${ARTICLE_VISIBILITIES.join(', ')}` })
  .openapi({
    description:
      'Folio extension. Who may read the body: `public` (anyone, default), `members` (signed-in), `paid` (see billing).',
  });

const publishAtSchema = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time' })
  .transform((v) => new Date(v))
  .nullable()
  .optional()
  .openapi({
    description: 'Folio extension: when a `scheduled` article is published (must be in the future).',
    example: '2030-01-01T09:00:00.000Z',
  });

const titleSchema = requiredText(200).openapi({
  description: 'At most 200 characters; the slug is made from it.',
  example: 'How to train your dragon',
});
const descriptionSchema = requiredText(1000).openapi({
  description: 'Short summary shown in lists, at most 1000 characters.',
  example: 'Ever wonder how?',
});
const bodySchema = bodyText.openapi({
  description: 'Markdown, at most 100000 characters, kept exactly as sent.',
  example: 'You have to believe',
});
const priceSchema = z
  .number({ error: 'must be an integer amount in minor units' })
  .int('must be an integer amount in minor units')
  .min(50, 'must be at least 50')
  .max(1_000_000, 'must be at most 1000000')
  .nullable()
  .optional()
  .openapi({
    description:
      'Folio extension: price of buying this `paid` article alone, in minor units of `currency` (e.g. 300 = 3.00). `null` clears it (members only).',
    example: 300,
  });

const currencySchema = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'must be a 3-letter ISO 4217 code')
  .transform((v) => v.toUpperCase())
  .nullable()
  .optional()
  .openapi({ description: 'Folio extension: ISO 4217 code of `price` (e.g. `USD`).', example: 'USD' });

export const NewArticleBody = z
  .object({
    article: z.object({
      title: titleSchema,
      description: descriptionSchema,
      body: bodySchema,
      tagList: tagListSchema.optional(),
      status: statusSchema.optional(),
      visibility: visibilitySchema.optional(),
      publishAt: publishAtSchema,
      price: priceSchema,
      currency: currencySchema,
    }),
  })
  .openapi('NewArticleRequest', {
    description: 'A new article: `title`, `description` and `body` are required; everything else is optional.',
    example: {
      article: {
        title: 'How to train your dragon',
        description: 'Ever wonder how?',
        body: 'You have to believe',
        tagList: ['dragons', 'training'],
      },
    },
  });

export const UpdateArticleBody = z
  .object({
    article: z.object({
      title: titleSchema.optional().openapi({ description: 'At most 200 characters; a new title gives a new slug.' }),
      description: descriptionSchema.optional(),
      body: bodySchema.optional(),
      tagList: tagListSchema
        .optional()
        .openapi({ description: 'Omit to keep the tags, `[]` to clear them; `null` is refused.' }),
      status: statusSchema.optional(),
      visibility: visibilitySchema.optional(),
      publishAt: publishAtSchema,
      price: priceSchema,
      currency: currencySchema,
    }),
  })
  .openapi('UpdateArticleRequest', {
    description: 'Only the fields sent change; the author only.',
    example: { article: { title: 'Did you train your dragon?', tagList: ['dragons'] } },
  });

export type NewArticleInput = z.infer<typeof NewArticleBody>['article'];
export type ArticlePatch = z.infer<typeof UpdateArticleBody>['article'];

const intParam = (min: number, max: number, name: string) =>
  z
    .string()
    .regex(/^\d{1,10}$/, `must be an integer between ${min} and ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `must be an integer between ${min} and ${max}`)
        .max(max, `must be an integer between ${min} and ${max}`),
    )
    .optional()
    .openapi({ param: { name, in: 'query' }, type: 'integer', minimum: min, maximum: max });

export const PageQuery = z.object({
  limit: intParam(1, MAX_LIMIT, 'limit').openapi({
    description: `Page size, 1–${MAX_LIMIT} (default ${DEFAULT_LIMIT}).`,
  }),
  offset: intParam(0, MAX_OFFSET, 'offset').openapi({ description: 'Articles to skip (default 0).' }),
  before: z
    .string()
    .regex(ARTICLE_CURSOR, 'must be a `nextBefore` value from a previous page')
    .optional()
    .openapi({
      param: { name: 'before', in: 'query' },
      description:
        'Folio extension: the `nextBefore` of the previous page. The page starts with the next older article, whatever was published meanwhile; `offset` counts from there. Published lists only (not with `q` or `status`).',
    }),
});

const optionalText = (name: string, description: string) =>
  z
    .string()
    .max(200, tooLong(200))
    .optional()
    .openapi({ param: { name, in: 'query' }, description });

export const ListQuery = PageQuery.extend({
  tag: optionalText('tag', 'Only articles with this tag.'),
  author: optionalText('author', 'Only articles by this username.'),
  favorited: optionalText('favorited', 'Only articles favorited by this username.'),
  q: optionalText(
    'q',
    'Folio extension: full-text search over title, description and public bodies, ranked by relevance.',
  ),
  status: statusSchema.optional().openapi({
    param: { name: 'status', in: 'query' },
    description:
      "Folio extension: `draft` or `scheduled` lists the signed-in viewer's own articles (401 when anonymous).",
  }),
});

export type ListQueryInput = z.infer<typeof ListQuery>;

const articleFields = {
  slug: z.string().openapi({ description: 'URL identifier, unique; changes when the title changes.' }),
  title: z.string().openapi({ description: 'Title.' }),
  description: z.string().openapi({ description: 'Short summary.' }),
  tagList: z.array(z.string()).openapi({ description: 'Tags, in the order the author gave them.' }),
  createdAt: z.string().openapi({ format: 'date-time', description: 'Creation time (ISO 8601, milliseconds).' }),
  updatedAt: z.string().openapi({ format: 'date-time', description: 'Last change (ISO 8601, milliseconds).' }),
  favorited: z.boolean().openapi({ description: 'Whether the viewer favorited it (false when anonymous).' }),
  favoritesCount: z.number().int().openapi({ description: 'How many users favorited it.' }),
  author: Profile,
  status: z.enum(ARTICLE_STATUSES).openapi({ description: 'Folio extension: `draft`, `published` or `scheduled`.' }),
  visibility: z
    .enum(ARTICLE_VISIBILITIES)
    .openapi({ description: 'Folio extension: who may read the body (`public`, `members` or `paid`).' }),
  publishAt: z
    .string()
    .nullable()
    .openapi({ format: 'date-time', description: 'Folio extension: set for `scheduled` articles.' }),
  publishedAt: z
    .string()
    .nullable()
    .openapi({ format: 'date-time', description: 'Folio extension: when it was published; lists sort by it.' }),
  price: z
    .number()
    .int()
    .nullable()
    .openapi({ description: 'Folio extension: price of the article alone (minor units).' }),
  currency: z.string().nullable().openapi({ description: 'Folio extension: ISO 4217 code of `price`.' }),
  locked: z.boolean().openapi({ description: 'Folio extension: true when the viewer may not read the body.' }),
};

const Article = z
  .object({
    ...articleFields,
    body: z.string().nullable().openapi({ description: '`null` when `locked` (Folio extension).' }),
  })
  .openapi('Article', { description: 'An article with its body (unless `locked`).' });

const ArticleListItem = z
  .object(articleFields)
  .openapi('ArticleListItem', { description: 'An article in a list or feed: everything but the `body`.' });

const exampleAuthor = { username: 'jake', bio: 'I work at statefarm', image: null, following: false };
const exampleListItem = {
  slug: 'how-to-train-your-dragon',
  title: 'How to train your dragon',
  description: 'Ever wonder how?',
  tagList: ['dragons', 'training'],
  createdAt: '2026-11-23T21:50:36.123Z',
  updatedAt: '2026-11-23T21:50:36.123Z',
  favorited: false,
  favoritesCount: 0,
  author: exampleAuthor,
  status: 'published' as const,
  visibility: 'public' as const,
  publishAt: null,
  publishedAt: '2026-11-23T21:50:36.123Z',
  price: null,
  currency: null,
  locked: false,
};

export const SingleArticleResponse = z.object({ article: Article }).openapi('SingleArticleResponse', {
  description: 'One article.',
  example: { article: { ...exampleListItem, body: 'You have to believe' } },
});
export const MultipleArticlesResponse = z
  .object({
    articles: z.array(ArticleListItem).openapi({ description: 'This page, newest first (best match first with `q`).' }),
    articlesCount: z.number().int().openapi({ description: 'Total matches across all pages.' }),
    nextBefore: z.string().nullable().openapi({
      description:
        'Folio extension: pass as `before` for the next page (cheaper than `offset` deep in a list, and stable while new articles arrive); `null` when no page follows, and on search results and drafts.',
    }),
  })
  .openapi('MultipleArticlesResponse', {
    description: 'A page of articles.',
    example: { articles: [exampleListItem], articlesCount: 1, nextBefore: null },
  });
