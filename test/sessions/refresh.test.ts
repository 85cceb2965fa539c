import { describe, expect, it } from 'vitest';
import { login, registerUser } from '../helpers/factories';
import { call } from '../helpers/request';

const refresh = (refreshToken: unknown) => call('POST', '/api/users/refresh', { body: { refreshToken } });

describe('POST /api/users/refresh', () => {
  it('rotates the refresh token and returns a new working access token', async () => {
    const user = await registerUser();
    const res = await refresh(user.refreshToken);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username: user.username, email: user.email });
    expect(res.body.user.refreshToken).not.toBe(user.refreshToken);
    expect(res.d1).toBe(1); // rotation and the user it returns come back in one batch
    expect((await call('GET', '/api/user', { token: res.body.user.token })).status).toBe(200);
    // The rotated token works once more in turn.
    expect((await refresh(res.body.user.refreshToken)).status).toBe(200);
  });

  it('treats a used refresh token as stolen: 401 and the whole session is revoked', async () => {
    const user = await registerUser();
    const rotated = (await refresh(user.refreshToken)).body.user;
    const reuse = await refresh(user.refreshToken);
    expect(reuse.status).toBe(401);
    expect(reuse.body).toEqual({ errors: { refreshToken: ['is invalid or has expired'] } });
    expect((await call('GET', '/api/user', { token: rotated.token })).status).toBe(401);
    expect((await refresh(rotated.refreshToken)).status).toBe(401);
  });

  it('lets only one of two parallel refreshes with the same token succeed', async () => {
    const user = await registerUser();
    const results = await Promise.all([refresh(user.refreshToken), refresh(user.refreshToken)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('returns 401 for an unknown refresh token and after logout', async () => {
    expect((await refresh('not-a-real-token')).status).toBe(401);
    const user = await registerUser();
    const session = (await login(user.email, user.password)).body.user;
    await call('POST', '/api/users/logout', { token: session.token });
    expect((await refresh(session.refreshToken)).status).toBe(401);
  });

  it('returns 422 when the refresh token is missing', async () => {
    const res = await call('POST', '/api/users/refresh', { body: {} });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ errors: { refreshToken: ["can't be blank"] } });
  });
});
