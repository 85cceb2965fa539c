import { env } from 'cloudflare:workers';
import { createDb } from '../../src/db/client';
import { followUser } from '../../src/profiles/profiles.service';
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

/** Follows through the profiles service (independent of the profiles endpoints and their budgets). */
export async function follow(follower: TestUser, followee: TestUser): Promise<void> {
  await followUser(createDb(env.DB), await userId(follower.username), followee.username, new Date());
}
