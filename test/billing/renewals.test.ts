import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { payCheckoutSession } from '../../src/billing/gateway/fake-stripe';
import { createDb } from '../../src/db/client';
import { call } from '../helpers/request';
import { EVERY_5_MINUTES, runCron } from '../maintenance/cron';
import { advance, checkout, fetchRaw, paidArticle, readArticle, registerUser, subscribe } from './helpers';
import { PRODUCTION_SECRETS } from '../helpers/production';

async function userId(username: string): Promise<string> {
  const row = await env.DB.prepare('SELECT id FROM users WHERE username = ?').bind(username).first<{ id: string }>();
  return row!.id;
}

const membership = async (token: string) => (await call('GET', '/api/user/membership', { token })).body.membership;

afterEach(async () => {
  await advance(0, false);
});

describe('the test gateway clock', () => {
  it('renews a due subscription: a new paid invoice, a new ledger row and receipt, a new period', async () => {
    const reader = await registerUser();
    await subscribe(reader);
    const first = await membership(reader.token);
    const moved = await advance(32);
    expect(moved.body).toMatchObject({ failNextRenewal: false });
    const renewed = await membership(reader.token);
    expect(renewed.status).toBe('active');
    expect(new Date(renewed.currentPeriodEnd).getTime()).toBeGreaterThan(new Date(first.currentPeriodEnd).getTime());
    const payments = await call('GET', '/api/user/payments', { token: reader.token });
    expect(payments.body.payments.map((p: { kind: string; amount: number }) => [p.kind, p.amount])).toEqual([
      ['membership', 500],
      ['membership', 500],
    ]);
    const receipts = await env.DB.prepare(
      "SELECT count(*) AS n FROM outbox WHERE recipient = ? AND kind = 'payment_receipt'",
    )
      .bind(reader.email)
      .first<{ n: number }>();
    expect(receipts!.n).toBe(2);
  });

  it('a failing renewal makes the membership past_due (access kept, one notice per attempt), then canceled after the retries', async () => {
    const author = await registerUser();
    const reader = await registerUser();
    const article = await paidArticle(author);
    await subscribe(reader);
    await advance(32, true);
    expect(await membership(reader.token)).toMatchObject({ status: 'past_due', access: true });
    expect((await readArticle(article.slug, reader)).body.article.locked).toBe(false);
    const notices = async () =>
      (await env.DB.prepare("SELECT count(*) AS n FROM outbox WHERE recipient = ? AND kind = 'payment_failed'")
        .bind(reader.email)
        .first<{ n: number }>())!.n;
    expect(await notices()).toBe(1);
    await advance(3);
    expect(await membership(reader.token)).toMatchObject({ status: 'past_due' });
    expect(await notices()).toBe(2);
    await advance(7);
    expect(await membership(reader.token)).toMatchObject({ status: 'canceled', access: false });
    expect(await notices()).toBe(4);
    expect((await readArticle(article.slug, reader)).body.article.locked).toBe(true);
  });

  it('a past_due membership recovers when a retry succeeds', async () => {
    const reader = await registerUser();
    await subscribe(reader);
    await advance(32, true);
    expect((await membership(reader.token)).status).toBe('past_due');
    await advance(3, false);
    expect(await membership(reader.token)).toMatchObject({ status: 'active', access: true });
  });
});

describe('the billing cron (reconciliation)', () => {
  it('applies a checkout whose events were lost, and expires unpaid open checkouts', async () => {
    const author = await registerUser();
    const buyer = await registerUser();
    const article = await paidArticle(author);
    const started = await checkout(buyer, { articleSlug: article.slug });
    // Paid at the gateway, but no event reaches Folio (payCheckoutSession queues them; nobody delivers).
    await payCheckoutSession(createDb(env.DB), started.body.id, Date.now());
    await env.DB.prepare('UPDATE gw_events SET delivered_at = 1 WHERE delivered_at IS NULL').run();
    expect((await readArticle(article.slug, buyer)).body.article.locked).toBe(true);

    const abandoner = await registerUser();
    const open = await checkout(abandoner, { tip: { author: author.username, amount: 300 } });

    // Checkout expiry is gateway time, which earlier tests of this file may have advanced.
    const clock = await call('GET', '/billing/test-gateway/clock');
    const logs = await runCron(EVERY_5_MINUTES, new Date(clock.body.now).getTime() + 25 * 3_600_000);
    expect(logs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ message: 'job finished', job: 'reconcileBilling', checkoutsCompleted: 1 }),
      ]),
    );
    expect((await readArticle(article.slug, buyer)).body.article.locked).toBe(false);
    const row = await env.DB.prepare('SELECT status FROM checkouts WHERE id = ?')
      .bind(open.body.id)
      .first<{ status: string }>();
    expect(row!.status).toBe('expired');
    // A new checkout for the same purchase is a new session.
    const again = await checkout(abandoner, { tip: { author: author.username, amount: 300 } });
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(open.body.id);
  });

  it('expires a membership past its period end plus the grace when the final event was lost', async () => {
    const reader = await registerUser();
    const id = await userId(reader.username);
    await env.DB.prepare(
      `INSERT INTO memberships (user_id, tier_id, status, interval, current_period_end, cancel_at_period_end, gateway_subscription_id, gateway_state_at, updated_at)
       VALUES (?, 'tier_supporter', 'active', 'month', ?, 1, ?, 1, 1)`,
    )
      .bind(id, Date.now() - 80 * 3_600_000, `sub_lost_${id}`)
      .run();
    await runCron(EVERY_5_MINUTES, Date.now() - 10 * 3_600_000); // within the 72 h grace
    expect((await membership(reader.token)).status).toBe('active');
    await runCron(EVERY_5_MINUTES, Date.now());
    expect(await membership(reader.token)).toMatchObject({ status: 'canceled', access: false });
  });
});

describe('configuration', () => {
  it('refuses GATEWAY=test in production, and requires the Stripe secrets there', async () => {
    const base = { ENVIRONMENT: 'production', ...PRODUCTION_SECRETS };
    expect((await call('GET', '/api/tiers', { env: base })).status).toBe(200);
    expect((await call('GET', '/api/tiers', { env: { ...base, GATEWAY: 'test' } })).status).toBe(500);
    expect((await call('GET', '/api/tiers', { env: { ...base, STRIPE_WEBHOOK_SECRET: '' } })).status).toBe(500);
    expect((await call('GET', '/api/tiers', { env: { ...base, STRIPE_SECRET_KEY: '' } })).status).toBe(500);
  });

  it('the test gateway pages do not exist with the real gateway', async () => {
    const reader = await registerUser();
    const started = await checkout(reader, { tierId: 'tier_supporter', interval: 'year' });
    expect((await fetchRaw('GET', `/billing/test-checkout/${started.body.id}`)).status).toBe(200);
    const stripeEnv = { GATEWAY: 'stripe', STRIPE_SECRET_KEY: 'sk_test_x' };
    expect((await call('GET', `/billing/test-checkout/${started.body.id}`, { env: stripeEnv })).status).toBe(404);
    expect((await call('POST', '/billing/test-gateway/advance', { env: stripeEnv, body: { days: 1 } })).status).toBe(
      404,
    );
  });
});
