import { env } from 'cloudflare:workers';
import { unique } from './factories';

export interface ArticleOptions {
  title?: string;
  status?: 'draft' | 'published' | 'scheduled';
  visibility?: 'public' | 'members' | 'paid';
  /** Milliseconds since the epoch; defaults to now. */
  at?: number;
}

export interface TestArticle {
  id: number;
  slug: string;
}

/** The id of a registered user, read directly from D1. */
export async function userId(username: string): Promise<string> {
  const row = await env.DB.prepare('SELECT id FROM users WHERE lower(username) = lower(?)')
    .bind(username)
    .first<{ id: string }>();
  if (!row) throw new Error(`no user ${username}`);
  return row.id;
}

/**
 * Inserts an article row directly, so comment and profile tests control status and visibility
 * (drafts, scheduled, members-only, paid) independently of the articles endpoints.
 */
export async function createArticle(author: { username: string }, options: ArticleOptions = {}): Promise<TestArticle> {
  const authorId = await userId(author.username);
  const slug = unique('article-');
  const at = options.at ?? Date.now();
  const status = options.status ?? 'published';
  const row = await env.DB.prepare(
    `INSERT INTO articles (slug, title, description, body, author_id, status, visibility, publish_at, published_at, tag_list, favorites_count, created_at, updated_at)
     VALUES (?, ?, 'A description', 'A body', ?, ?, ?, ?, ?, '[]', 0, ?, ?) RETURNING id`,
  )
    .bind(
      slug,
      options.title ?? `Article ${slug}`,
      authorId,
      status,
      options.visibility ?? 'public',
      status === 'scheduled' ? at + 3_600_000 : null,
      status === 'published' ? at : null,
      at,
      at,
    )
    .first<{ id: number }>();
  if (status === 'published') {
    // Keep the denormalized total the unfiltered list reports in step, as the article service does.
    await env.DB.prepare("UPDATE site_counters SET value = value + 1 WHERE name = 'published_articles'").run();
  }
  return { id: row!.id, slug };
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
