import { sql, type SQL } from 'drizzle-orm';
import type { AppConfig } from '../config';
import { users } from '../db/schema';
import { ROLES, type Role } from '../db/values';

/**
 * Roles, lowest first (listed in db/values.ts). Each role can do everything the roles below it can.
 * Stored on `users.role` (CHECK constraint in migration 0008); `ADMIN_USERNAMES` can raise a named
 * account to `admin`.
 */
export { ROLES, type Role };

const RANK: Record<Role, number> = { member: 0, author: 1, editor: 2, admin: 3 };

/**
 * THE permission table: every `action:object` pair Folio checks, with the lowest role allowed to do
 * it. Routes check it with `requirePermission('action:object')` (src/sessions/sessions.middleware.ts);
 * services that need a yes/no use `can(role, permission, config)`. Add new pairs here, nowhere else.
 */
const PERMISSIONS = {
  /** Members publish by default (RealWorld clients expect it); ONLY_AUTHORS_PUBLISH=true raises it to author. */
  'publish:article': 'member',
  'upload:media': 'member',
  'report:comment': 'member',
  'edit:any-article': 'editor',
  /** Moderation: remove any article the editor can read (audited when it is someone else's). */
  'delete:any-article': 'editor',
  'moderate:comment': 'editor',
  'moderate:message': 'editor',
  'read:users': 'editor',
  'ban:user': 'admin',
  'manage:roles': 'admin',
  'manage:sessions': 'admin',
  'manage:tiers': 'admin',
  'manage:memberships': 'admin',
  'refund:payment': 'admin',
  'read:revenue': 'admin',
  'manage:webhooks': 'admin',
  'read:audit': 'admin',
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof PERMISSIONS;

export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

/** The lowest role that holds `permission` under this configuration. */
function minimumRole(permission: Permission, config: Pick<AppConfig, 'onlyAuthorsPublish'>): Role {
  if (permission === 'publish:article' && config.onlyAuthorsPublish) return 'author';
  return PERMISSIONS[permission];
}

export function can(role: Role, permission: Permission, config: Pick<AppConfig, 'onlyAuthorsPublish'>): boolean {
  return RANK[role] >= RANK[minimumRole(permission, config)];
}

/** Whether `role` is the publication's highest role (the one check the billing admin routes use). */
export function isAdmin(role: Role): boolean {
  return role === 'admin';
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * The role an account acts with: its stored role, raised to `admin` when its username is listed in
 * ADMIN_USERNAMES. Computed at sign-in and stored in the session's KV copy.
 */
export function effectiveRole(stored: Role, username: string, config: Pick<AppConfig, 'adminUsernames'>): Role {
  return config.adminUsernames.includes(username.toLowerCase()) ? 'admin' : stored;
}

/**
 * SQL: true when the user `userId` (a bound id or a subquery) is banned at `now`. The one ban test,
 * used by login, commenting and (later) messaging inside their own statements.
 */
export function isBanned(userId: string | SQL, now: Date): SQL {
  return sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId} AND ${bannedAt(now)})`;
}

/** SQL over the `users` row in scope: the row's ban is in force at `now`. */
export function bannedAt(now: Date): SQL {
  return sql`(${users.bannedAt} IS NOT NULL AND (${users.bannedUntil} IS NULL OR ${users.bannedUntil} > ${now.getTime()}))`;
}

/** Whether a loaded user row is banned at `now` (same rule as `bannedAt`). */
export function banInForce(user: { bannedAt: Date | null; bannedUntil: Date | null }, now: Date): boolean {
  return user.bannedAt !== null && (user.bannedUntil === null || user.bannedUntil.getTime() > now.getTime());
}
