import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { batchRows, rows } from '../db/raw';
import { hashToken, randomToken } from '../lib/tokens';
import { assertWithinLimit, hitStatement, withinLimit, type WindowLimit } from '../security/rate-limit';

/** How long a WebSocket ticket stays valid. */
const TICKET_TTL_MS = 60_000;
const TICKET_LIMIT: WindowLimit = { limit: 30, windowSeconds: 60 };

/** Issues a single-use ticket for the caller's session; only its hash is stored. */
export async function issueTicket(db: Database, userId: string, sessionId: string, now: Date) {
  const ticket = randomToken();
  const expiresAt = new Date(now.getTime() + TICKET_TTL_MS);
  const key = `realtime-ticket:${userId}`;
  const [hit] = await batchRows(db, [
    hitStatement(db, key, TICKET_LIMIT, now),
    sql`INSERT INTO realtime_tickets (token_hash, user_id, session_id, expires_at)
      SELECT ${await hashToken(ticket)}, ${userId}, ${sessionId}, ${expiresAt.getTime()}
      WHERE ${withinLimit(key, TICKET_LIMIT, now)}`,
  ]);
  const row = hit?.[0] as { hits: number; window_start: number } | undefined;
  assertWithinLimit(row && { hits: row.hits, windowStart: row.window_start }, TICKET_LIMIT, now);
  return { ticket, expiresAt };
}

/**
 * Consumes a ticket: one DELETE ... RETURNING, so two connections presenting the same ticket cannot
 * both win. The ticket's session must still be active (checked in D1, not the eventually consistent KV).
 */
export async function consumeTicket(db: Database, ticket: string, now: Date) {
  const [row] = await rows<{ user_id: string; session_id: string }>(
    db,
    sql`DELETE FROM realtime_tickets WHERE token_hash = ${await hashToken(ticket)} AND expires_at > ${now.getTime()}
      AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = realtime_tickets.session_id AND s.revoked_at IS NULL
        AND s.expires_at > ${now.getTime()})
      RETURNING user_id, session_id`,
  );
  return row ? { userId: row.user_id, sessionId: row.session_id } : null;
}

/** Drops expired tickets (daily purge). */
export async function purgeExpiredTickets(db: Database, now: Date): Promise<number> {
  const deleted = await rows(
    db,
    sql`DELETE FROM realtime_tickets WHERE expires_at < ${now.getTime()} RETURNING token_hash`,
  );
  return deleted.length;
}
