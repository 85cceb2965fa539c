import { call } from './request';

let seq = 0;

/** A unique name per call, so tests sharing a file's storage never collide. */
export function unique(prefix = 'user'): string {
  return `${prefix}${Date.now().toString(36)}${(++seq).toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export interface TestUser {
  username: string;
  email: string;
  password: string;
  token: string;
  refreshToken: string;
}

export async function registerUser(
  overrides: Partial<{ username: string; email: string; password: string }> = {},
): Promise<TestUser> {
  const username = overrides.username ?? unique();
  const input = {
    username,
    email: overrides.email ?? `${username}@example.com`,
    password: overrides.password ?? 'password123',
  };
  const res = await call('POST', '/api/users', { body: { user: input } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...input, token: res.body.user.token, refreshToken: res.body.user.refreshToken };
}

export async function login(email: string, password: string) {
  return call('POST', '/api/users/login', { body: { user: { email, password } } });
}

/** The session id (`sid` claim) of an access token. */
export function sessionIdOf(token: string): string {
  return JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).sid;
}
