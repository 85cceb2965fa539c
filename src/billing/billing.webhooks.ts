/**
 * `POST /api/billing/webhooks`: Stripe events → Folio state.
 *
 * Order matters: the signature is verified over the raw body before anything is parsed or stored
 * (bad, absent or stale → 400, nothing changes). A known event id is a no-op (200). Subscription
 * state is never taken from the event payload: the subscription is re-read from the gateway and
 * written with a "newest read wins" guard in SQL (`gateway_state_at`), so duplicate, out-of-order
 * and parallel deliveries converge on the gateway's current state. Money rows are keyed by the
 * gateway object's id (unique), emails by the payment or event id, and the event id is recorded in
 * the same batch as its effects.
 */
import { and, eq, isNull, ne, sql, type SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { AppConfig } from '../config';
import type { Database } from '../db/client';
import { billingEvents, checkouts, ledger, memberships, purchases, tiers, users } from '../db/schema';
import { paymentFailedEmail, paymentReceiptEmail } from '../email/email.templates';
import { MEMBERSHIP_STATUSES, type MembershipStatus } from '../db/values';
import { enqueueEmailStatement } from '../email/outbox.service';
import { AppError } from '../errors';
import { logInfo } from '../lib/log';
import { newId } from '../lib/tokens';
import { webhookEventStatement } from '../webhooks/webhooks.outbox';
import {
  loadStripe,
  type Gateway,
  type GatewayCheckoutSession,
  type GatewayEvent,
  type GatewaySubscription,
} from './gateway/gateway';

type Statement = BatchItem<'sqlite'>;

/**
 * `payment.succeeded` for the ledger row `ledgerId`, for the batch that inserts it (after the insert):
 * the data is read from that row, so a redelivered event (the insert did nothing: the row with this
 * fresh id does not exist) sends nothing.
 */
function paymentSucceededEvent(db: Database, ledgerId: string, now: Date) {
  return webhookEventStatement(
    db,
    'payment.succeeded',
    sql`(SELECT json_object('id', l.id, 'kind', l.kind, 'amount', l.amount, 'currency', l.currency,
        'member', (SELECT username FROM users WHERE id = l.user_id),
        'author', (SELECT username FROM users WHERE id = l.author_id),
        'tierId', l.tier_id, 'createdAt', strftime('%Y-%m-%dT%H:%M:%fZ', l.created_at / 1000.0, 'unixepoch'))
      FROM ledger l WHERE l.id = ${ledgerId})`,
    now,
  );
}

/** The membership of `userId` as webhook data, when `condition` (SQL over the row `mm`) holds; else NULL. */
export function membershipEventData(userId: string, condition: SQL) {
  return sql`(SELECT json_object('member', (SELECT username FROM users WHERE id = mm.user_id), 'tierId', mm.tier_id,
      'status', mm.status, 'interval', mm.interval,
      'currentPeriodEnd', strftime('%Y-%m-%dT%H:%M:%fZ', mm.current_period_end / 1000.0, 'unixepoch'),
      'cancelAtPeriodEnd', json(CASE WHEN mm.cancel_at_period_end THEN 'true' ELSE 'false' END),
      'complimentary', json(CASE WHEN substr(mm.gateway_subscription_id, 1, 5) = 'comp_' THEN 'true' ELSE 'false' END))
    FROM memberships mm WHERE mm.user_id = ${userId} AND ${condition})`;
}

export interface BillingDeps {
  db: Database;
  gateway: Gateway;
  config: AppConfig;
}

/** Stripe's default: a signature older than 5 minutes is refused (replay protection). */
const SIGNATURE_TOLERANCE_SECONDS = 300;

const HANDLED_EVENTS = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.expired',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.paid',
  'invoice.payment_failed',
  'charge.refunded',
] as const;

export type WebhookOutcome = 'processed' | 'duplicate' | 'ignored';

/** Verifies with every configured secret (two during a rotation); any match is enough. */
async function verify(deps: BillingDeps, rawBody: string, signature: string, now: Date): Promise<GatewayEvent> {
  const { cryptoProvider } = await loadStripe();
  for (const secret of deps.config.billing.webhookSecrets) {
    try {
      return await deps.gateway.webhooks.constructEventAsync(
        rawBody,
        signature,
        secret,
        SIGNATURE_TOLERANCE_SECONDS,
        cryptoProvider,
        now.getTime(),
      );
    } catch {
      // try the next secret
    }
  }
  throw AppError.badRequest('signature', 'is invalid');
}

export async function receiveWebhook(
  deps: BillingDeps,
  rawBody: string,
  signature: string | undefined,
  now: Date,
): Promise<WebhookOutcome> {
  if (!signature) throw AppError.badRequest('signature', 'is missing');
  const event = await verify(deps, rawBody, signature, now);
  const { db } = deps;
  if (!(HANDLED_EVENTS as readonly string[]).includes(event.type)) return 'ignored';
  const [seen] = await db.select({ id: billingEvents.id }).from(billingEvents).where(eq(billingEvents.id, event.id));
  if (seen) return 'duplicate';
  const effects = await effectsOf(deps, event, now);
  await db.batch([
    db.insert(billingEvents).values({ id: event.id, type: event.type, receivedAt: now }).onConflictDoNothing(),
    ...effects,
  ]);
  logInfo('billing event', { eventId: event.id, type: event.type, statements: effects.length });
  return 'processed';
}

async function effectsOf(deps: BillingDeps, event: GatewayEvent, now: Date): Promise<Statement[]> {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return checkoutCompletedStatements(deps, event.data.object, now);
    case 'checkout.session.expired':
      return [markCheckout(deps.db, event.data.object.id, 'expired')];
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      return syncSubscriptionStatements(deps, event.data.object.id, now);
    case 'invoice.paid':
      return invoicePaidStatements(deps, event.data.object, now);
    case 'invoice.payment_failed':
      return invoiceFailedStatements(deps, event, now);
    case 'charge.refunded':
      return chargeRefundedStatements(deps, event.data.object, now);
    default:
      return [];
  }
}

function markCheckout(db: Database, id: string, status: 'complete' | 'expired') {
  return db
    .update(checkouts)
    .set({ status })
    .where(and(eq(checkouts.id, id), eq(checkouts.status, 'open')));
}

const idOf = (v: string | { id: string } | null | undefined): string | null =>
  v == null ? null : typeof v === 'string' ? v : v.id;

/**
 * A completed checkout: for a subscription, sync it from the gateway; for a one-time payment (tip or
 * article), the ledger row, the purchase and the receipt. Shared by the webhook and the reconcile job.
 */
export async function checkoutCompletedStatements(
  deps: BillingDeps,
  session: GatewayCheckoutSession,
  now: Date,
): Promise<Statement[]> {
  const { db } = deps;
  // An asynchronous payment method: wait for checkout.session.async_payment_succeeded.
  if (session.payment_status === 'unpaid') return [];
  const statements: Statement[] = [markCheckout(db, session.id, 'complete')];
  if (session.mode === 'subscription') {
    const subscriptionId = idOf(session.subscription);
    if (subscriptionId) statements.push(...(await syncSubscriptionStatements(deps, subscriptionId, now)));
    return statements;
  }
  const meta = session.metadata ?? {};
  const paymentIntent = idOf(session.payment_intent);
  if ((meta.kind !== 'tip' && meta.kind !== 'article') || !meta.userId || !paymentIntent) return statements;
  const amount = session.amount_total ?? 0;
  const currency = (session.currency ?? 'usd').toUpperCase();
  const fee = Math.floor((amount * deps.config.billing.platformFeePercent) / 100);
  const articleId = meta.articleId ? Number(meta.articleId) : null;
  const ledgerId = newId('pay');
  statements.push(
    db
      .insert(ledger)
      .values({
        id: ledgerId,
        gatewayId: paymentIntent,
        gatewayPaymentIntentId: paymentIntent,
        kind: meta.kind,
        amount,
        currency,
        fee,
        userId: meta.userId,
        authorId: meta.authorId ?? null,
        articleId,
        createdAt: now,
      })
      .onConflictDoNothing(),
  );
  statements.push(paymentSucceededEvent(db, ledgerId, now));
  if (meta.kind === 'article' && articleId !== null) {
    statements.push(
      db
        .insert(purchases)
        .values({ userId: meta.userId, articleId, gatewayPaymentId: paymentIntent, createdAt: now })
        .onConflictDoUpdate({
          target: [purchases.userId, purchases.articleId],
          set: { gatewayPaymentId: paymentIntent, revokedAt: null, createdAt: now },
          setWhere: sql`${purchases.revokedAt} IS NOT NULL AND ${purchases.gatewayPaymentId} <> ${paymentIntent}`,
        }),
    );
  }
  const recipient = await userContact(db, meta.userId);
  if (recipient) {
    const what =
      meta.kind === 'tip' ? `a tip to ${meta.authorUsername ?? 'an author'}` : `the article "${meta.title ?? ''}"`;
    statements.push(
      enqueueEmailStatement(
        db,
        recipient.email,
        paymentReceiptEmail(recipient.username, what, amount, currency),
        now,
        `receipt_${paymentIntent}`,
      ),
    );
  }
  return statements;
}

async function userContact(db: Database, userId: string) {
  const [row] = await db
    .select({ email: users.email, username: users.username })
    .from(users)
    .where(eq(users.id, userId));
  return row;
}

const GRANTING = sql`('active', 'trialing', 'past_due')`;

/**
 * Re-reads the subscription from the gateway and upserts the user's membership. `gateway_state_at`
 * is taken after the read returns, so of two concurrent syncs the later read — the newer state —
 * wins; an older read never overwrites it. A membership backed by another subscription is replaced
 * only when that one no longer grants access (a late event of an old subscription cannot end a new one).
 */
export async function syncSubscriptionStatements(
  deps: BillingDeps,
  subscriptionId: string,
  now: Date,
): Promise<Statement[]> {
  let sub: GatewaySubscription;
  try {
    sub = await deps.gateway.subscriptions.retrieve(subscriptionId);
  } catch (err) {
    // Not in this gateway account (e.g. an event for another integration): nothing to sync, no retry.
    if ((err as { code?: string }).code === 'resource_missing') return [];
    throw err;
  }
  const stateAt = Date.now();
  const userId = sub.metadata?.userId;
  const tierId = sub.metadata?.tierId;
  const item = sub.items.data[0];
  if (!userId || !tierId || !item) return [];
  const interval = item.price.recurring?.interval === 'year' ? 'year' : 'month';
  const periodEnd = Math.max(...sub.items.data.map((i) => i.current_period_end)) * 1000;
  const status = (MEMBERSHIP_STATUSES as readonly string[]).includes(sub.status)
    ? (sub.status as MembershipStatus)
    : 'incomplete';
  const values = {
    userId,
    tierId,
    status,
    interval,
    currentPeriodEnd: new Date(periodEnd),
    cancelAtPeriodEnd: sub.cancel_at_period_end || sub.cancel_at !== null,
    gatewaySubscriptionId: sub.id,
    gatewayStateAt: stateAt,
    updatedAt: now,
  } as const;
  // membership.updated when this upsert applies AND changes what the member sees (tier, status,
  // interval, period end, cancellation): evaluated before the upsert, in the same batch.
  const applies = sql`EXISTS (SELECT 1 FROM ${tiers} WHERE ${tiers.id} = ${tierId}) AND NOT EXISTS (
      SELECT 1 FROM ${memberships} WHERE ${memberships.userId} = ${userId} AND (
        ${memberships.gatewayStateAt} >= ${stateAt}
        OR (${memberships.gatewaySubscriptionId} <> ${sub.id} AND ${memberships.status} IN ${GRANTING})
        OR (${memberships.tierId} = ${tierId} AND ${memberships.status} = ${values.status}
          AND ${memberships.interval} = ${interval} AND ${memberships.currentPeriodEnd} = ${periodEnd}
          AND ${memberships.cancelAtPeriodEnd} = ${values.cancelAtPeriodEnd ? 1 : 0})))`;
  const event = webhookEventStatement(
    deps.db,
    'membership.updated',
    sql`(SELECT CASE WHEN ${applies} THEN json_object('member', (SELECT username FROM users WHERE id = ${userId}),
        'tierId', ${tierId}, 'status', ${values.status}, 'interval', ${interval},
        'currentPeriodEnd', ${new Date(periodEnd).toISOString()},
        'cancelAtPeriodEnd', json(${values.cancelAtPeriodEnd ? 'true' : 'false'}), 'complimentary', json('false')) END)`,
    now,
  );
  return [
    event,
    // The tier must exist (a subscription from elsewhere, or a deleted tier, is skipped).
    deps.db
      .insert(memberships)
      .select(
        sql`SELECT ${userId}, ${tierId}, ${values.status}, ${interval}, ${periodEnd}, ${values.cancelAtPeriodEnd ? 1 : 0}, ${sub.id}, ${stateAt}, ${now.getTime()}
        FROM ${tiers} WHERE ${tiers.id} = ${tierId}`,
      )
      .onConflictDoUpdate({
        target: memberships.userId,
        set: {
          tierId,
          status: values.status,
          interval,
          currentPeriodEnd: values.currentPeriodEnd,
          cancelAtPeriodEnd: values.cancelAtPeriodEnd,
          gatewaySubscriptionId: sub.id,
          gatewayStateAt: stateAt,
          updatedAt: now,
        },
        setWhere: sql`${memberships.gatewayStateAt} < ${stateAt} AND (${memberships.gatewaySubscriptionId} = ${sub.id} OR ${memberships.status} NOT IN ${GRANTING})`,
      }),
  ];
}

type Invoice = Extract<GatewayEvent, { type: 'invoice.paid' }>['data']['object'];

const subscriptionOfInvoice = (invoice: Invoice) => idOf(invoice.parent?.subscription_details?.subscription ?? null);

async function invoicePaidStatements(deps: BillingDeps, invoice: Invoice, now: Date): Promise<Statement[]> {
  const subscriptionId = subscriptionOfInvoice(invoice);
  if (!subscriptionId) return [];
  const statements = await syncSubscriptionStatements(deps, subscriptionId, now);
  const meta = invoice.parent?.subscription_details?.metadata ?? {};
  if (!meta.userId) return statements;
  const payments = await deps.gateway.invoicePayments.list({ invoice: invoice.id!, limit: 1 });
  const paymentIntent = idOf(payments.data[0]?.payment.payment_intent ?? null);
  const currency = invoice.currency.toUpperCase();
  const ledgerId = newId('pay');
  statements.push(
    deps.db
      .insert(ledger)
      .values({
        id: ledgerId,
        gatewayId: invoice.id!,
        gatewayPaymentIntentId: paymentIntent,
        kind: 'membership',
        amount: invoice.amount_paid,
        currency,
        userId: meta.userId,
        tierId: meta.tierId ?? null,
        createdAt: now,
      })
      .onConflictDoNothing(),
  );
  statements.push(paymentSucceededEvent(deps.db, ledgerId, now));
  const recipient = await userContact(deps.db, meta.userId);
  if (recipient)
    statements.push(
      enqueueEmailStatement(
        deps.db,
        recipient.email,
        paymentReceiptEmail(recipient.username, 'your membership', invoice.amount_paid, currency),
        now,
        `receipt_${invoice.id}`,
      ),
    );
  return statements;
}

async function invoiceFailedStatements(
  deps: BillingDeps,
  event: Extract<GatewayEvent, { type: 'invoice.payment_failed' }>,
  now: Date,
): Promise<Statement[]> {
  const invoice = event.data.object;
  const subscriptionId = subscriptionOfInvoice(invoice);
  if (!subscriptionId) return [];
  const statements = await syncSubscriptionStatements(deps, subscriptionId, now);
  const userId = invoice.parent?.subscription_details?.metadata?.userId;
  const recipient = userId ? await userContact(deps.db, userId) : undefined;
  if (recipient)
    statements.push(
      enqueueEmailStatement(
        deps.db,
        recipient.email,
        paymentFailedEmail(deps.config.appUrl, recipient.username, invoice.amount_due, invoice.currency),
        now,
        `failed_${event.id}`,
      ),
    );
  return statements;
}

type Charge = Extract<GatewayEvent, { type: 'charge.refunded' }>['data']['object'];

/**
 * Every refund of the charge becomes a ledger row (keyed by the refund id, so replays add nothing),
 * copying who and what from the payment row. A fully refunded article purchase is revoked. If the
 * payment itself is not recorded yet (events out of order), answer non-2xx so Stripe redelivers.
 */
async function chargeRefundedStatements(deps: BillingDeps, charge: Charge, now: Date): Promise<Statement[]> {
  const { db } = deps;
  const paymentIntent = idOf(charge.payment_intent);
  if (!paymentIntent) return [];
  const [payment] = await db
    .select({ id: ledger.id })
    .from(ledger)
    .where(and(eq(ledger.gatewayPaymentIntentId, paymentIntent), ne(ledger.kind, 'refund')))
    .limit(1);
  if (!payment) throw new AppError(409, { event: ['refers to a payment not recorded yet; retry later'] });
  const refunds = await deps.gateway.refunds.list({ payment_intent: paymentIntent, limit: 100 });
  const statements: Statement[] = refunds.data
    .filter((r) => r.status === 'succeeded' || r.status === 'pending')
    .map((refund) =>
      db
        .insert(ledger)
        .select(
          sql`SELECT ${newId('ref')}, ${refund.id}, ${paymentIntent}, 'refund', ${-refund.amount}, ${ledger.currency}, 0,
            ${ledger.userId}, ${ledger.authorId}, ${ledger.articleId}, ${ledger.tierId}, ${ledger.id}, ${now.getTime()}
          FROM ${ledger} WHERE ${ledger.id} = ${payment.id}`,
        )
        .onConflictDoNothing(),
    );
  if (charge.refunded || charge.amount_refunded >= charge.amount) {
    statements.push(
      db
        .update(purchases)
        .set({ revokedAt: now })
        .where(and(eq(purchases.gatewayPaymentId, paymentIntent), isNull(purchases.revokedAt))),
    );
  }
  return statements;
}
