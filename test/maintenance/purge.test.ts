import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { DAILY, insertUser, jobResult, runCron } from './cron';

const NOW = Date.parse('2030-05-10T03:17:00.000Z');
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

let seq = 0;
const id = (prefix: string) => `${prefix}_maint_${++seq}_${Math.floor(Math.random() * 1e9).toString(36)}`;

const exists = async (sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first()) !== null;

describe('daily cron: purge', () => {
  it('deletes expired user tokens, long-expired sessions, stale rate-limit windows and old delivered email only', async () => {
    const userId = await insertUser(NOW - 60 * DAY);

    const expiredToken = id('tok');
    const liveToken = id('tok');
    const token = (hash: string, expiresAt: number) =>
      env.DB.prepare(
        "INSERT INTO user_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES (?, ?, 'verify_email', ?, ?)",
      ).bind(hash, userId, NOW - 2 * DAY, expiresAt);

    // Sessions are kept for 7 days after they expire (the security page lists recent ones).
    const oldSession = id('ses');
    const recentlyExpiredSession = id('ses');
    const liveSession = id('ses');
    const session = (sessionId: string, expiresAt: number) =>
      env.DB.prepare(
        'INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      ).bind(sessionId, userId, NOW - 40 * DAY, NOW - 40 * DAY, expiresAt);
    const oldRefresh = id('rt');

    const staleKey = id('rl');
    const currentKey = id('rl');
    const window = (key: string, windowStart: number) =>
      env.DB.prepare('INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, 3)').bind(key, windowStart);

    const oldSent = id('msg');
    const oldPending = id('msg');
    const recentSent = id('msg');
    const message = (msgId: string, status: string, createdAt: number) =>
      env.DB.prepare(
        "INSERT INTO outbox (id, kind, recipient, subject, body, status, next_attempt_at, created_at) VALUES (?, 'test', 'a@example.com', 's', 'b', ?, ?, ?)",
      ).bind(msgId, status, createdAt + 365 * DAY, createdAt);

    await env.DB.batch([
      token(expiredToken, NOW - 1),
      token(liveToken, NOW + HOUR),
      session(oldSession, NOW - 8 * DAY),
      session(recentlyExpiredSession, NOW - DAY),
      session(liveSession, NOW + DAY),
      env.DB.prepare(
        'INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
      ).bind(oldRefresh, oldSession, NOW - 40 * DAY, NOW - 8 * DAY),
      window(staleKey, Math.floor(NOW / 1000) - 2 * 24 * 3600),
      window(currentKey, Math.floor(NOW / 1000) - 60),
      message(oldSent, 'sent', NOW - 31 * DAY),
      message(oldPending, 'pending', NOW - 31 * DAY),
      message(recentSent, 'sent', NOW - DAY),
    ]);

    const logs = await runCron(DAILY, NOW);

    expect(await exists('SELECT 1 FROM user_tokens WHERE token_hash = ?', expiredToken)).toBe(false);
    expect(await exists('SELECT 1 FROM user_tokens WHERE token_hash = ?', liveToken)).toBe(true);
    expect(await exists('SELECT 1 FROM sessions WHERE id = ?', oldSession)).toBe(false);
    expect(await exists('SELECT 1 FROM refresh_tokens WHERE token_hash = ?', oldRefresh)).toBe(false);
    expect(await exists('SELECT 1 FROM sessions WHERE id = ?', recentlyExpiredSession)).toBe(true);
    expect(await exists('SELECT 1 FROM sessions WHERE id = ?', liveSession)).toBe(true);
    expect(await exists('SELECT 1 FROM rate_limits WHERE key = ?', staleKey)).toBe(false);
    expect(await exists('SELECT 1 FROM rate_limits WHERE key = ?', currentKey)).toBe(true);
    expect(await exists('SELECT 1 FROM outbox WHERE id = ?', oldSent)).toBe(false);
    expect(await exists('SELECT 1 FROM outbox WHERE id = ?', oldPending)).toBe(true);
    expect(await exists('SELECT 1 FROM outbox WHERE id = ?', recentSent)).toBe(true);

    const purge = jobResult(logs, 'purge');
    expect(purge).toMatchObject({ cron: DAILY });
    expect(purge?.userTokens).toBeGreaterThanOrEqual(1);
    expect(purge?.sessions).toBeGreaterThanOrEqual(1);
    expect(purge?.rateLimits).toBeGreaterThanOrEqual(1);
    expect(purge?.outbox).toBeGreaterThanOrEqual(1);
  });

  it('is idempotent: a second run deletes nothing more', async () => {
    await runCron(DAILY, NOW + DAY);
    const logs = await runCron(DAILY, NOW + DAY);
    expect(jobResult(logs, 'purge')).toMatchObject({ userTokens: 0, sessions: 0, rateLimits: 0, outbox: 0 });
  });
});
