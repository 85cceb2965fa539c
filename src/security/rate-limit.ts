import { eq, sql, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Database } from '../db/client';
import { failedWith } from '../db/errors';
import { batchItem } from '../db/raw';
import { loginLockouts, rateLimits, users } from '../db/schema';
import type { AppEnv } from '../env';
import { getConfig } from '../config';
import { AppError } from '../errors';

/** The caller's IP as Cloudflare reports it (absent only in unusual local setups). */
function clientIp(c: Context): string {
  return c.req.header('CF-Connecting-IP') ?? 'unknown';
}

/**
 * Coarse per-IP brake using the Workers rate-limiting binding. It is approximate and per location,
 * which is fine for slowing floods; per-account limits that must hold exactly live in D1 below.
 * `IP_RATE_LIMIT=off` (refused in production) turns it off for a developer's own scripts and tools.
 */
export function limitByIp(action: string) {
  return createMiddleware<AppEnv>(async function limitByIp(c, next) {
    if (!getConfig(c.env).ipRateLimit) return next();
    const { success } = await c.env.AUTH_IP_LIMITER.limit({ key: `${action}:${clientIp(c)}` });
    if (!success) throw AppError.tooManyRequests(60);
    await next();
  });
}

export interface WindowLimit {
  limit: number;
  windowSeconds: number;
}

/**
 * Counts one hit against `key` in the current fixed window with a single upsert and returns the
 * statement; the caller runs it (alone or in a batch) and passes the row to `assertWithinLimit`.
 */
export function hitStatement(db: Database, key: string, rule: WindowLimit, now: Date) {
  const windowStart = windowStartOf(rule, now);
  return db
    .insert(rateLimits)
    .values({ key, windowStart, hits: 1 })
    .onConflictDoUpdate({
      target: [rateLimits.key, rateLimits.windowStart],
      set: { hits: sql`${rateLimits.hits} + 1` },
    })
    .returning({ hits: rateLimits.hits, windowStart: rateLimits.windowStart });
}

/** Start (unix seconds) of the fixed window `now` falls in. */
function windowStartOf({ windowSeconds }: WindowLimit, now: Date): number {
  return Math.floor(now.getTime() / 1000 / windowSeconds) * windowSeconds;
}

/**
 * SQL that is true while `key` is within its limit in the current window. A write placed after
 * `hitStatement` in the same batch uses it to happen only under the limit, with no extra round trip.
 */
export function withinLimit(key: string, rule: WindowLimit, now: Date): SQL {
  return sql`(SELECT ${rateLimits.hits} FROM ${rateLimits} WHERE ${rateLimits.key} = ${key} AND ${rateLimits.windowStart} = ${windowStartOf(rule, now)}) <= ${rule.limit}`;
}

export function assertWithinLimit(
  row: { hits: number; windowStart: number } | undefined,
  rule: WindowLimit,
  now: Date,
): void {
  if (row && row.hits > rule.limit) {
    throw AppError.tooManyRequests(row.windowStart + rule.windowSeconds - now.getTime() / 1000);
  }
}

/** The abort message of the `rate_limit_guard` trigger (migrations/0015_create_rate_limit_guard.sql). */
const LIMITED = 'folio_rate_limited';

/**
 * A limit that refuses a write as a whole: put these two statements at the head of its batch. They
 * count the hit and, once `key` is over `rule` in the current window, abort the whole batch (the hit
 * included), so nothing of the write lands, not even a cache purge. For writes whose later statements
 * depend on the first one having happened (a new article's tags and counters) and for writes a batch
 * cannot make conditional as a whole (favorites, follows). Catch the failure with `rethrowWhenLimited`.
 */
export function limitGuard(
  db: Database,
  key: string,
  rule: WindowLimit,
  now: Date,
): [BatchItem<'sqlite'>, BatchItem<'sqlite'>] {
  return [
    hitStatement(db, key, rule, now),
    batchItem(
      db,
      sql`INSERT INTO rate_limit_guard (key, window_start, max_hits) VALUES (${key}, ${windowStartOf(rule, now)}, ${rule.limit})`,
    ),
  ];
}

/** Turns a batch refused by `limitGuard` into the 429 (with `Retry-After`); rethrows anything else. */
export function rethrowWhenLimited(err: unknown, rule: WindowLimit, now: Date): never {
  if (failedWith(err, LIMITED)) {
    throw AppError.tooManyRequests(windowStartOf(rule, now) + rule.windowSeconds - now.getTime() / 1000);
  }
  throw err;
}

/** Counts a hit and throws 429 when the window's limit is exceeded: one D1 round trip. */
export async function consumeLimit(db: Database, key: string, rule: WindowLimit, now: Date): Promise<void> {
  const [row] = await hitStatement(db, key, rule, now);
  assertWithinLimit(row, rule, now);
}

/** Failed logins in a row (within the reset window) before an account is locked. */
export const LOCKOUT_THRESHOLD = 5;
const LOCKOUT_RESET_MS = 15 * 60 * 1000;
const LOCKOUT_BASE_MS = 30_000;
const LOCKOUT_MAX_MS = 60 * 60 * 1000;

/**
 * Lower-cases ASCII letters only, exactly like SQLite's lower(), so a key built here matches one
 * built in SQL (and email lookups, which compare lower() on both sides).
 */
function sqliteLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

export function lockoutKey(email: string): string {
  return `login:${sqliteLower(email)}`;
}

export function lockoutStatement(db: Database, key: string) {
  return db.select({ lockedUntil: loginLockouts.lockedUntil }).from(loginLockouts).where(eq(loginLockouts.key, key));
}

export function assertNotLocked(row: { lockedUntil: number } | undefined, now: Date): void {
  if (row && row.lockedUntil > now.getTime()) {
    throw AppError.tooManyRequests((row.lockedUntil - now.getTime()) / 1000, 'credentials');
  }
}

/**
 * Records a failed login atomically. From the threshold on, each failure locks the account for twice
 * as long as the previous one (30 s, 60 s, ... up to 1 hour); a quiet 15 minutes resets the count.
 */
export function recordFailureStatement(db: Database, key: string, now: Date) {
  const t = now.getTime();
  const failures = sql`(CASE WHEN ${loginLockouts.lastFailureAt} < ${t - LOCKOUT_RESET_MS} THEN 1 ELSE ${loginLockouts.failures} + 1 END)`;
  return db
    .insert(loginLockouts)
    .values({ key, failures: 1, lastFailureAt: t, lockedUntil: LOCKOUT_THRESHOLD <= 1 ? t + LOCKOUT_BASE_MS : 0 })
    .onConflictDoUpdate({
      target: loginLockouts.key,
      set: {
        failures,
        lastFailureAt: t,
        lockedUntil: sql`CASE WHEN ${failures} >= ${LOCKOUT_THRESHOLD}
          THEN ${t} + MIN(${LOCKOUT_MAX_MS}, ${LOCKOUT_BASE_MS} << MIN(${failures} - ${LOCKOUT_THRESHOLD}, 10))
          ELSE 0 END`,
      },
    });
}

export function clearFailuresStatement(db: Database, key: string) {
  return db.delete(loginLockouts).where(eq(loginLockouts.key, key));
}

/** Clears the lockout of the account `userId` (an id or a subquery), for writes that prove ownership. */
export function clearFailuresForUserStatement(db: Database, userId: SQL) {
  return db
    .delete(loginLockouts)
    .where(
      sql`${loginLockouts.key} = 'login:' || lower((SELECT ${users.email} FROM ${users} WHERE ${users.id} = ${userId}))`,
    );
}

/** Removes counter windows and lockouts that no longer affect any decision. */
export async function purgeStaleRateLimits(db: Database, now: Date): Promise<number> {
  const dayAgoSeconds = Math.floor(now.getTime() / 1000) - 24 * 3600;
  const [windows, lockouts] = await db.batch([
    db
      .delete(rateLimits)
      .where(sql`${rateLimits.windowStart} < ${dayAgoSeconds}`)
      .returning({ key: rateLimits.key }),
    db
      .delete(loginLockouts)
      .where(
        sql`${loginLockouts.lastFailureAt} < ${now.getTime() - LOCKOUT_MAX_MS - LOCKOUT_RESET_MS} AND ${loginLockouts.lockedUntil} < ${now.getTime()}`,
      )
      .returning({ key: loginLockouts.key }),
  ]);
  return windows.length + lockouts.length;
}
