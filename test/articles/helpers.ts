import { env } from 'cloudflare:workers';
import { registerUser, unique, type TestUser } from '../helpers/factories';
import { userId } from '../helpers/content';
import { call } from '../helpers/request';

export interface ArticleInput {
  title?: string;
  description?: string;
  body?: string;
  tagList?: string[];
  status?: 'draft' | 'published' | 'scheduled';
  visibility?: 'public' | 'members' | 'paid';
  publishAt?: string;
}

/** Registers a user and makes one authenticated call, so later budget assertions see a warm session. */
export async function newUser(): Promise<TestUser> {
  const user = await registerUser();
  await call('GET', '/api/user', { token: user.token });
  return user;
}

export async function postArticle(user: TestUser, input: ArticleInput = {}) {
  const article = { title: unique('Title '), description: 'A description', body: 'Some body text', ...input };
  const res = await call('POST', '/api/articles', { token: user.token, body: { article } });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.article;
}

/** Inserts a follow directly (independent of the profiles endpoints). */
export async function follow(follower: TestUser, followee: TestUser): Promise<void> {
  await env.DB.prepare('INSERT INTO follows (follower_id, followee_id, created_at) VALUES (?, ?, ?)')
    .bind(await userId(follower.username), await userId(followee.username), Date.now())
    .run();
}

/**
 * Sets an article's published_at (and created_at) directly, to control ordering without sleeping,
 * with the copy its tag links carry (article_tags.published_at) kept in step as the writes do.
 */
export async function setPublishedAt(slug: string, ms: number): Promise<void> {
  await env.DB.batch([
    env.DB.prepare('UPDATE articles SET published_at = ?, created_at = ? WHERE slug = ?').bind(ms, ms, slug),
    env.DB.prepare(
      `UPDATE article_tags SET published_at = (SELECT a.published_at FROM articles a WHERE a.id = article_tags.article_id AND a.status = 'published')
       WHERE article_id = (SELECT id FROM articles WHERE slug = ?)`,
    ).bind(slug),
  ]);
}
