/**
 * The test gateway: an in-process fake of the few Stripe endpoints Folio calls (customers, checkout
 * sessions, subscriptions, billing-portal sessions, refunds, invoice payments), served to the real
 * Stripe SDK through its custom-fetch hook. It honours `Idempotency-Key` as Stripe does (same key and
 * parameters → the stored response; other parameters → 400 idempotency_error; a request still in
 * flight → 409). State lives in the gw_ tables; events are queued in gw_events and delivered by
 * `deliverPendingEvents` (fake-delivery.ts).
 */
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { gwIdempotencyKeys } from '../../db/schema';
import { toBase64Url } from '../../lib/encoding';
import { parseStripeForm, type FormObject } from './form';
import {
  eventStatement,
  findObjects,
  gatewayNow,
  getObject,
  gwId,
  publicView,
  putStatement,
  setSettingStatement,
  type GwObject,
} from './fake-store';

class FakeError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const notFound = (id: string) =>
  new FakeError(404, 'invalid_request_error', `No such object: '${id}'`, 'resource_missing');
const invalid = (message: string) => new FakeError(400, 'invalid_request_error', message, 'parameter_invalid');

const CHECKOUT_TTL_MS = 24 * 3_600_000;
const sec = (ms: number) => Math.floor(ms / 1000);

interface FakeContext {
  db: Database;
  /** Where the fake's own pages (checkout, portal) are served: the Worker's origin. */
  origin: string;
}

/** A `fetch` for `Stripe.createFetchHttpClient`: answers Stripe API requests from the gw_ tables. */
export function fakeStripeFetch(ctx: FakeContext): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input.toString() : input.url);
    const method = (init?.method ?? 'GET').toUpperCase();
    const body = typeof init?.body === 'string' ? init.body : '';
    const headers = new Headers(init?.headers);
    const key = headers.get('Idempotency-Key');
    try {
      if (method === 'POST' && key)
        return await withIdempotency(ctx.db, key, `${method} ${url.pathname} ${body}`, () =>
          route(ctx, method, url, body),
        );
      const result = await route(ctx, method, url, body);
      return json(200, result);
    } catch (err) {
      if (err instanceof FakeError)
        return json(err.status, { error: { type: err.type, message: err.message, code: err.code } });
      throw err;
    }
  }) as typeof fetch;
}

function json(status: number, body: unknown, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', 'Request-Id': `req_${crypto.randomUUID()}`, ...extra },
  });
}

async function sha256(text: string): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))));
}

/** Stripe's idempotency: a key is reserved first (in flight), then holds the response it produced. */
async function withIdempotency(
  db: Database,
  key: string,
  request: string,
  run: () => Promise<unknown>,
): Promise<Response> {
  const requestHash = await sha256(request);
  const reserved = await db
    .insert(gwIdempotencyKeys)
    .values({ key, requestHash, status: 0, response: '', createdAt: Date.now() })
    .onConflictDoNothing()
    .returning({ key: gwIdempotencyKeys.key });
  if (reserved.length === 0) {
    const [stored] = await db.select().from(gwIdempotencyKeys).where(eq(gwIdempotencyKeys.key, key)).limit(1);
    if (!stored || stored.requestHash !== requestHash)
      return json(400, {
        error: {
          type: 'idempotency_error',
          message: 'Keys for idempotent requests can only be used with the same parameters they were first used with.',
        },
      });
    if (stored.status === 0)
      return json(
        409,
        { error: { type: 'idempotency_error', code: 'idempotency_key_in_use', message: 'in flight' } },
        {
          'Stripe-Should-Retry': 'true',
        },
      );
    return new Response(stored.response, {
      status: stored.status,
      headers: { 'Content-Type': 'application/json', 'Idempotent-Replayed': 'true' },
    });
  }
  let status = 200;
  let payload: unknown;
  try {
    payload = await run();
  } catch (err) {
    if (!(err instanceof FakeError)) {
      await db.delete(gwIdempotencyKeys).where(eq(gwIdempotencyKeys.key, key));
      throw err;
    }
    status = err.status;
    payload = { error: { type: err.type, message: err.message, code: err.code } };
  }
  const response = JSON.stringify(payload);
  await db.update(gwIdempotencyKeys).set({ status, response }).where(eq(gwIdempotencyKeys.key, key));
  return new Response(response, { status, headers: { 'Content-Type': 'application/json' } });
}

async function route(ctx: FakeContext, method: string, url: URL, body: string): Promise<unknown> {
  const { db } = ctx;
  const params: FormObject = method === 'GET' ? Object.fromEntries(url.searchParams) : parseStripeForm(body);
  const path = url.pathname.replace(/^\/v1\//, '');
  const now = await gatewayNow(db, Date.now());
  const is = (m: string, pattern: RegExp) => (method === m ? pattern.exec(path) : null);
  let m: RegExpExecArray | null;
  if (is('POST', /^customers$/)) return createCustomer(db, params, now);
  if (is('POST', /^checkout\/sessions$/)) return createCheckoutSession(ctx, params, now);
  if ((m = is('POST', /^checkout\/sessions\/([^/]+)\/expire$/))) return expireCheckoutSession(db, m[1]!, now);
  if ((m = is('GET', /^(?:customers|subscriptions|refunds|invoices|checkout\/sessions)\/([^/]+)$/)))
    return publicView(await mustGet(db, m[1]!));
  if ((m = is('POST', /^subscriptions\/([^/]+)$/))) return updateSubscription(db, m[1]!, params, now);
  if ((m = is('DELETE', /^subscriptions\/([^/]+)$/))) return cancelSubscription(db, m[1]!, now);
  if (is('POST', /^billing_portal\/sessions$/)) return createPortalSession(ctx, params, now);
  if (is('POST', /^refunds$/)) return createRefund(db, params, now);
  if (is('GET', /^refunds$/))
    return list(await findObjects(db, 'refund', 'payment_intent', String(params.payment_intent ?? '')));
  if (is('GET', /^invoice_payments$/))
    return list(await findObjects(db, 'invoice_payment', 'invoice', String(params.invoice ?? '')));
  throw new FakeError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${url.pathname}).`);
}

const list = (data: GwObject[]) => ({ object: 'list', data: data.map(publicView), has_more: false, url: '' });

async function mustGet<T extends GwObject>(db: Database, id: string): Promise<T> {
  const obj = await getObject<T>(db, id);
  if (!obj) throw notFound(id);
  return obj;
}

const metadataOf = (v: unknown): Record<string, string> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};

async function createCustomer(db: Database, params: FormObject, now: number) {
  const customer: GwObject = {
    id: gwId('cus'),
    object: 'customer',
    email: (params.email as string) ?? null,
    name: (params.name as string) ?? null,
    metadata: metadataOf(params.metadata),
    created: sec(now),
    livemode: false,
  };
  await putStatement(db, customer, now);
  return customer;
}

interface LineSummary {
  name: string;
  amount: number;
  currency: string;
  interval: 'month' | 'year' | null;
}

function lineOf(params: FormObject): LineSummary {
  const items = params.line_items;
  const first = Array.isArray(items) ? (items[0] as FormObject | undefined) : undefined;
  const priceData = first?.price_data as FormObject | undefined;
  if (!priceData) throw invalid('line_items[0][price_data] is required by the test gateway');
  const amount = Number(priceData.unit_amount);
  if (!Number.isInteger(amount) || amount <= 0) throw invalid('unit_amount must be a positive integer');
  const recurring = priceData.recurring as FormObject | undefined;
  const interval = recurring?.interval === 'month' || recurring?.interval === 'year' ? recurring.interval : null;
  return {
    name: String((priceData.product_data as FormObject | undefined)?.name ?? 'Item'),
    amount,
    currency: String(priceData.currency ?? 'usd').toLowerCase(),
    interval,
  };
}

async function createCheckoutSession(ctx: FakeContext, params: FormObject, now: number) {
  const mode = params.mode;
  if (mode !== 'payment' && mode !== 'subscription') throw invalid('mode must be payment or subscription');
  const customer = String(params.customer ?? '');
  if (!(await getObject(ctx.db, customer))) throw notFound(customer);
  const line = lineOf(params);
  if ((mode === 'subscription') !== (line.interval !== null))
    throw invalid('subscription mode needs a recurring price, payment mode a one-time price');
  const id = gwId('cs');
  const session: GwObject = {
    id,
    object: 'checkout.session',
    mode,
    status: 'open',
    payment_status: 'unpaid',
    customer,
    client_reference_id: (params.client_reference_id as string) ?? null,
    metadata: metadataOf(params.metadata),
    amount_subtotal: line.amount,
    amount_total: line.amount,
    currency: line.currency,
    url: `${ctx.origin}/billing/test-checkout/${id}`,
    success_url: (params.success_url as string) ?? null,
    cancel_url: (params.cancel_url as string) ?? null,
    expires_at: sec(now + CHECKOUT_TTL_MS),
    created: sec(now),
    subscription: null,
    invoice: null,
    payment_intent: null,
    livemode: false,
    _line: line,
    _subscription_metadata: metadataOf((params.subscription_data as FormObject | undefined)?.metadata),
    _payment_metadata: metadataOf((params.payment_intent_data as FormObject | undefined)?.metadata),
  };
  await putStatement(ctx.db, session, now);
  return publicView(session);
}

async function expireCheckoutSession(db: Database, id: string, now: number) {
  const session = await mustGet(db, id);
  if (session.status !== 'open') throw invalid(`Session ${id} is not open`);
  const expired = { ...session, status: 'expired' };
  await db.batch([putStatement(db, expired, now), eventStatement(db, 'checkout.session.expired', expired, now)]);
  return publicView(expired);
}

async function createPortalSession(ctx: FakeContext, params: FormObject, now: number) {
  const customer = String(params.customer ?? '');
  if (!(await getObject(ctx.db, customer))) throw notFound(customer);
  return {
    id: gwId('bps'),
    object: 'billing_portal.session',
    customer,
    return_url: params.return_url ?? null,
    url: `${ctx.origin}/billing/test-portal/${customer}`,
    created: sec(now),
    livemode: false,
  };
}

export type Subscription = GwObject & {
  status: string;
  customer: string;
  cancel_at_period_end: boolean;
  metadata: Record<string, string>;
  items: {
    object: string;
    data: (Record<string, unknown> & {
      current_period_start: number;
      current_period_end: number;
      price: Record<string, unknown> & {
        unit_amount: number;
        currency: string;
        recurring: { interval: 'month' | 'year' };
      };
    })[];
  };
  _failed_attempts?: number;
  _next_attempt_at?: number;
  _open_invoice?: string | null;
};

async function updateSubscription(db: Database, id: string, params: FormObject, now: number) {
  const sub = await mustGet<Subscription>(db, id);
  if (sub.status === 'canceled')
    throw invalid('A canceled subscription can only update its cancellation_details and metadata.');
  const updated: Subscription = { ...sub };
  if (params.cancel_at_period_end !== undefined) {
    updated.cancel_at_period_end = params.cancel_at_period_end === 'true';
    updated.canceled_at = updated.cancel_at_period_end ? sec(now) : null;
    updated.cancel_at = updated.cancel_at_period_end ? sub.items.data[0]!.current_period_end : null;
  }
  if (params.metadata) updated.metadata = { ...sub.metadata, ...metadataOf(params.metadata) };
  await db.batch([putStatement(db, updated, now), eventStatement(db, 'customer.subscription.updated', updated, now)]);
  return publicView(updated);
}

/** Cancels at once (Stripe's `DELETE /v1/subscriptions/:id`): status canceled, `customer.subscription.deleted`. */
async function cancelSubscription(db: Database, id: string, now: number) {
  const sub = await mustGet<Subscription>(db, id);
  if (sub.status === 'canceled') throw invalid('This subscription has already been canceled.');
  const canceled: Subscription = { ...sub, status: 'canceled', canceled_at: sec(now), ended_at: sec(now) };
  await db.batch([putStatement(db, canceled, now), eventStatement(db, 'customer.subscription.deleted', canceled, now)]);
  return publicView(canceled);
}

type Charge = GwObject & { amount: number; amount_refunded: number; payment_intent: string; currency: string };

async function createRefund(db: Database, params: FormObject, now: number) {
  const piId = String(params.payment_intent ?? '');
  const pi = await mustGet(db, piId);
  const charge = await mustGet<Charge>(db, String(pi.latest_charge));
  const remaining = charge.amount - charge.amount_refunded;
  const amount = params.amount === undefined ? remaining : Number(params.amount);
  if (!Number.isInteger(amount) || amount <= 0) throw invalid('amount must be a positive integer');
  if (amount > remaining)
    throw new FakeError(
      400,
      'invalid_request_error',
      `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`,
      'amount_too_large',
    );
  const refund: GwObject = {
    id: gwId('re'),
    object: 'refund',
    amount,
    currency: charge.currency,
    charge: charge.id,
    payment_intent: piId,
    status: 'succeeded',
    reason: (params.reason as string) ?? null,
    metadata: metadataOf(params.metadata),
    created: sec(now),
  };
  const refunded = {
    ...charge,
    amount_refunded: charge.amount_refunded + amount,
    refunded: charge.amount_refunded + amount >= charge.amount,
  };
  await db.batch([
    putStatement(db, refund, now),
    putStatement(db, refunded, now),
    eventStatement(db, 'charge.refunded', refunded, now),
  ]);
  return publicView(refund);
}

// ---------------------------------------------------------------------------------------------
// What the test checkout page, the portal page and the clock do (not Stripe API endpoints).

/** A payment intent with its succeeded charge (every payment the fake takes). */
function paymentStatements(
  db: Database,
  customer: string,
  amount: number,
  currency: string,
  metadata: Record<string, string>,
  now: number,
) {
  const pi: GwObject = {
    id: gwId('pi'),
    object: 'payment_intent',
    amount,
    amount_received: amount,
    currency,
    customer,
    status: 'succeeded',
    metadata,
    created: sec(now),
    latest_charge: gwId('ch'),
  };
  const charge: Charge = {
    id: pi.latest_charge as string,
    object: 'charge',
    amount,
    amount_captured: amount,
    amount_refunded: 0,
    refunded: false,
    paid: true,
    captured: true,
    status: 'succeeded',
    currency,
    customer,
    payment_intent: pi.id,
    metadata,
    created: sec(now),
  };
  return { pi, charge, statements: [putStatement(db, pi, now), putStatement(db, charge, now)] };
}

function addInterval(ms: number, interval: 'month' | 'year'): number {
  const d = new Date(ms);
  if (interval === 'month') d.setUTCMonth(d.getUTCMonth() + 1);
  else d.setUTCFullYear(d.getUTCFullYear() + 1);
  return d.getTime();
}

/** An invoice of a subscription (shape of the pinned API version: the subscription is under `parent`). */
function invoiceStatements(db: Database, sub: Subscription, paid: boolean, reason: string, now: number) {
  const item = sub.items.data[0]!;
  const invoice: GwObject = {
    id: gwId('in'),
    object: 'invoice',
    customer: sub.customer,
    status: paid ? 'paid' : 'open',
    amount_due: item.price.unit_amount,
    amount_paid: paid ? item.price.unit_amount : 0,
    amount_remaining: paid ? 0 : item.price.unit_amount,
    currency: item.price.currency,
    billing_reason: reason,
    attempt_count: 1,
    attempted: true,
    period_start: item.current_period_start,
    period_end: item.current_period_end,
    parent: {
      type: 'subscription_details',
      subscription_details: { subscription: sub.id, metadata: sub.metadata },
      quote_details: null,
    },
    lines: {
      object: 'list',
      data: [
        {
          object: 'line_item',
          amount: item.price.unit_amount,
          currency: item.price.currency,
          period: { start: item.current_period_start, end: item.current_period_end },
        },
      ],
      has_more: false,
    },
    created: sec(now),
    status_transitions: { paid_at: paid ? sec(now) : null },
  };
  const statements = [putStatement(db, invoice, now)];
  if (paid) {
    const payment = paymentStatements(db, sub.customer, item.price.unit_amount, item.price.currency, sub.metadata, now);
    statements.push(...payment.statements);
    const invoicePayment: GwObject = {
      id: gwId('inpay'),
      object: 'invoice_payment',
      invoice: invoice.id,
      amount_paid: item.price.unit_amount,
      currency: item.price.currency,
      is_default: true,
      status: 'paid',
      payment: { type: 'payment_intent', payment_intent: payment.pi.id },
      created: sec(now),
    };
    statements.push(putStatement(db, invoicePayment, now));
  }
  return { invoice, statements };
}

export type CheckoutSession = GwObject & {
  mode: 'payment' | 'subscription';
  status: string;
  customer: string;
  metadata: Record<string, string>;
  amount_total: number;
  currency: string;
  success_url: string | null;
  cancel_url: string | null;
  expires_at: number;
  _line: LineSummary;
  _subscription_metadata: Record<string, string>;
  _payment_metadata: Record<string, string>;
};

export async function getCheckoutSession(db: Database, id: string): Promise<CheckoutSession | undefined> {
  const session = await getObject<CheckoutSession>(db, id);
  return session?.object === 'checkout.session' ? session : undefined;
}

/** The Pay button: takes the payment, creates the subscription if any, and queues Stripe's events. */
export async function payCheckoutSession(db: Database, id: string, realNow: number): Promise<CheckoutSession> {
  const session = await getCheckoutSession(db, id);
  if (!session) throw notFound(id);
  const now = await gatewayNow(db, realNow);
  if (session.status !== 'open' || session.expires_at * 1000 <= now)
    throw invalid('This checkout session is no longer open.');
  const line = session._line;
  const completed: CheckoutSession = { ...session, status: 'complete', payment_status: 'paid' };
  const statements = [];
  const events: [string, GwObject][] = [];
  if (session.mode === 'subscription') {
    const sub: Subscription = {
      id: gwId('sub'),
      object: 'subscription',
      customer: session.customer,
      status: 'active',
      cancel_at_period_end: false,
      cancel_at: null,
      canceled_at: null,
      ended_at: null,
      metadata: session._subscription_metadata,
      items: {
        object: 'list',
        data: [
          {
            id: gwId('si'),
            object: 'subscription_item',
            quantity: 1,
            current_period_start: sec(now),
            current_period_end: sec(addInterval(now, line.interval!)),
            price: {
              id: gwId('price'),
              object: 'price',
              currency: line.currency,
              unit_amount: line.amount,
              recurring: { interval: line.interval! },
              product: gwId('prod'),
            },
          },
        ],
      },
      created: sec(now),
      start_date: sec(now),
      latest_invoice: null,
    };
    const { invoice, statements: invoiceRows } = invoiceStatements(db, sub, true, 'subscription_create', now);
    sub.latest_invoice = invoice.id;
    completed.subscription = sub.id;
    completed.invoice = invoice.id;
    statements.push(putStatement(db, sub, now), ...invoiceRows);
    events.push(['customer.subscription.created', sub], ['invoice.paid', invoice]);
  } else {
    const payment = paymentStatements(db, session.customer, line.amount, line.currency, session._payment_metadata, now);
    completed.payment_intent = payment.pi.id;
    statements.push(...payment.statements);
    events.push(['payment_intent.succeeded', payment.pi]);
  }
  events.push(['checkout.session.completed', completed]);
  statements.push(putStatement(db, completed, now), ...events.map(([type, obj]) => eventStatement(db, type, obj, now)));
  await db.batch(statements as [(typeof statements)[0], ...typeof statements]);
  return completed;
}

/** Cancels at period end, or resumes (the portal page's buttons). */
export async function setCancelAtPeriodEnd(db: Database, subscriptionId: string, cancel: boolean, realNow: number) {
  const now = await gatewayNow(db, realNow);
  return updateSubscription(db, subscriptionId, { cancel_at_period_end: String(cancel) }, now);
}

export async function subscriptionsOf(db: Database, customer: string): Promise<Subscription[]> {
  return findObjects<Subscription>(db, 'subscription', 'customer', customer);
}

/** Days between payment retries of a past-due subscription, and attempts before it is canceled. */
const RETRY_DAYS = 3;
const MAX_ATTEMPTS = 4;

/**
 * Moves gateway time forward and runs what falls due, in time order: renewals (a paid invoice, or,
 * while `failRenewals` is on, a failed one that makes the subscription past_due and is retried every
 * 3 days, 4 attempts in all, then canceled) and the end of subscriptions cancelled at period end.
 */
export async function advanceClock(db: Database, days: number, failRenewals: boolean, realNow: number) {
  const start = await gatewayNow(db, realNow);
  const target = start + days * 86_400_000;
  let processed = 0;
  for (let i = 0; i < 500; i++) {
    const subs = (await findObjects<Subscription>(db, 'subscription')).filter((s) => s.status !== 'canceled');
    const due = subs
      .map((s) => ({
        s,
        at: s.status === 'past_due' ? s._next_attempt_at! : s.items.data[0]!.current_period_end * 1000,
      }))
      .filter(({ at }) => at <= target)
      .sort((a, b) => a.at - b.at)[0];
    if (!due) break;
    await processDue(db, due.s, due.at, failRenewals);
    processed++;
  }
  await setSettingStatement(db, 'clock_offset_ms', String(target - realNow));
  return { now: new Date(target).toISOString(), processed };
}

async function processDue(db: Database, sub: Subscription, at: number, failRenewals: boolean) {
  const item = sub.items.data[0]!;
  const statements = [];
  const events: [string, GwObject][] = [];
  let next: Subscription;
  if (sub.status !== 'past_due' && sub.cancel_at_period_end) {
    next = { ...sub, status: 'canceled', ended_at: sec(at) };
    events.push(['customer.subscription.deleted', next]);
  } else if (sub.status !== 'past_due') {
    const period = {
      current_period_start: item.current_period_end,
      current_period_end: sec(addInterval(item.current_period_end * 1000, item.price.recurring.interval)),
    };
    next = { ...sub, items: { ...sub.items, data: [{ ...item, ...period }] } };
    const { invoice, statements: rows } = invoiceStatements(db, next, !failRenewals, 'subscription_cycle', at);
    statements.push(...rows);
    next.latest_invoice = invoice.id;
    if (failRenewals) {
      next = {
        ...next,
        status: 'past_due',
        _failed_attempts: 1,
        _next_attempt_at: at + RETRY_DAYS * 86_400_000,
        _open_invoice: invoice.id,
      };
      events.push(['invoice.payment_failed', invoice], ['customer.subscription.updated', next]);
    } else events.push(['invoice.paid', invoice], ['customer.subscription.updated', next]);
  } else {
    const invoice = (await getObject(db, sub._open_invoice!))!;
    const attempts = (sub._failed_attempts ?? 1) + 1;
    if (failRenewals) {
      const failed = { ...invoice, attempt_count: attempts };
      statements.push(putStatement(db, failed, at));
      events.push(['invoice.payment_failed', failed]);
      if (attempts >= MAX_ATTEMPTS) {
        next = { ...sub, status: 'canceled', ended_at: sec(at), canceled_at: sec(at), _failed_attempts: attempts };
        const voided = { ...failed, status: 'void' };
        statements.push(putStatement(db, voided, at));
        events.push(['customer.subscription.deleted', next]);
      } else {
        next = { ...sub, _failed_attempts: attempts, _next_attempt_at: at + RETRY_DAYS * 86_400_000 };
      }
    } else {
      const payment = paymentStatements(
        db,
        sub.customer,
        Number(invoice.amount_due),
        String(invoice.currency),
        sub.metadata,
        at,
      );
      const paid = {
        ...invoice,
        status: 'paid',
        amount_paid: invoice.amount_due,
        amount_remaining: 0,
        attempt_count: attempts,
      };
      const invoicePayment: GwObject = {
        id: gwId('inpay'),
        object: 'invoice_payment',
        invoice: invoice.id,
        amount_paid: invoice.amount_due,
        currency: invoice.currency,
        is_default: true,
        status: 'paid',
        payment: { type: 'payment_intent', payment_intent: payment.pi.id },
        created: sec(at),
      };
      statements.push(...payment.statements, putStatement(db, paid, at), putStatement(db, invoicePayment, at));
      next = { ...sub, status: 'active', _failed_attempts: 0, _next_attempt_at: undefined, _open_invoice: null };
      events.push(['invoice.paid', paid], ['customer.subscription.updated', next]);
    }
  }
  statements.push(putStatement(db, next, at), ...events.map(([type, obj]) => eventStatement(db, type, obj, at)));
  await db.batch(statements as [(typeof statements)[0], ...typeof statements]);
}
