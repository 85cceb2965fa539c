import { sql } from 'drizzle-orm';
import type { MessagingConfig } from '../config';
import type { Database } from '../db/client';
import { users } from '../db/schema';
import { batchRows, rows, type RawStatement } from '../db/raw';
import { messageDigestEmail } from '../email/email.templates';
import { enqueueEmailToUserStatement } from '../email/outbox.service';
import { newId } from '../lib/tokens';

/** Members handled per cron run (the next run picks up the rest). */
const DIGEST_BATCH = 50;

interface Candidate {
  user_id: string;
  email: string;
  username: string;
  unread: number;
  conversations: number;
}

/** Members with messages unread for longer than the delay and not yet announced, without a digest this period. */
export function digestCandidatesSql(cutoff: number, periodStart: number) {
  return sql`SELECT p.user_id, u.email, u.username, SUM(p.unread_count) AS unread, COUNT(*) AS conversations
    FROM conversation_participants p
      JOIN conversations c ON c.id = p.conversation_id
      JOIN users u ON u.id = p.user_id
    WHERE p.unread_since IS NOT NULL AND p.unread_since <= ${cutoff} AND p.left_at IS NULL AND p.unread_count > 0
      AND c.last_message_seq > p.digest_seq
      AND NOT EXISTS (SELECT 1 FROM message_digests d WHERE d.user_id = p.user_id AND d.period_start = ${periodStart})
    GROUP BY p.user_id
    LIMIT ${DIGEST_BATCH}`;
}

/**
 * Queues at most one digest email per member per period, never one per message. Per member, one
 * batch: claim the (member, period) row with a fresh claim id (ON CONFLICT DO NOTHING), insert the
 * email only if the claimed row carries that id (so overlapping runs cannot both send), and mark the
 * announced messages so the same unread run is not announced again next period.
 */
export async function queueMessageDigests(
  db: Database,
  config: MessagingConfig,
  appUrl: string,
  now: Date,
): Promise<{ candidates: number; queued: number }> {
  const t = now.getTime();
  const periodStart = Math.floor(t / config.digestPeriodMs) * config.digestPeriodMs;
  const candidates = await rows<Candidate>(db, digestCandidatesSql(t - config.digestDelayMs, periodStart));
  if (candidates.length === 0) return { candidates: 0, queued: 0 };

  const statements: RawStatement[] = [];
  const claimIds: string[] = [];
  for (const m of candidates) {
    const claimId = newId('dgc');
    claimIds.push(claimId);
    const claimed = sql`EXISTS (SELECT 1 FROM message_digests WHERE user_id = ${m.user_id}
      AND period_start = ${periodStart} AND claim_id = ${claimId})`;
    statements.push(
      sql`INSERT INTO message_digests (user_id, period_start, claim_id, created_at)
        VALUES (${m.user_id}, ${periodStart}, ${claimId}, ${t}) ON CONFLICT DO NOTHING`,
      enqueueEmailToUserStatement(
        db,
        sql`${users.id} = ${m.user_id} AND ${claimed}`,
        messageDigestEmail(appUrl, m.username, Number(m.unread), Number(m.conversations)),
        now,
      ),
      sql`UPDATE conversation_participants
        SET digest_seq = (SELECT last_message_seq FROM conversations WHERE id = conversation_participants.conversation_id)
        WHERE user_id = ${m.user_id} AND left_at IS NULL AND unread_count > 0 AND ${claimed}`,
    );
  }
  statements.push(
    sql`SELECT count(*) AS queued FROM message_digests WHERE claim_id IN (${sql.join(
      claimIds.map((id) => sql`${id}`),
      sql`, `,
    )})`,
  );
  const results = await batchRows(db, statements);
  return { candidates: candidates.length, queued: Number(results.at(-1)?.[0]?.queued ?? 0) };
}

/** Drops digest bookkeeping older than `cutoff` (daily purge). */
export async function purgeDigestRows(db: Database, cutoff: Date): Promise<number> {
  const deleted = await rows(
    db,
    sql`DELETE FROM message_digests WHERE created_at < ${cutoff.getTime()} RETURNING user_id`,
  );
  return deleted.length;
}
