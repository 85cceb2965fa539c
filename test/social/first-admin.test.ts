import { describe, expect, it } from 'vitest';
import { unique } from '../helpers/factories';
import { call } from '../helpers/request';
import { exchange, socialSignIn } from './helpers';

// Its own file, so its database starts empty: the first account here signs up through an identity provider.
describe('the first account of a fresh database', () => {
  it('is the admin even when it signs up with social sign-in; the next one is a member', async () => {
    const signUp = async () => {
      const back = await socialSignIn({
        sub: unique('sub'),
        email: `${unique('idp')}@example.com`,
        email_verified: true,
      });
      const res = await exchange(back.searchParams.get('code')!);
      expect(res.status).toBe(200);
      return res.body.user.token as string;
    };
    const first = await signUp();
    const second = await signUp();
    expect((await call('GET', '/api/admin/users', { token: first })).status).toBe(200);
    expect((await call('GET', '/api/admin/users', { token: second })).status).toBe(403);
  });
});
