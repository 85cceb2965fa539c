import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FAVORITE_LIMIT } from '../../src/articles/articles.service';
import { FOLLOW_LIMIT } from '../../src/profiles/profiles.service';
import { countRows, userId } from '../helpers/content';
import { registerUser } from '../helpers/factories';
import { call } from '../helpers/request';
import { newUser, postArticle } from './helpers';

// Favorites and follows (with their undos) are limited per account and hour: bots farm both, and every
// favorite also drops this location's cached public reads. The window is filled up to one short of the
// limit directly in D1, then the API is used across the boundary.

const HOUR = 3_600_000;

beforeEach(() => {
  // Mid-window, so the hour cannot turn during the test.
  vi.useFakeTimers({ toFake: ['Date'], now: Math.floor(Date.now() / HOUR) * HOUR + 60_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Records `hits` uses of `key` in the current hour's window, as earlier requests would have. */
async function used(key: string, hits: number): Promise<void> {
  const windowStart = Math.floor(Date.now() / HOUR) * 3600;
  await env.DB.prepare('INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, ?)')
    .bind(key, windowStart, hits)
    .run();
}

const TOO_MANY = { errors: { rate: ['too many requests, try again later'] } };

describe('favorite and follow limits', () => {
  it(`favorites and unfavorites share ${FAVORITE_LIMIT.limit} an hour; the one over writes nothing`, async () => {
    const author = await registerUser();
    const [first, second] = [await postArticle(author), await postArticle(author)];
    const reader = await newUser();
    const readerId = await userId(reader.username);
    await used(`favorite:${readerId}`, FAVORITE_LIMIT.limit - 1);

    const last = await call('POST', `/api/articles/${first.slug}/favorite`, { token: reader.token });
    expect(last.status).toBe(200);
    expect(last.body.article.favoritesCount).toBe(1);

    const over = await call('POST', `/api/articles/${second.slug}/favorite`, { token: reader.token });
    expect(over.status).toBe(429);
    expect(over.body).toEqual(TOO_MANY);
    expect(Number(over.headers.get('Retry-After'))).toBe(3600 - 60);
    expect(over.d1).toBe(1);
    const undo = await call('DELETE', `/api/articles/${first.slug}/favorite`, { token: reader.token });
    expect(undo.status).toBe(429);
    // Neither the favorite nor the undo happened, and no counter moved.
    expect(await countRows('SELECT 1 FROM favorites WHERE user_id = ?', readerId)).toBe(1);
    expect((await call('GET', `/api/articles/${second.slug}`)).body.article.favoritesCount).toBe(0);
    expect((await call('GET', `/api/articles/${first.slug}`)).body.article.favoritesCount).toBe(1);
    // Another reader is not affected.
    const other = await registerUser();
    expect((await call('POST', `/api/articles/${second.slug}/favorite`, { token: other.token })).status).toBe(200);

    vi.setSystemTime(Date.now() + HOUR);
    expect((await call('POST', `/api/articles/${second.slug}/favorite`, { token: reader.token })).status).toBe(200);
  });

  it(`follows and unfollows share ${FOLLOW_LIMIT.limit} an hour; the one over writes nothing`, async () => {
    const [alice, bob] = [await registerUser(), await registerUser()];
    const fan = await newUser();
    const fanId = await userId(fan.username);
    await used(`follow:${fanId}`, FOLLOW_LIMIT.limit - 1);

    const last = await call('POST', `/api/profiles/${alice.username}/follow`, { token: fan.token });
    expect(last.status).toBe(200);
    expect(last.body.profile.following).toBe(true);

    const over = await call('POST', `/api/profiles/${bob.username}/follow`, { token: fan.token });
    expect(over.status).toBe(429);
    expect(over.body).toEqual(TOO_MANY);
    expect(over.d1).toBe(1);
    expect((await call('DELETE', `/api/profiles/${alice.username}/follow`, { token: fan.token })).status).toBe(429);
    expect(await countRows('SELECT 1 FROM follows WHERE follower_id = ?', fanId)).toBe(1);
    expect((await call('GET', `/api/profiles/${alice.username}`, { token: fan.token })).body.profile.following).toBe(
      true,
    );

    vi.setSystemTime(Date.now() + HOUR);
    expect((await call('POST', `/api/profiles/${bob.username}/follow`, { token: fan.token })).status).toBe(200);
  });
});
