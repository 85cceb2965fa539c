import { env } from 'cloudflare:workers';
import { registerUser, login, type TestUser } from './factories';

export type Role = 'member' | 'author' | 'editor' | 'admin';

export interface RoleUser extends TestUser {
  id: string;
  role: Role;
}

/** Registers an account, stores `role` on it directly, and signs in again (the role is fixed at sign-in). */
export async function userWithRole(role: Role): Promise<RoleUser> {
  const user = await registerUser();
  const row = await env.DB.prepare('UPDATE users SET role = ? WHERE lower(username) = lower(?) RETURNING id')
    .bind(role, user.username)
    .first<{ id: string }>();
  const res = await login(user.email, user.password);
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  return { ...user, id: row!.id, role, token: res.body.user.token, refreshToken: res.body.user.refreshToken };
}

export async function auditRows(targetId: string, targetType = 'user') {
  const { results } = await env.DB.prepare(
    'SELECT * FROM audit_log WHERE target_type = ? AND target_id = ? ORDER BY id',
  )
    .bind(targetType, targetId)
    .all();
  return results as Array<Record<string, any>>;
}
