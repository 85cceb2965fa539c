import { and, desc, eq, gt, inArray, lt, ne, sql } from 'drizzle-orm';
import { usernameMatches } from '../accounts/users.queries';
import { readableArticleQuery } from '../articles/articles.queries';
import { articles, checkouts, gatewayCustomers, ledger, memberships, tiers, users } from '../db/schema';
import { AppError } from '../errors';
import { logWarn } from '../lib/log';
import { newId } from '../lib/tokens';
import type { BatchItem } from 'drizzle-orm/batch';
import { assertWithinLimit, hitStatement, type WindowLimit } from '../security/rate-limit';
import {
  checkoutCompletedStatements,
  membershipEventData,
  syncSubscriptionStatements,
  type BillingDeps,
} from './billing.webhooks';
import { webhookEventStatement } from '../webhooks/webhooks.outbox';
import type { CheckoutInput } from './billing.schemas';
import { gatewayErrorType } from './gateway/gateway';
import { ACCESS_GRANTING_STATUSES, paidAccessExpr } from './membership';

type Statement = BatchItem<'sqlite'>;

const CHECKOUT_LIMIT: WindowLimit = { limit: 20, windowSeconds: 3600 };
const REFUND_LIMIT: WindowLimit = { limit: 60, windowSeconds: 3600 };
/** Portal sessions, cancel/resume and checkout syncs each call the gateway: 30 an hour per account. */
const GATEWAY_ACTION_LIMIT: WindowLimit = { limit: 30, windowSeconds: 3600 };

async function limitGatewayActions(deps: Pick<BillingDeps, 'db'>, userId: string, now: Date) {
  const [hit] = await hitStatement(deps.db, `billing-action:${userId}`, GATEWAY_ACTION_LIMIT, now);
  assertWithinLimit(hit, GATEWAY_ACTION_LIMIT, now);
}

/**
 * Runs a gateway call, turning its failures into the API's error shape: a reused Idempotency-Key with
 * other parameters → 422; anything else → 502 (logged by type and code only, never the message).
 */
export async function viaGateway<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AppError) throw err;
    const type = gatewayErrorType(err);
    if (type === 'StripeIdempotencyError')
      throw AppError.validation({ idempotencyKey: ['was already used with a different request'] });
    if (type === 'StripeInvalidRequestError' && (err as { code?: string }).code === 'amount_too_large')
      throw AppError.validation({ amount: ['is more than the refundable amount'] });
    const e = err as { type?: string; code?: string; statusCode?: number };
    logWarn('gateway call failed', {
      what,
      type: e.type ?? 'unknown',
      code: e.code ?? null,
      status: e.statusCode ?? null,
    });
    throw new AppError(502, { gateway: ['is unavailable, try again later'] });
  }
}

// ---------------------------------------------------------------------------------------------
// Tiers and customers

export async function listTiers(deps: Pick<BillingDeps, 'db'>) {
  return deps.db.select().from(tiers).where(eq(tiers.active, true)).orderBy(tiers.monthlyPrice, tiers.id);
}

/** The user's gateway customer, created once: a fixed idempotency key makes concurrent first calls share one. */
async function ensureCustomer(deps: BillingDeps, userId: string, now: Date): Promise<string> {
  const { db } = deps;
  const [bound] = await db.select().from(gatewayCustomers).where(eq(gatewayCustomers.userId, userId));
  if (bound) return bound.customerId;
  const [user] = await db
    .select({ email: users.email, username: users.username })
    .from(users)
    .where(eq(users.id, userId));
  if (!user) throw AppError.unauthorized();
  const customer = await viaGateway('customers.create', () =>
    deps.gateway.customers.create(
      { email: user.email, name: user.username, metadata: { userId } },
      { idempotencyKey: `folio-customer-${userId}` },
    ),
  );
  const [, [row]] = await db.batch([
    db.insert(gatewayCustomers).values({ userId, customerId: customer.id, createdAt: now }).onConflictDoNothing(),
    db.select().from(gatewayCustomers).where(eq(gatewayCustomers.userId, userId)),
  ]);
  return row!.customerId;
}

// ---------------------------------------------------------------------------------------------
// Checkout

interface Purchase {
  purpose: string;
  mode: 'payment' | 'subscription';
  name: string;
  amount: number;
  currency: string;
  interval?: 'month' | 'year';
  metadata: Record<string, string>;
}

async function resolvePurchase(deps: BillingDeps, userId: string, input: CheckoutInput): Promise<Purchase> {
  const { db, config } = deps;
  if ('tierId' in input) {
    const [[tier], [membership]] = await db.batch([
      db
        .select()
        .from(tiers)
        .where(and(eq(tiers.id, input.tierId), eq(tiers.active, true))),
      db
        .select({ status: memberships.status })
        .from(memberships)
        .where(and(eq(memberships.userId, userId), inArray(memberships.status, [...ACCESS_GRANTING_STATUSES]))),
    ]);
    if (!tier) throw AppError.notFound('tier');
    if (membership) throw AppError.conflict({ membership: ['is already active'] });
    const yearly = input.interval === 'year';
    return {
      purpose: `membership:${tier.id}:${input.interval}`,
      mode: 'subscription',
      name: `${tier.name} membership (${yearly ? 'yearly' : 'monthly'})`,
      amount: yearly ? tier.yearlyPrice : tier.monthlyPrice,
      currency: tier.currency,
      interval: input.interval,
      metadata: { kind: 'membership', userId, tierId: tier.id, interval: input.interval },
    };
  }
  if ('articleSlug' in input) {
    const readable = readableArticleQuery(db, input.articleSlug, userId).as('readable');
    const [article] = await db
      .select({
        id: articles.id,
        title: articles.title,
        authorId: articles.authorId,
        visibility: articles.visibility,
        price: articles.price,
        currency: articles.currency,
        paidAccess: paidAccessExpr(userId, articles.id, articles.visibility),
      })
      .from(articles)
      .where(and(sql`${articles.id} = (SELECT ${readable.id} FROM ${readable})`, eq(articles.status, 'published')));
    if (!article) throw AppError.notFound('article');
    if (article.visibility !== 'paid' || article.price === null || article.currency === null)
      throw AppError.validation({ article: ['is not for sale'] });
    if (article.authorId === userId) throw AppError.validation({ article: ['is your own'] });
    if (article.paidAccess) throw AppError.conflict({ article: ['is already unlocked for you'] });
    return {
      purpose: `article:${article.id}`,
      mode: 'payment',
      name: `Article: ${article.title}`.slice(0, 250),
      amount: article.price,
      currency: article.currency,
      metadata: {
        kind: 'article',
        userId,
        articleId: String(article.id),
        authorId: article.authorId,
        title: article.title.slice(0, 200),
      },
    };
  }
  const { author, amount } = input.tip;
  const { tipMin, tipMax, tipCurrency } = config.billing;
  if (amount < tipMin || amount > tipMax)
    throw AppError.validation({ amount: [`must be between ${tipMin} and ${tipMax}`] });
  const [recipient] = await db
    .select({ id: users.id, username: users.username })
    .from(users)
    .where(usernameMatches(author));
  if (!recipient) throw AppError.notFound('profile');
  if (recipient.id === userId) throw AppError.validation({ author: ["can't be yourself"] });
  return {
    purpose: `tip:${recipient.id}:${amount}`,
    mode: 'payment',
    name: `Tip for ${recipient.username}`,
    amount,
    currency: tipCurrency,
    metadata: { kind: 'tip', userId, authorId: recipient.id, authorUsername: recipient.username },
  };
}

export interface CheckoutResult {
  id: string;
  url: string;
  created: boolean;
}

/**
 * `POST /api/billing/checkout`. The same open checkout (same user and purpose, not expired) is
 * returned instead of a new one; a retried request with the same Idempotency-Key gets the same
 * gateway session (Stripe's idempotency). The partial unique index on open checkouts settles races.
 */
export async function createCheckout(
  deps: BillingDeps,
  userId: string,
  input: CheckoutInput,
  idempotencyKey: string | undefined,
  now: Date,
  claim: Statement[] = [],
): Promise<CheckoutResult> {
  const { db, config } = deps;
  const [hit] = await hitStatement(db, `checkout:${userId}`, CHECKOUT_LIMIT, now);
  assertWithinLimit(hit, CHECKOUT_LIMIT, now);
  const purchase = await resolvePurchase(deps, userId, input);
  const openFor = () =>
    db
      .select({ id: checkouts.id, url: checkouts.url })
      .from(checkouts)
      .where(
        and(
          eq(checkouts.userId, userId),
          eq(checkouts.purpose, purchase.purpose),
          eq(checkouts.status, 'open'),
          gt(checkouts.expiresAt, now),
        ),
      );
  const [open] = await openFor();
  if (open) return { ...open, created: false };
  const customer = await ensureCustomer(deps, userId, now);
  const priceData = {
    currency: purchase.currency.toLowerCase(),
    unit_amount: purchase.amount,
    product_data: { name: purchase.name },
    ...(purchase.interval && { recurring: { interval: purchase.interval } }),
  };
  const session = await viaGateway('checkout.sessions.create', () =>
    deps.gateway.checkout.sessions.create(
      {
        mode: purchase.mode,
        customer,
        client_reference_id: userId,
        line_items: [{ price_data: priceData, quantity: 1 }],
        metadata: purchase.metadata,
        ...(purchase.mode === 'subscription'
          ? { subscription_data: { metadata: purchase.metadata } }
          : { payment_intent_data: { metadata: purchase.metadata } }),
        success_url: `${config.appUrl}/billing/success?session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${config.appUrl}/billing/canceled`,
      },
      idempotencyKey ? { idempotencyKey: `folio-checkout-${userId}-${idempotencyKey}` } : undefined,
    ),
  );
  // An expired or stale open row for this purpose is closed first, so the new one can take its place.
  const results = await db.batch([
    db
      .update(checkouts)
      .set({ status: 'expired' })
      .where(
        and(
          eq(checkouts.userId, userId),
          eq(checkouts.purpose, purchase.purpose),
          eq(checkouts.status, 'open'),
          lt(checkouts.expiresAt, sql`${now.getTime() + 1}`),
        ),
      ),
    ...claim,
    db
      .insert(checkouts)
      .values({
        id: session.id,
        userId,
        purpose: purchase.purpose,
        url: session.url!,
        status: 'open',
        expiresAt: new Date(session.expires_at * 1000),
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: checkouts.id }),
    openFor(),
  ]);
  const inserted = results[results.length - 2] as { id: string }[];
  const [current] = results[results.length - 1] as { id: string; url: string }[];
  if (!current) return { id: session.id, url: session.url!, created: inserted.length > 0 };
  return { ...current, created: inserted.length > 0 };
}

// ---------------------------------------------------------------------------------------------
// Membership

export async function getMembership(deps: Pick<BillingDeps, 'db'>, userId: string) {
  const [row] = await deps.db
    .select({
      status: memberships.status,
      interval: memberships.interval,
      currentPeriodEnd: memberships.currentPeriodEnd,
      cancelAtPeriodEnd: memberships.cancelAtPeriodEnd,
      tierId: tiers.id,
      tierName: tiers.name,
    })
    .from(memberships)
    .innerJoin(tiers, eq(tiers.id, memberships.tierId))
    .where(eq(memberships.userId, userId));
  return row ?? null;
}

export type MembershipRow = NonNullable<Awaited<ReturnType<typeof getMembership>>>;

/** Cancel at period end (`cancel = true`) or undo it, through the gateway; state follows from its answer. */
export async function setMembershipCancellation(deps: BillingDeps, userId: string, cancel: boolean, now: Date) {
  const { db } = deps;
  await limitGatewayActions(deps, userId, now);
  const [membership] = await db.select().from(memberships).where(eq(memberships.userId, userId));
  if (!membership) throw AppError.notFound('membership');
  if (!(ACCESS_GRANTING_STATUSES as readonly string[]).includes(membership.status))
    throw AppError.validation({ membership: ['is not active'] });
  if (!cancel && !membership.cancelAtPeriodEnd) throw AppError.validation({ membership: ['is not cancelled'] });
  await viaGateway('subscriptions.update', () =>
    deps.gateway.subscriptions.update(membership.gatewaySubscriptionId, { cancel_at_period_end: cancel }),
  );
  const statements = await viaGateway('subscriptions.retrieve', () =>
    syncSubscriptionStatements(deps, membership.gatewaySubscriptionId, now),
  );
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
  return (await getMembership(deps, userId))!;
}

export async function createPortalSession(deps: BillingDeps, userId: string, now: Date): Promise<{ url: string }> {
  await limitGatewayActions(deps, userId, now);
  const [bound] = await deps.db.select().from(gatewayCustomers).where(eq(gatewayCustomers.userId, userId));
  if (!bound) throw AppError.notFound('customer');
  const session = await viaGateway('billingPortal.sessions.create', () =>
    deps.gateway.billingPortal.sessions.create({
      customer: bound.customerId,
      return_url: `${deps.config.appUrl}/account/billing`,
    }),
  );
  return { url: session.url };
}

// ---------------------------------------------------------------------------------------------
// Ledger reads

/** The user's ledger rows, newest first (seeks ledger_user_id_created_at_idx). */
export function listPayments(deps: Pick<BillingDeps, 'db'>, userId: string, limit: number, offset: number) {
  return deps.db
    .select({
      id: ledger.id,
      kind: ledger.kind,
      amount: ledger.amount,
      currency: ledger.currency,
      refundOf: ledger.refundOf,
      tierId: ledger.tierId,
      articleSlug: articles.slug,
      authorUsername: users.username,
      createdAt: ledger.createdAt,
    })
    .from(ledger)
    .leftJoin(articles, eq(articles.id, ledger.articleId))
    .leftJoin(users, eq(users.id, ledger.authorId))
    .where(eq(ledger.userId, userId))
    .orderBy(desc(ledger.createdAt), desc(ledger.id))
    .limit(limit)
    .offset(offset);
}

export type PaymentRow = Awaited<ReturnType<typeof listPayments>>[number];

/** An author's tips and article sales (refunds subtracted, platform fees shown), per month and currency. */
export async function authorEarnings(deps: Pick<BillingDeps, 'db'>, authorId: string) {
  const month = sql<string>`strftime('%Y-%m', ${ledger.createdAt} / 1000, 'unixepoch')`;
  const sumOf = (kind: string) =>
    sql<number>`coalesce(sum(CASE WHEN ${ledger.kind} = ${kind} THEN ${ledger.amount} END), 0)`;
  return deps.db
    .select({
      month: month.as('month'),
      currency: ledger.currency,
      tips: sumOf('tip').mapWith(Number).as('tips'),
      articleSales: sumOf('article').mapWith(Number).as('article_sales'),
      refunds: sumOf('refund').mapWith(Number).as('refunds'),
      fees: sql<number>`coalesce(sum(${ledger.fee}), 0)`.mapWith(Number).as('fees'),
      net: sql<number>`coalesce(sum(${ledger.amount}) - sum(${ledger.fee}), 0)`.mapWith(Number).as('net'),
      payments: sql<number>`count(CASE WHEN ${ledger.kind} <> 'refund' THEN 1 END)`.mapWith(Number).as('payments'),
    })
    .from(ledger)
    .where(eq(ledger.authorId, authorId))
    .groupBy(month, ledger.currency)
    .orderBy(desc(month), ledger.currency);
}

// ---------------------------------------------------------------------------------------------
// Refunds (publication admins)

export async function refundPayment(
  deps: BillingDeps,
  adminId: string,
  paymentId: string,
  amount: number | undefined,
  idempotencyKey: string | undefined,
  now: Date,
  claim: Statement[] = [],
) {
  const { db } = deps;
  const [hit] = await hitStatement(db, `refund:${adminId}`, REFUND_LIMIT, now);
  assertWithinLimit(hit, REFUND_LIMIT, now);
  const [[payment], [refunded]] = await db.batch([
    db
      .select()
      .from(ledger)
      .where(and(eq(ledger.id, paymentId), ne(ledger.kind, 'refund'))),
    db
      .select({ total: sql<number>`coalesce(-sum(${ledger.amount}), 0)`.mapWith(Number) })
      .from(ledger)
      .where(eq(ledger.refundOf, paymentId)),
  ]);
  if (!payment) throw AppError.notFound('payment');
  if (!payment.gatewayPaymentIntentId)
    throw AppError.validation({ payment: ['cannot be refunded through the gateway'] });
  const remaining = payment.amount - (refunded?.total ?? 0);
  const value = amount ?? remaining;
  if (value <= 0 || value > remaining)
    throw AppError.validation({ amount: [`must be between 1 and ${remaining} (the refundable amount)`] });
  // The request's Idempotency-Key is claimed before the gateway call: a concurrent repeat fails here.
  const [firstClaim, ...moreClaims] = claim;
  if (firstClaim) await db.batch([firstClaim, ...moreClaims]);
  const refund = await viaGateway('refunds.create', () =>
    deps.gateway.refunds.create(
      { payment_intent: payment.gatewayPaymentIntentId!, amount: value, metadata: { ledgerId: payment.id, adminId } },
      idempotencyKey ? { idempotencyKey: `folio-refund-${paymentId}-${idempotencyKey}` } : undefined,
    ),
  );
  return {
    id: refund.id,
    paymentId: payment.id,
    amount: refund.amount,
    currency: payment.currency,
    status: refund.status,
  };
}

// ---------------------------------------------------------------------------------------------
// Reconciliation (cron)

const RECONCILE_BATCH = 25;

/**
 * In case an event is lost: checkouts left open past their expiry are re-read from the gateway
 * (completed → applied as the webhook would; otherwise marked expired), and memberships still
 * granting access past period end plus the grace are re-synced, then expired if still past it
 * (25 a run, each expiry with its `membership.updated` webhook event).
 */
export async function reconcileBilling(deps: BillingDeps, now: Date): Promise<Record<string, number>> {
  const { db } = deps;
  const result = { checkoutsCompleted: 0, checkoutsExpired: 0, membershipsSynced: 0, membershipsExpired: 0 };
  const stale = await db
    .select({ id: checkouts.id })
    .from(checkouts)
    .where(and(eq(checkouts.status, 'open'), lt(checkouts.expiresAt, now)))
    .limit(RECONCILE_BATCH);
  for (const { id } of stale) {
    let session: Awaited<ReturnType<typeof deps.gateway.checkout.sessions.retrieve>> | null;
    try {
      session = await deps.gateway.checkout.sessions.retrieve(id);
    } catch (err) {
      if ((err as { code?: string }).code !== 'resource_missing') continue; // gateway trouble: next run
      session = null;
    }
    if (session?.status === 'complete') {
      const statements = await checkoutCompletedStatements(deps, session, now);
      const [first, ...rest] = statements;
      if (first) await db.batch([first, ...rest]);
      result.checkoutsCompleted++;
    } else {
      if (session?.status === 'open') {
        try {
          await deps.gateway.checkout.sessions.expire(id);
        } catch {
          continue; // gateway trouble: the next run retries
        }
      }
      await db
        .update(checkouts)
        .set({ status: 'expired' })
        .where(and(eq(checkouts.id, id), eq(checkouts.status, 'open')));
      result.checkoutsExpired++;
    }
  }
  const cutoff = new Date(now.getTime() - deps.config.billing.membershipGraceMs);
  const overdue = and(
    inArray(memberships.status, [...ACCESS_GRANTING_STATUSES]),
    lt(memberships.currentPeriodEnd, cutoff),
  );
  const due = await db
    .select({ userId: memberships.userId, subscriptionId: memberships.gatewaySubscriptionId })
    .from(memberships)
    .where(overdue)
    .limit(RECONCILE_BATCH);
  for (const { subscriptionId } of due) {
    if (subscriptionId.startsWith('comp_')) continue; // complimentary: nothing at the gateway
    try {
      const statements = await syncSubscriptionStatements(deps, subscriptionId, now);
      const [first, ...rest] = statements;
      if (first) await db.batch([first, ...rest]);
      result.membershipsSynced++;
    } catch {
      // unreachable gateway or unknown subscription: the expiry below still applies
    }
  }
  // The expiry of this run's memberships, in one batch. Each UPDATE is preceded by its
  // `membership.updated` (the payload the webhook path sends, status as expired), guarded by the
  // UPDATE's own predicate: queued exactly when the UPDATE changes the row, so a membership a sync
  // above renewed, or a re-run of the cron (even with the same scheduled time), sends nothing.
  const stateAt = Date.now();
  const expiry = due.flatMap(({ userId }) => {
    const stillOverdue = and(eq(memberships.userId, userId), overdue)!;
    const expiresNow = sql`EXISTS (SELECT 1 FROM ${memberships} WHERE ${stillOverdue})`;
    const asExpired = sql`json_set(${membershipEventData(userId, expiresNow)}, '$.status', 'canceled')`;
    return [
      webhookEventStatement(db, 'membership.updated', asExpired, now),
      db
        .update(memberships)
        .set({ status: 'canceled', gatewayStateAt: stateAt, updatedAt: now })
        .where(stillOverdue)
        .returning({ userId: memberships.userId }),
    ];
  });
  const [first, ...rest] = expiry;
  if (first) {
    const results = await db.batch([first, ...rest]);
    result.membershipsExpired = results.filter((r, i) => i % 2 === 1 && (r as unknown[]).length > 0).length;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The success page's sync (closes the race with the webhook)

/**
 * Re-reads the viewer's checkout from the gateway and, if it is paid, applies it exactly as the
 * webhook would (idempotently: the same keys, the same guards). Someone else's checkout is 404.
 */
export async function syncCheckout(deps: BillingDeps, userId: string, checkoutId: string, now: Date) {
  const { db } = deps;
  await limitGatewayActions(deps, userId, now);
  const [own] = await db
    .select({ id: checkouts.id, status: checkouts.status })
    .from(checkouts)
    .where(and(eq(checkouts.id, checkoutId), eq(checkouts.userId, userId)));
  if (!own) throw AppError.notFound('checkout');
  if (own.status !== 'open') return { id: own.id, status: own.status };
  const session = await viaGateway('checkout.sessions.retrieve', () => deps.gateway.checkout.sessions.retrieve(own.id));
  if (session.status === 'complete') {
    const [first, ...rest] = await viaGateway('checkout sync', () => checkoutCompletedStatements(deps, session, now));
    if (first) await db.batch([first, ...rest]);
  }
  const [after] = await db.select({ status: checkouts.status }).from(checkouts).where(eq(checkouts.id, own.id));
  return { id: own.id, status: after?.status ?? own.status };
}

// ---------------------------------------------------------------------------------------------
// Tier management (publication admins)

export interface TierInput {
  name?: string;
  description?: string;
  benefits?: string[];
  monthlyPrice?: number;
  yearlyPrice?: number;
  currency?: string;
  active?: boolean;
}

/** A new tier (prices apply to checkouts started from now on; existing subscriptions keep theirs). */
export async function createTier(
  deps: BillingDeps,
  input: Required<Omit<TierInput, 'active'>> & { active?: boolean },
  now: Date,
  claim: Statement[] = [],
) {
  const [[row]] = await deps.db.batch([
    deps.db
      .insert(tiers)
      .values({
        id: newId('tier'),
        ...input,
        currency: input.currency.toUpperCase(),
        active: input.active ?? true,
        createdAt: now,
      })
      .returning(),
    ...claim,
  ]);
  return row!;
}

export async function updateTier(deps: BillingDeps, tierId: string, patch: TierInput) {
  if (Object.keys(patch).length === 0) {
    const [current] = await deps.db.select().from(tiers).where(eq(tiers.id, tierId));
    if (!current) throw AppError.notFound('tier');
    return current;
  }
  const [row] = await deps.db
    .update(tiers)
    .set({ ...patch, ...(patch.currency && { currency: patch.currency.toUpperCase() }) })
    .where(eq(tiers.id, tierId))
    .returning();
  if (!row) throw AppError.notFound('tier');
  return row;
}
