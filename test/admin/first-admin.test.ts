import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { registerUser } from '../helpers/factories';
import { call } from '../helpers/request';

// This file's storage starts with no accounts (storage is isolated per test file).
describe('on a fresh database', () => {
  it('makes exactly one of several parallel first registrations admin, decided in the insert', async () => {
    const users = await Promise.all([registerUser(), registerUser(), registerUser(), registerUser()]);
    const { results } = await env.DB.prepare('SELECT username, role FROM users').all<{
      username: string;
      role: string;
    }>();
    expect(results).toHaveLength(4);
    const admins = results.filter((r) => r.role === 'admin');
    expect(admins).toHaveLength(1);
    const admin = users.find((u) => u.username === admins[0]!.username)!;
    expect((await call('GET', '/api/admin/users', { token: admin.token })).status).toBe(200);
    const member = users.find((u) => u.username !== admin.username)!;
    expect((await call('GET', '/api/admin/users', { token: member.token })).status).toBe(403);
  });
});
