import { and, asc, desc, eq, inArray, lt, lte, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Database } from '../db/client';
import { insertSelectRow } from '../db/computed';
import { outbox, users } from '../db/schema';
import { logError, logInfo } from '../lib/log';
import { newId } from '../lib/tokens';
import type { EmailSender } from './email.sender';
import type { EmailContent } from './email.templates';

export const MAX_ATTEMPTS = 8;
/** How long a claimed message stays reserved for one delivery run. */
const LEASE_MS = 5 * 60 * 1000;
/** Bounded work per cron run. */
const DELIVERY_BATCH_SIZE = 25;

/** The outbox row of a new message, due now: the one place a message is built. */
function pendingMessage<R extends string | SQLWrapper>(recipient: R, content: EmailContent, now: Date) {
  return {
    id: newId('msg'),
    kind: content.kind,
    recipient,
    subject: content.subject,
    body: content.body,
    status: 'pending' as const,
    attempts: 0,
    nextAttemptAt: now,
    leaseUntil: null,
    lastError: null,
    createdAt: now,
    sentAt: null,
  };
}

/**
 * An outbox insert for the caller's batch, so the email exists only if the change that caused it does.
 * With a `dedupKey` (e.g. a webhook event or payment id) the message id is derived from it and a
 * second insert with the same key is a no-op, so a redelivered event never sends twice.
 */
export function enqueueEmailStatement(db: Database, to: string, content: EmailContent, now: Date, dedupKey?: string) {
  const message = pendingMessage(to, content, now);
  if (!dedupKey) return db.insert(outbox).values(message);
  return db
    .insert(outbox)
    .values({ ...message, id: `msg_${dedupKey}` })
    .onConflictDoNothing();
}

/**
 * The same, addressed to the email of the user that `where` selects (none when it selects no row): an
 * insert-select, so the guard (the account exists, a limit holds) is part of the statement.
 */
export function enqueueEmailToUserStatement(db: Database, where: SQL | undefined, content: EmailContent, now: Date) {
  return db.insert(outbox).select(
    db
      .select(insertSelectRow(outbox, pendingMessage(users.email, content, now)))
      .from(users)
      .where(where),
  );
}

/** Exponential backoff: 1, 2, 4, ... minutes, capped at 6 hours. */
function backoffMs(attempts: number): number {
  return Math.min(6 * 60 * 60 * 1000, 60_000 * 2 ** Math.max(0, attempts - 1));
}

export interface DeliveryReport {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
}

/**
 * Delivers due messages. Claiming is one conditional UPDATE ... RETURNING, so overlapping runs never
 * pick the same message; a message whose run died mid-send is re-claimed after its lease and resent
 * with the same idempotency key, which the provider uses to drop the duplicate.
 */
export async function deliverOutbox(db: Database, send: EmailSender, from: string, now: Date): Promise<DeliveryReport> {
  const due = db
    .select({ id: outbox.id })
    .from(outbox)
    .where(
      or(
        and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, now)),
        and(eq(outbox.status, 'sending'), lt(outbox.leaseUntil, now)),
      ),
    )
    .orderBy(asc(outbox.nextAttemptAt))
    .limit(DELIVERY_BATCH_SIZE);
  const claimed = await db
    .update(outbox)
    .set({ status: 'sending', leaseUntil: new Date(now.getTime() + LEASE_MS), attempts: sql`${outbox.attempts} + 1` })
    .where(inArray(outbox.id, due))
    .returning();

  const report: DeliveryReport = { claimed: claimed.length, sent: 0, retried: 0, failed: 0 };
  const updates = [];
  for (const message of claimed) {
    try {
      await send({ id: message.id, from, to: message.recipient, subject: message.subject, text: message.body });
      report.sent++;
      updates.push(
        db
          .update(outbox)
          .set({ status: 'sent', sentAt: now, leaseUntil: null, lastError: null })
          .where(eq(outbox.id, message.id)),
      );
    } catch (err) {
      const giveUp = message.attempts >= MAX_ATTEMPTS;
      if (giveUp) report.failed++;
      else report.retried++;
      const lastError = (err instanceof Error ? err.message : 'send failed').slice(0, 200);
      logError('email delivery failed', { outboxId: message.id, attempts: message.attempts, giveUp, error: lastError });
      updates.push(
        db
          .update(outbox)
          .set({
            status: giveUp ? 'failed' : 'pending',
            leaseUntil: null,
            lastError,
            nextAttemptAt: new Date(now.getTime() + backoffMs(message.attempts)),
          })
          .where(eq(outbox.id, message.id)),
      );
    }
  }
  const [first, ...rest] = updates;
  if (first) await db.batch([first, ...rest]);
  if (report.claimed > 0) logInfo('outbox delivered', { ...report });
  return report;
}

/** Newest messages first, for the development-only outbox listing. */
export async function listOutbox(db: Database, limit: number) {
  return db.select().from(outbox).orderBy(desc(outbox.createdAt)).limit(limit);
}

/** Drops delivered messages (they hold single-use links) after the retention period. */
export async function purgeDeliveredOutbox(db: Database, cutoff: Date): Promise<number> {
  const rows = await db
    .delete(outbox)
    .where(and(inArray(outbox.status, ['sent', 'failed']), lt(outbox.createdAt, cutoff)))
    .returning({ id: outbox.id });
  return rows.length;
}
