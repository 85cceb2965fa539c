import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/request';
import { advance, postWebhook, registerUser, SECRET, sign, subscribe } from './helpers';
import { PRODUCTION_SECRETS } from '../helpers/production';

const API_VERSION = '2026-10-28.endive';

async function userId(username: string): Promise<string> {
  const row = await env.DB.prepare('SELECT id FROM users WHERE username = ?').bind(username).first<{ id: string }>();
  return row!.id;
}

let seq = 0;
/** A tip paid through Checkout, as Stripe sends it (the handler needs no gateway call for it). */
async function tipEvent(amount = 700) {
  const payer = await registerUser();
  const author = await registerUser();
  const n = `${Date.now()}${++seq}`;
  const event = {
    id: `evt_tip_${n}`,
    object: 'event',
    api_version: API_VERSION,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'checkout.session.completed',
    data: {
      object: {
        id: `cs_tip_${n}`,
        object: 'checkout.session',
        mode: 'payment',
        status: 'complete',
        payment_status: 'paid',
        payment_intent: `pi_tip_${n}`,
        amount_total: amount,
        currency: 'usd',
        metadata: {
          kind: 'tip',
          userId: await userId(payer.username),
          authorId: await userId(author.username),
          authorUsername: author.username,
        },
      },
    },
  };
  return { event, payload: JSON.stringify(event), payer, author, paymentIntent: `pi_tip_${n}` };
}

async function ledgerRows(gatewayId: string) {
  const row = await env.DB.prepare('SELECT count(*) AS n FROM ledger WHERE gateway_id = ?')
    .bind(gatewayId)
    .first<{ n: number }>();
  return row!.n;
}

async function eventRecorded(id: string) {
  return (await env.DB.prepare('SELECT 1 FROM billing_events WHERE id = ?').bind(id).first()) !== null;
}

async function emailsTo(email: string, kind: string) {
  const row = await env.DB.prepare('SELECT count(*) AS n FROM outbox WHERE recipient = ? AND kind = ?')
    .bind(email, kind)
    .first<{ n: number }>();
  return row!.n;
}

describe('POST /api/billing/webhooks: signatures (Stripe SDK generateTestHeaderStringAsync)', () => {
  it('accepts a validly signed event and applies it', async () => {
    const { payload, paymentIntent, event, payer } = await tipEvent();
    const res = await postWebhook(payload, await sign(payload));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, outcome: 'processed' });
    expect(await ledgerRows(paymentIntent)).toBe(1);
    expect(await eventRecorded(event.id)).toBe(true);
    expect(await emailsTo(payer.email, 'payment_receipt')).toBe(1);
  });

  it('refuses a tampered body (400) and changes nothing', async () => {
    const { payload, paymentIntent, event } = await tipEvent();
    const signature = await sign(payload);
    const tampered = payload.replace('"amount_total":700', '"amount_total":7');
    expect(tampered).not.toBe(payload);
    const res = await postWebhook(tampered, signature);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: { signature: ['is invalid'] } });
    expect(await ledgerRows(paymentIntent)).toBe(0);
    expect(await eventRecorded(event.id)).toBe(false);
  });

  it('refuses a signature made with another secret', async () => {
    const { payload, paymentIntent } = await tipEvent();
    const res = await postWebhook(payload, await sign(payload, 'whsec_someone_else'));
    expect(res.status).toBe(400);
    expect(await ledgerRows(paymentIntent)).toBe(0);
  });

  it('refuses a stale timestamp (replay older than 5 minutes)', async () => {
    const { payload, paymentIntent } = await tipEvent();
    const res = await postWebhook(payload, await sign(payload, SECRET, Math.floor(Date.now() / 1000) - 6 * 60));
    expect(res.status).toBe(400);
    expect(await ledgerRows(paymentIntent)).toBe(0);
  });

  it('refuses an absent signature', async () => {
    const { payload, paymentIntent } = await tipEvent();
    const res = await postWebhook(payload);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: { signature: ['is missing'] } });
    expect(await ledgerRows(paymentIntent)).toBe(0);
  });

  it('accepts a header with two v1 signatures while Stripe rotates the endpoint secret', async () => {
    const { payload, paymentIntent } = await tipEvent();
    const t = Math.floor(Date.now() / 1000);
    const old = await sign(payload, 'whsec_old_secret_being_rolled', t);
    const current = await sign(payload, SECRET, t);
    const header = `${old},${current.split(',').find((p) => p.startsWith('v1='))}`;
    expect(header.match(/v1=/g)).toHaveLength(2);
    const res = await postWebhook(payload, header);
    expect(res.status).toBe(200);
    expect(await ledgerRows(paymentIntent)).toBe(1);
  });

  it('accepts either configured secret while Folio rotates its own (STRIPE_WEBHOOK_SECRET="new,old")', async () => {
    const { payload, paymentIntent } = await tipEvent();
    const res = await call('POST', '/api/billing/webhooks', {
      rawBody: payload,
      headers: { 'Stripe-Signature': await sign(payload, 'whsec_old'), 'Content-Type': 'application/json' },
      env: { STRIPE_WEBHOOK_SECRET: 'whsec_new,whsec_old' },
    });
    expect(res.status).toBe(200);
    expect(await ledgerRows(paymentIntent)).toBe(1);
  });

  it('uses the configured secret, not the development default, when one is set', async () => {
    const { payload } = await tipEvent();
    const res = await call('POST', '/api/billing/webhooks', {
      rawBody: payload,
      headers: { 'Stripe-Signature': await sign(payload, SECRET) },
      env: { STRIPE_WEBHOOK_SECRET: PRODUCTION_SECRETS.STRIPE_WEBHOOK_SECRET },
    });
    expect(res.status).toBe(400);
  });
});

describe('POST /api/billing/webhooks: delivery semantics', () => {
  it('accepts an event larger than the API body limit (Stripe sizes its deliveries, up to 1 MiB)', async () => {
    const { event, paymentIntent } = await tipEvent();
    const big = { ...event, data: { object: { ...event.data.object, description: 'x'.repeat(300_000) } } };
    const payload = JSON.stringify(big);
    const res = await postWebhook(payload, await sign(payload));
    expect(res.status).toBe(200);
    expect(await ledgerRows(paymentIntent)).toBe(1);
    const huge = JSON.stringify({ ...big, id: `${big.id}_huge`, pad: 'y'.repeat(1_100_000) });
    expect((await postWebhook(huge, await sign(huge))).status).toBe(413);
  });

  it('answers 200 to event types it does not handle, changing nothing', async () => {
    const payload = JSON.stringify({
      id: `evt_unknown_${Date.now()}`,
      object: 'event',
      api_version: API_VERSION,
      created: Math.floor(Date.now() / 1000),
      type: 'customer.tax_id.created',
      data: { object: { id: 'txi_1', object: 'tax_id' } },
    });
    const res = await postWebhook(payload, await sign(payload));
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('ignored');
  });

  it('a subscription unknown to the gateway is acknowledged without effect (no endless retries)', async () => {
    const payload = JSON.stringify({
      id: `evt_foreign_${Date.now()}`,
      object: 'event',
      api_version: API_VERSION,
      created: Math.floor(Date.now() / 1000),
      type: 'customer.subscription.updated',
      data: { object: { id: 'sub_not_ours', object: 'subscription', status: 'active' } },
    });
    const res = await postWebhook(payload, await sign(payload));
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('processed');
  });

  it('a duplicate delivery answers 200 and has no second effect', async () => {
    const { payload, paymentIntent, payer } = await tipEvent();
    expect((await postWebhook(payload, await sign(payload))).body.outcome).toBe('processed');
    const again = await postWebhook(payload, await sign(payload));
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe('duplicate');
    expect(await ledgerRows(paymentIntent)).toBe(1);
    expect(await emailsTo(payer.email, 'payment_receipt')).toBe(1);
  });

  it('parallel deliveries of the same event converge on one effect', async () => {
    const { payload, paymentIntent, payer } = await tipEvent();
    const signature = await sign(payload);
    const results = await Promise.all([1, 2, 3, 4].map(() => postWebhook(payload, signature)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(await ledgerRows(paymentIntent)).toBe(1);
    expect(await emailsTo(payer.email, 'payment_receipt')).toBe(1);
  });

  it('an unpaid completed checkout (async payment method) waits for async_payment_succeeded', async () => {
    const { event, paymentIntent, payer } = await tipEvent();
    const pending = {
      ...event,
      id: `${event.id}_pending`,
      data: { object: { ...event.data.object, payment_status: 'unpaid' } },
    };
    const first = JSON.stringify(pending);
    expect((await postWebhook(first, await sign(first))).body.outcome).toBe('processed');
    expect(await ledgerRows(paymentIntent)).toBe(0);
    expect(await emailsTo(payer.email, 'payment_receipt')).toBe(0);
    const succeeded = JSON.stringify({ ...event, type: 'checkout.session.async_payment_succeeded' });
    expect((await postWebhook(succeeded, await sign(succeeded))).status).toBe(200);
    expect(await ledgerRows(paymentIntent)).toBe(1);
    expect(await emailsTo(payer.email, 'payment_receipt')).toBe(1);
  });

  it('the same payment under another event id (Stripe sends completed and async_payment_succeeded) is one row and one receipt', async () => {
    const { event, paymentIntent, payer } = await tipEvent();
    const second = { ...event, id: `${event.id}_async`, type: 'checkout.session.async_payment_succeeded' };
    for (const e of [event, second]) {
      const payload = JSON.stringify(e);
      expect((await postWebhook(payload, await sign(payload))).status).toBe(200);
    }
    expect(await ledgerRows(paymentIntent)).toBe(1);
    expect(await emailsTo(payer.email, 'payment_receipt')).toBe(1);
  });
});

/** The events the test gateway emitted for a subscription, oldest first. */
async function gatewayEvents(subscriptionOrInvoiceOwner: string) {
  const { results } = await env.DB.prepare(
    `SELECT payload FROM gw_events WHERE json_extract(payload, '$.data.object.id') = ?1
       OR json_extract(payload, '$.data.object.parent.subscription_details.subscription') = ?1 ORDER BY seq`,
  )
    .bind(subscriptionOrInvoiceOwner)
    .all<{ payload: string }>();
  return results.map(
    (r) => JSON.parse(r.payload) as { id: string; type: string; data: { object: Record<string, unknown> } },
  );
}

async function membershipOf(username: string) {
  return env.DB.prepare(
    'SELECT status, cancel_at_period_end, gateway_subscription_id, gateway_state_at FROM memberships WHERE user_id = ?',
  )
    .bind(await userId(username))
    .first<{
      status: string;
      cancel_at_period_end: number;
      gateway_subscription_id: string;
      gateway_state_at: number;
    }>();
}

/** Redelivers an old event under a new id (as a late or replayed delivery would arrive). */
async function redeliver(event: { id: string }, suffix: string) {
  const payload = JSON.stringify({ ...event, id: `${event.id}_${suffix}` });
  return postWebhook(payload, await sign(payload));
}

describe('POST /api/billing/webhooks: out of order and in parallel', () => {
  it('an older subscription event arriving late never overwrites newer state (the gateway is re-read)', async () => {
    const reader = await registerUser();
    await subscribe(reader);
    const { gateway_subscription_id: sub } = (await membershipOf(reader.username))!;
    const created = (await gatewayEvents(sub)).find((e) => e.type === 'customer.subscription.created')!;
    expect(created.data.object.status).toBe('active');

    await call('POST', '/api/user/membership/cancel', { token: reader.token });
    await advance(40); // the period ends: the gateway deletes the subscription
    expect((await membershipOf(reader.username))!.status).toBe('canceled');

    // The old "created" (status active in its payload) arrives now: state stays canceled.
    expect((await redeliver(created, 'late')).status).toBe(200);
    expect((await membershipOf(reader.username))!.status).toBe('canceled');
  });

  it('created/updated/deleted delivered in reverse and in parallel converge on the gateway state', async () => {
    const reader = await registerUser();
    await subscribe(reader);
    const { gateway_subscription_id: sub } = (await membershipOf(reader.username))!;
    await call('POST', '/api/user/membership/cancel', { token: reader.token });
    await call('POST', '/api/user/membership/resume', { token: reader.token });
    const events = (await gatewayEvents(sub)).filter((e) => e.type.startsWith('customer.subscription.'));
    expect(events.length).toBeGreaterThanOrEqual(3);
    await Promise.all(events.reverse().map((e, i) => redeliver(e, `par${i}`)));
    const state = (await membershipOf(reader.username))!;
    expect(state).toMatchObject({ status: 'active', cancel_at_period_end: 0 });
  });

  it('the newest-wins guard in SQL keeps a newer stored state against an older read', async () => {
    const reader = await registerUser();
    await subscribe(reader);
    const { gateway_subscription_id: sub } = (await membershipOf(reader.username))!;
    // Pretend a newer read already stored "past_due" (far-future read time).
    await env.DB.prepare(
      "UPDATE memberships SET status = 'past_due', gateway_state_at = ? WHERE gateway_subscription_id = ?",
    )
      .bind(Date.now() + 3_600_000, sub)
      .run();
    const updated = (await gatewayEvents(sub)).find((e) => e.type === 'customer.subscription.created')!;
    expect((await redeliver(updated, 'older')).status).toBe(200);
    expect((await membershipOf(reader.username))!.status).toBe('past_due');
  });

  it('a replayed invoice.paid under a new event id adds no second ledger row or receipt', async () => {
    const reader = await registerUser();
    await subscribe(reader);
    const { gateway_subscription_id: sub } = (await membershipOf(reader.username))!;
    const paid = (await gatewayEvents(sub)).find((e) => e.type === 'invoice.paid')!;
    await Promise.all([redeliver(paid, 'a'), redeliver(paid, 'b')]);
    expect(await ledgerRows(paid.data.object.id as string)).toBe(1);
    expect(await emailsTo(reader.email, 'payment_receipt')).toBe(1);
  });
});
