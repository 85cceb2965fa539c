import { describe, expect, it } from 'vitest';
import { call } from '../helpers/request';
import { unique } from '../helpers/factories';

describe('POST /api/users', () => {
  it('registers a user and returns the RealWorld user object with a token', async () => {
    const username = unique();
    const res = await call('POST', '/api/users', {
      body: { user: { username, email: `${username}@Example.com`, password: 'password123' } },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.body.user).toMatchObject({ username, email: `${username}@Example.com`, bio: null, image: null });
    expect(res.body.user.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(typeof res.body.user.refreshToken).toBe('string');
  });
});
