import type { listOutbox } from '../email/outbox.service';

type OutboxRow = Awaited<ReturnType<typeof listOutbox>>[number];

/** One message of the development outbox (`GET /api/dev/outbox`). */
export function toOutboxMessage(row: OutboxRow) {
  return {
    id: row.id,
    kind: row.kind,
    to: row.recipient,
    subject: row.subject,
    body: row.body,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.createdAt.toISOString(),
    sentAt: row.sentAt?.toISOString() ?? null,
  };
}
