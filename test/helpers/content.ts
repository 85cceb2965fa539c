/**
 * Content fixtures, the one set every test uses: single articles go through the real article service
 * (so every stored count and copy is kept exactly as the API keeps it), and `seedPublishedArticles`
 * is the one bulk seeder for the large performance and maintenance tests.
 */
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import {
  createArticle as createArticleRow,
  favoriteArticle,
  publishStatements,
} from '../../src/articles/articles.service';
import { createDb } from '../../src/db/client';
import type { ArticleStatus, Visibility } from '../../src/db/values';
import { unique } from './factories';

export interface ArticleOptions {
  title?: string;
  status?: ArticleStatus;
  visibility?: Visibility;
  tagList?: string[];
  /** Milliseconds since the epoch: when the article is written (and published); defaults to now. */
  at?: number;
}

export interface TestArticle {
  id: number;
  slug: string;
}

/** The id of a registered user (usernames match case-insensitively, as the API does). */
export async function userId(username: string): Promise<string> {
  const row = await env.DB.prepare('SELECT id FROM users WHERE lower(username) = lower(?)')
    .bind(username)
    .first<{ id: string }>();
  if (!row) throw new Error(`no user ${username}`);
  return row.id;
}

/** How many rows `sql` (a SELECT, with `?` for `values`) returns, read straight from D1. */
export async function countRows(sql: string, ...values: unknown[]): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM (${sql})`)
    .bind(...values)
    .first<{ n: number }>();
  return row!.n;
}

/**
 * Creates an article through the article service at time `at`, so tests control status, visibility
 * and time (drafts, scheduled — due an hour later —, members-only, paid) without the HTTP layer.
 * `author` is a user (by username) or a user id.
 */
export async function createArticle(
  author: { username: string } | string,
  options: ArticleOptions = {},
): Promise<TestArticle> {
  const authorId = typeof author === 'string' ? author : await userId(author.username);
  const at = options.at ?? Date.now();
  const status = options.status ?? 'published';
  const row = await createArticleRow(
    createDb(env.DB),
    authorId,
    {
      title: options.title ?? unique('Article '),
      description: 'A description',
      body: 'A body',
      tagList: options.tagList ?? [],
      status,
      visibility: options.visibility ?? 'public',
      publishAt: status === 'scheduled' ? new Date(at + 3_600_000) : undefined,
    },
    new Date(at),
    // Fixtures are not throttled; the per-hour limit is tested through the API (articles.crud.test.ts).
    { limitPerHour: Number.MAX_SAFE_INTEGER },
  );
  return { id: row.id, slug: row.slug };
}

/** Favorites an article as the given user id, through the service (the favorites count follows). */
export async function favorite(userIdValue: string, slug: string, at = Date.now()): Promise<void> {
  await favoriteArticle(createDb(env.DB), userIdValue, slug, new Date(at));
}

/**
 * The bulk seeder: `n` public articles by `authorId` tagged `tag`, published at `start` + i seconds
 * (i = 1..n), slugs `<tag>-<i>`, in two round trips whatever `n`. The rows are inserted as scheduled
 * with their tag links, then published by the scheduled publisher's own batch (`publishStatements`),
 * which keeps every stored count and copy exact (src/articles/articles.derived.ts).
 */
export async function seedPublishedArticles(
  authorId: string,
  n: number,
  tag: string,
  start = Date.UTC(2020, 0, 1),
): Promise<void> {
  await env.DB.batch([
    env.DB.prepare(
      `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
       INSERT INTO articles (slug, title, description, body, author_id, status, visibility, publish_at, tag_list, favorites_count, created_at, updated_at)
       SELECT ? || '-' || i, 'Seeded ' || i, 'd', 'b', ?, 'scheduled', 'public', ? + i * 1000, json_array(?), 0, ? + i * 1000, ? + i * 1000 FROM seq`,
    ).bind(n, tag, authorId, start, tag, start, start),
    env.DB.prepare('INSERT INTO tags (name, articles_count) VALUES (?, 0) ON CONFLICT (name) DO NOTHING').bind(tag),
    env.DB.prepare(
      `INSERT INTO article_tags (article_id, tag_id, position, published_at)
       SELECT a.id, (SELECT id FROM tags WHERE name = ?), 0, NULL FROM articles a WHERE a.slug LIKE ? || '-%' AND a.status = 'scheduled'`,
    ).bind(tag, tag),
  ]);
  const db = createDb(env.DB);
  const due = sql`(SELECT id FROM articles WHERE slug LIKE ${`${tag}-%`} AND status = 'scheduled' AND author_id = ${authorId})`;
  await db.batch(publishStatements(db, due, new Date(start + n * 1000)));
}

/** Inserts a comment row directly (for volume tests that would otherwise hit the rate limit). */
export async function insertComment(
  articleId: number,
  authorId: string,
  body: string,
  at = Date.now(),
): Promise<number> {
  const row = await env.DB.prepare(
    'INSERT INTO comments (article_id, author_id, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id',
  )
    .bind(articleId, authorId, body, at, at)
    .first<{ id: number }>();
  return row!.id;
}
