import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { registerUser, unique } from '../helpers/factories';
import { call } from '../helpers/request';

describe('GET /api/profiles/:username', () => {
  it('returns the profile with following false for an anonymous viewer', async () => {
    const jake = await registerUser();
    const res = await call('GET', `/api/profiles/${jake.username}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.body).toEqual({ profile: { username: jake.username, bio: null, image: null, following: false } });
  });

  it('matches the username case-insensitively and answers with its stored spelling', async () => {
    const jake = await registerUser({ username: unique('Jake') });
    const res = await call('GET', `/api/profiles/${jake.username.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.body.profile.username).toBe(jake.username);
  });

  it('shows bio and image once set', async () => {
    const jake = await registerUser();
    await call('PUT', '/api/user', {
      token: jake.token,
      body: { user: { bio: 'I work at statefarm', image: 'https://example.com/a.jpg' } },
    });
    const res = await call('GET', `/api/profiles/${jake.username}`);
    expect(res.body.profile).toMatchObject({ bio: 'I work at statefarm', image: 'https://example.com/a.jpg' });
  });

  it('returns 404 profile for an unknown username', async () => {
    const res = await call('GET', `/api/profiles/${unique('nobody')}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: { profile: ['not found'] } });
  });

  it('treats an invalid token as anonymous', async () => {
    const jake = await registerUser();
    const res = await call('GET', `/api/profiles/${jake.username}`, { token: 'not.a.jwt' });
    expect(res.status).toBe(200);
    expect(res.body.profile.following).toBe(false);
  });

  it('costs one D1 round trip, plus one KV read when signed in', async () => {
    const [a, b] = await Promise.all([registerUser(), registerUser()]);
    await call('POST', `/api/profiles/${b.username}/follow`, { token: a.token });
    const anonymous = await call('GET', `/api/profiles/${b.username}`);
    expect(anonymous.d1).toBe(1);
    expect(anonymous.kv).toBe(0);
    const signedIn = await call('GET', `/api/profiles/${b.username}`, { token: a.token });
    expect(signedIn.body.profile.following).toBe(true);
    expect(signedIn.d1).toBe(1);
    expect(signedIn.kv).toBe(1);
  });
});

describe('POST /api/profiles/:username/follow', () => {
  it('follows a user: following shows for the follower only', async () => {
    const [a, b, c] = await Promise.all([registerUser(), registerUser(), registerUser()]);
    const res = await call('POST', `/api/profiles/${b.username}/follow`, { token: a.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ profile: { username: b.username, bio: null, image: null, following: true } });

    expect((await call('GET', `/api/profiles/${b.username}`, { token: a.token })).body.profile.following).toBe(true);
    expect((await call('GET', `/api/profiles/${b.username}`)).body.profile.following).toBe(false);
    expect((await call('GET', `/api/profiles/${b.username}`, { token: c.token })).body.profile.following).toBe(false);
    // Following is one-way.
    expect((await call('GET', `/api/profiles/${a.username}`, { token: b.token })).body.profile.following).toBe(false);
  });

  it('is idempotent', async () => {
    const [a, b] = await Promise.all([registerUser(), registerUser()]);
    await call('POST', `/api/profiles/${b.username}/follow`, { token: a.token });
    const again = await call('POST', `/api/profiles/${b.username}/follow`, { token: a.token });
    expect(again.status).toBe(200);
    expect(again.body.profile.following).toBe(true);
    const rows = await env.DB.prepare(
      'SELECT count(*) AS n FROM follows f JOIN users u ON u.id = f.followee_id WHERE u.username = ?',
    )
      .bind(b.username)
      .first<{ n: number }>();
    expect(rows?.n).toBe(1);
  });

  it('accepts the username in any case', async () => {
    const [a, b] = await Promise.all([registerUser(), registerUser()]);
    const res = await call('POST', `/api/profiles/${b.username.toUpperCase()}/follow`, { token: a.token });
    expect(res.status).toBe(200);
    expect(res.body.profile).toMatchObject({ username: b.username, following: true });
  });

  it('returns 422 when following yourself, without touching the follows table', async () => {
    const a = await registerUser();
    const res = await call('POST', `/api/profiles/${a.username}/follow`, { token: a.token });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ errors: { profile: ["can't follow yourself"] } });
    expect((await call('GET', `/api/profiles/${a.username}`, { token: a.token })).body.profile.following).toBe(false);
  });

  it('returns 401 without a token, before checking that the profile exists', async () => {
    const res = await call('POST', `/api/profiles/${unique('nobody')}/follow`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: { token: ['is missing'] } });
  });

  it('returns 404 profile for an unknown username', async () => {
    const a = await registerUser();
    const res = await call('POST', `/api/profiles/${unique('nobody')}/follow`, { token: a.token });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: { profile: ['not found'] } });
  });

  it('costs one D1 round trip and one KV read', async () => {
    const [a, b] = await Promise.all([registerUser(), registerUser()]);
    const res = await call('POST', `/api/profiles/${b.username}/follow`, { token: a.token });
    expect(res.d1).toBe(1);
    expect(res.kv).toBe(1);
  });
});

describe('DELETE /api/profiles/:username/follow', () => {
  it('unfollows a user', async () => {
    const [a, b] = await Promise.all([registerUser(), registerUser()]);
    await call('POST', `/api/profiles/${b.username}/follow`, { token: a.token });
    const res = await call('DELETE', `/api/profiles/${b.username}/follow`, { token: a.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ profile: { username: b.username, bio: null, image: null, following: false } });
    expect((await call('GET', `/api/profiles/${b.username}`, { token: a.token })).body.profile.following).toBe(false);
  });

  it("only removes the caller's own follow", async () => {
    const [a, b, c] = await Promise.all([registerUser(), registerUser(), registerUser()]);
    await call('POST', `/api/profiles/${b.username}/follow`, { token: a.token });
    await call('POST', `/api/profiles/${b.username}/follow`, { token: c.token });
    await call('DELETE', `/api/profiles/${b.username}/follow`, { token: a.token });
    expect((await call('GET', `/api/profiles/${b.username}`, { token: c.token })).body.profile.following).toBe(true);
  });

  it('is not an error for someone you do not follow, nor for yourself', async () => {
    const [a, b] = await Promise.all([registerUser(), registerUser()]);
    const other = await call('DELETE', `/api/profiles/${b.username}/follow`, { token: a.token });
    expect(other.status).toBe(200);
    expect(other.body.profile.following).toBe(false);
    const self = await call('DELETE', `/api/profiles/${a.username}/follow`, { token: a.token });
    expect(self.status).toBe(200);
    expect(self.body.profile).toMatchObject({ username: a.username, following: false });
  });

  it('returns 401 without a token, before checking that the profile exists', async () => {
    const res = await call('DELETE', `/api/profiles/${unique('nobody')}/follow`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: { token: ['is missing'] } });
  });

  it('returns 404 profile for an unknown username', async () => {
    const a = await registerUser();
    const res = await call('DELETE', `/api/profiles/${unique('nobody')}/follow`, { token: a.token });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: { profile: ['not found'] } });
  });

  it('costs one D1 round trip and one KV read', async () => {
    const [a, b] = await Promise.all([registerUser(), registerUser()]);
    const res = await call('DELETE', `/api/profiles/${b.username}/follow`, { token: a.token });
    expect(res.d1).toBe(1);
    expect(res.kv).toBe(1);
  });
});
