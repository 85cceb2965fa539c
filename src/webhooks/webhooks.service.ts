import { and, asc, desc, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { Webhook } from 'standardwebhooks';
import type { Database } from '../db/client';
import { insertSelectRow } from '../db/computed';
import { webhookDeliveries, webhookEndpoints } from '../db/schema';
import { AppError } from '../errors';
import { logInfo } from '../lib/log';
import { newId } from '../lib/tokens';
import { auditStatement, type AuditActor } from '../security/audit';
import { TEST_EVENT, type WebhookEvent } from './webhook-events';
import type { WebhookSender } from './webhooks.sender';
import { endpointUrlProblem } from './webhooks.url';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** Attempts per delivery before it is marked failed. */
export const MAX_ATTEMPTS = 8;
/** Consecutive failed attempts (across deliveries) after which an endpoint is disabled. */
export const DISABLE_AFTER_FAILURES = 10;
/** How long the previous secret keeps signing after a rotation. */
const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;
const LEASE_MS = 5 * 60 * 1000;
const WEBHOOK_BATCH_SIZE = 25;
const MAX_ENDPOINTS = 50;

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
function newSecret(): string {
  return `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
}

/** Exponential backoff: 1, 2, 4, ... minutes, capped at 12 hours. */
function backoffMs(attempts: number): number {
  return Math.min(12 * 60 * 60 * 1000, 60_000 * 2 ** Math.max(0, attempts - 1));
}

function assertUrl(url: string, isProduction: boolean) {
  const problem = endpointUrlProblem(url, isProduction);
  if (problem) throw AppError.validation({ url: [problem] });
}

const endpointSnapshot = sql`json_object('url', ${webhookEndpoints.url}, 'events', json(${webhookEndpoints.events}), 'enabled', json(CASE WHEN ${webhookEndpoints.enabled} THEN 'true' ELSE 'false' END), 'description', ${webhookEndpoints.description})`;

// ---------------------------------------------------------------------------------------------
// Endpoints.

export async function listEndpoints(db: Database): Promise<EndpointRow[]> {
  return db.select().from(webhookEndpoints).orderBy(desc(webhookEndpoints.createdAt)).limit(MAX_ENDPOINTS);
}

export async function getEndpoint(db: Database, id: string): Promise<EndpointRow> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).limit(1);
  if (!row) throw AppError.notFound('webhook');
  return row;
}

export interface EndpointInput {
  url: string;
  events: WebhookEvent[];
  description?: string | null;
  enabled?: boolean;
}

export async function createEndpoint(
  db: Database,
  actor: AuditActor,
  input: EndpointInput,
  isProduction: boolean,
  now: Date,
  /** Statements that must commit with the endpoint or not at all (an Idempotency-Key claim). */
  alsoInBatch: BatchItem<'sqlite'>[] = [],
): Promise<EndpointRow> {
  assertUrl(input.url, isProduction);
  const id = newId('whe');
  const [, , rows] = await db.batch([
    db.insert(webhookEndpoints).values({
      id,
      url: input.url,
      description: input.description ?? null,
      events: [...new Set(input.events)],
      secret: newSecret(),
      enabled: input.enabled ?? true,
      consecutiveFailures: 0,
      createdAt: now,
      updatedAt: now,
    }),
    auditStatement(
      db,
      actor,
      {
        action: 'webhook.create',
        targetType: 'webhook',
        targetId: id,
        from: webhookEndpoints,
        where: eq(webhookEndpoints.id, id),
        before: null,
        after: { url: input.url, events: input.events, enabled: input.enabled ?? true },
      },
      now,
    ),
    db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)),
    ...alsoInBatch,
  ]);
  return rows[0]!;
}

/** Updates URL, events, description or enabled; re-enabling resets the failure count. */
export async function updateEndpoint(
  db: Database,
  actor: AuditActor,
  id: string,
  patch: Partial<EndpointInput>,
  isProduction: boolean,
  now: Date,
): Promise<EndpointRow> {
  if (patch.url !== undefined) assertUrl(patch.url, isProduction);
  const changes: Partial<EndpointRow> = { updatedAt: now };
  if (patch.url !== undefined) changes.url = patch.url;
  if (patch.events !== undefined) changes.events = [...new Set(patch.events)];
  if (patch.description !== undefined) changes.description = patch.description;
  if (patch.enabled !== undefined) {
    changes.enabled = patch.enabled;
    if (patch.enabled) Object.assign(changes, { consecutiveFailures: 0, disabledReason: null });
  }
  const where = eq(webhookEndpoints.id, id);
  const [, , rows] = await db.batch([
    auditStatement(
      db,
      actor,
      {
        action: 'webhook.update',
        targetType: 'webhook',
        targetId: id,
        from: webhookEndpoints,
        where,
        before: endpointSnapshot,
        after: { ...patch },
      },
      now,
    ),
    db.update(webhookEndpoints).set(changes).where(where),
    db.select().from(webhookEndpoints).where(where),
  ]);
  if (!rows[0]) throw AppError.notFound('webhook');
  return rows[0];
}

/** Deletes the endpoint with its delivery log. */
export async function deleteEndpoint(db: Database, actor: AuditActor, id: string, now: Date): Promise<void> {
  const where = eq(webhookEndpoints.id, id);
  const [, deleted] = await db.batch([
    auditStatement(
      db,
      actor,
      {
        action: 'webhook.delete',
        targetType: 'webhook',
        targetId: id,
        from: webhookEndpoints,
        where,
        before: endpointSnapshot,
        after: null,
      },
      now,
    ),
    db.delete(webhookEndpoints).where(where).returning({ id: webhookEndpoints.id }),
  ]);
  if (!deleted[0]) throw AppError.notFound('webhook');
}

/**
 * A new secret, returned once. The old one keeps signing (a second signature in the same header) for
 * 24 hours, so receivers can switch without dropping events.
 */
export async function rotateSecret(db: Database, actor: AuditActor, id: string, now: Date): Promise<EndpointRow> {
  const where = eq(webhookEndpoints.id, id);
  const [, , rows] = await db.batch([
    auditStatement(
      db,
      actor,
      {
        action: 'webhook.rotate_secret',
        targetType: 'webhook',
        targetId: id,
        from: webhookEndpoints,
        where,
        before: null,
        after: null,
      },
      now,
    ),
    db
      .update(webhookEndpoints)
      .set({
        previousSecret: sql`${webhookEndpoints.secret}`,
        previousSecretExpiresAt: new Date(now.getTime() + PREVIOUS_SECRET_GRACE_MS),
        secret: newSecret(),
        updatedAt: now,
      })
      .where(where),
    db.select().from(webhookEndpoints).where(where),
  ]);
  if (!rows[0]) throw AppError.notFound('webhook');
  return rows[0];
}

/** An endpoint's delivery log, newest first, keyset on (created_at, id). */
export async function listDeliveries(
  db: Database,
  endpointId: string,
  query: { limit: number; cursor?: { at: number; id: string } },
) {
  const c = query.cursor;
  const [found, rows] = await db.batch([
    db.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId)),
    db
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.endpointId, endpointId),
          c
            ? or(
                lt(webhookDeliveries.createdAt, new Date(c.at)),
                and(eq(webhookDeliveries.createdAt, new Date(c.at)), lt(webhookDeliveries.id, c.id)),
              )
            : undefined,
        ),
      )
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .limit(query.limit + 1),
  ]);
  if (!found[0]) throw AppError.notFound('webhook');
  const more = rows.length > query.limit;
  const items = more ? rows.slice(0, query.limit) : rows;
  const last = items[items.length - 1];
  return { deliveries: items, nextCursor: more && last ? `${last.createdAt.getTime()}.${last.id}` : null };
}

/**
 * Queues a `webhook.test` event for this endpoint only (whatever it subscribed to, even if disabled)
 * and tries it at once; returns the delivery as it stands afterwards.
 */
export async function sendTestEvent(
  db: Database,
  actor: AuditActor,
  id: string,
  send: WebhookSender,
  now: Date,
): Promise<DeliveryRow> {
  const eventId = newId('evt');
  const deliveryId = `${eventId}:${id}`;
  const payload = JSON.stringify({ type: TEST_EVENT, timestamp: now.toISOString(), data: { endpoint: id } });
  const where = eq(webhookEndpoints.id, id);
  const [, inserted] = await db.batch([
    auditStatement(
      db,
      actor,
      {
        action: 'webhook.test',
        targetType: 'webhook',
        targetId: id,
        from: webhookEndpoints,
        where,
        before: null,
        after: { eventId },
      },
      now,
    ),
    db
      .insert(webhookDeliveries)
      .select(
        db
          .select(
            insertSelectRow(webhookDeliveries, {
              id: deliveryId,
              endpointId: webhookEndpoints.id,
              eventId,
              eventType: TEST_EVENT,
              payload,
              status: 'pending',
              attempts: 0,
              nextAttemptAt: now,
              leaseUntil: null,
              lastStatus: null,
              lastError: null,
              createdAt: now,
              deliveredAt: null,
            }),
          )
          .from(webhookEndpoints)
          .where(where),
      )
      .returning({ id: webhookDeliveries.id }),
  ]);
  if (!inserted[0]) throw AppError.notFound('webhook');
  await deliverWebhooks(db, send, now, { deliveryId, includeDisabled: true });
  const [row] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId));
  return row!;
}

// ---------------------------------------------------------------------------------------------
// Delivery (cron).

export interface WebhookReport {
  claimed: number;
  delivered: number;
  retried: number;
  failed: number;
  disabled: number;
}

/** The Standard Webhooks headers for one attempt; during a rotation both secrets sign. */
function signedHeaders(endpoint: EndpointRow, delivery: DeliveryRow, now: Date): Record<string, string> {
  const signatures = [new Webhook(endpoint.secret).sign(delivery.eventId, now, delivery.payload)];
  if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) {
    signatures.push(new Webhook(endpoint.previousSecret).sign(delivery.eventId, now, delivery.payload));
  }
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'Folio-Webhooks/1',
    'webhook-id': delivery.eventId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

/**
 * Delivers due webhooks. Claiming is one conditional UPDATE ... RETURNING (overlapping runs never
 * take the same delivery; a run that died is re-claimed after its lease, with the same `webhook-id`,
 * so receivers can drop the duplicate). Only enabled endpoints are served. A failure is retried with
 * exponential backoff up to MAX_ATTEMPTS; an endpoint failing DISABLE_AFTER_FAILURES times in a row
 * is disabled (its pending deliveries wait until it is enabled again).
 */
export async function deliverWebhooks(
  db: Database,
  send: WebhookSender,
  now: Date,
  only: { deliveryId: string; includeDisabled: boolean } | null = null,
): Promise<WebhookReport> {
  const enabledEndpoints = db
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.enabled, true));
  const due = db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        or(
          and(eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, now)),
          and(eq(webhookDeliveries.status, 'sending'), lt(webhookDeliveries.leaseUntil, now)),
        ),
        only ? eq(webhookDeliveries.id, only.deliveryId) : undefined,
        only?.includeDisabled ? undefined : inArray(webhookDeliveries.endpointId, enabledEndpoints),
      ),
    )
    .orderBy(asc(webhookDeliveries.nextAttemptAt))
    .limit(WEBHOOK_BATCH_SIZE);
  const claimed = await db
    .update(webhookDeliveries)
    .set({
      status: 'sending',
      leaseUntil: new Date(now.getTime() + LEASE_MS),
      attempts: sql`${webhookDeliveries.attempts} + 1`,
    })
    .where(inArray(webhookDeliveries.id, due))
    .returning();
  const report: WebhookReport = { claimed: claimed.length, delivered: 0, retried: 0, failed: 0, disabled: 0 };
  if (claimed.length === 0) return report;

  const endpointIds = [...new Set(claimed.map((d) => d.endpointId))];
  const endpoints = new Map(
    (await db.select().from(webhookEndpoints).where(inArray(webhookEndpoints.id, endpointIds))).map((e) => [e.id, e]),
  );
  const updates = [];
  for (const delivery of claimed) {
    const endpoint = endpoints.get(delivery.endpointId);
    if (!endpoint) continue;
    const result = await send({
      url: endpoint.url,
      headers: signedHeaders(endpoint, delivery, now),
      body: delivery.payload,
    });
    if (result.error === null) {
      report.delivered++;
      updates.push(
        db
          .update(webhookDeliveries)
          .set({ status: 'delivered', lastStatus: result.status, lastError: null, leaseUntil: null, deliveredAt: now })
          .where(eq(webhookDeliveries.id, delivery.id)),
        db.update(webhookEndpoints).set({ consecutiveFailures: 0 }).where(eq(webhookEndpoints.id, endpoint.id)),
      );
      continue;
    }
    const giveUp = delivery.attempts >= MAX_ATTEMPTS;
    if (giveUp) report.failed++;
    else report.retried++;
    updates.push(
      db
        .update(webhookDeliveries)
        .set({
          status: giveUp ? 'failed' : 'pending',
          lastStatus: result.status,
          lastError: result.error.slice(0, 200),
          leaseUntil: null,
          nextAttemptAt: new Date(now.getTime() + backoffMs(delivery.attempts)),
        })
        .where(eq(webhookDeliveries.id, delivery.id)),
      db
        .update(webhookEndpoints)
        .set({
          consecutiveFailures: sql`${webhookEndpoints.consecutiveFailures} + 1`,
          enabled: sql`CASE WHEN ${webhookEndpoints.consecutiveFailures} + 1 >= ${DISABLE_AFTER_FAILURES} THEN 0 ELSE ${webhookEndpoints.enabled} END`,
          disabledReason: sql`CASE WHEN ${webhookEndpoints.consecutiveFailures} + 1 >= ${DISABLE_AFTER_FAILURES} AND ${webhookEndpoints.enabled} = 1
            THEN ${`${DISABLE_AFTER_FAILURES} consecutive failed deliveries`} ELSE ${webhookEndpoints.disabledReason} END`,
        })
        .where(eq(webhookEndpoints.id, endpoint.id))
        .returning({ enabled: webhookEndpoints.enabled, failures: webhookEndpoints.consecutiveFailures }),
    );
  }
  const [first, ...rest] = updates;
  if (first) {
    const results = await db.batch([first, ...rest]);
    report.disabled = results.filter(
      (r) => Array.isArray(r) && r[0] && 'failures' in r[0] && r[0].failures === DISABLE_AFTER_FAILURES,
    ).length;
  }
  logInfo('webhooks delivered', { ...report });
  return report;
}

/** Drops delivered and failed log rows after the retention period. */
export async function purgeOldDeliveries(db: Database, cutoff: Date): Promise<number> {
  const rows = await db
    .delete(webhookDeliveries)
    .where(and(inArray(webhookDeliveries.status, ['delivered', 'failed']), lt(webhookDeliveries.createdAt, cutoff)))
    .returning({ id: webhookDeliveries.id });
  return rows.length;
}
