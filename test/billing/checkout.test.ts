import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { payCheckoutSession } from '../../src/billing/gateway/fake-stripe';
import { createDb } from '../../src/db/client';
import { call } from '../helpers/request';
import { userWithRole } from '../helpers/roles';
import { checkout, fetchRaw, paidArticle, readArticle, registerUser, subscribe } from './helpers';

describe('the test checkout page', () => {
  it('Decline takes no payment: back to the cancel URL, nothing unlocked', async () => {
    const author = await registerUser();
    const buyer = await registerUser();
    const article = await paidArticle(author);
    const started = await checkout(buyer, { articleSlug: article.slug });
    const declined = await fetchRaw('POST', `/billing/test-checkout/${started.body.id}/decline`);
    expect(declined.status).toBe(303);
    expect(declined.headers.get('location')).toBe('http://localhost:3000/billing/canceled');
    expect((await readArticle(article.slug, buyer)).body.article.locked).toBe(true);
    expect((await call('GET', '/api/user/payments', { token: buyer.token })).body.payments).toEqual([]);
    // Still open: the same checkout is offered again.
    expect((await checkout(buyer, { articleSlug: article.slug })).body.id).toBe(started.body.id);
  });

  it('a paid checkout cannot be paid twice, and unknown checkouts are 404', async () => {
    const author = await registerUser();
    const fan = await registerUser();
    const started = await checkout(fan, { tip: { author: author.username, amount: 300 } });
    expect((await fetchRaw('POST', `/billing/test-checkout/${started.body.id}/pay`)).status).toBe(303);
    expect((await fetchRaw('POST', `/billing/test-checkout/${started.body.id}/pay`)).status).toBe(422);
    expect((await fetchRaw('GET', `/billing/test-checkout/${started.body.id}`)).text).toContain(
      'This checkout is complete',
    );
    expect((await fetchRaw('GET', '/billing/test-checkout/cs_nope')).status).toBe(404);
  });

  it('escapes what it shows (article titles are user input)', async () => {
    const author = await registerUser();
    const buyer = await registerUser();
    const made = await call('POST', '/api/articles', {
      token: author.token,
      body: {
        article: {
          title: '<script>alert(1)</script>',
          description: 'd',
          body: 'b',
          visibility: 'paid',
          price: 100,
          currency: 'USD',
        },
      },
    });
    const started = await checkout(buyer, { articleSlug: made.body.article.slug });
    const page = await fetchRaw('GET', `/billing/test-checkout/${started.body.id}`);
    expect(page.text).not.toContain('<script>');
    expect(page.text).toContain('&lt;script&gt;');
  });
});

describe('POST /api/billing/checkout/:id/sync (the success page)', () => {
  it('settles a paid checkout before its webhook arrives; others get 404', async () => {
    const author = await registerUser();
    const buyer = await registerUser();
    const article = await paidArticle(author);
    const started = await checkout(buyer, { articleSlug: article.slug });
    await payCheckoutSession(createDb(env.DB), started.body.id, Date.now());
    // The events are still in flight (not delivered yet).
    expect((await readArticle(article.slug, buyer)).body.article.locked).toBe(true);
    const stranger = await registerUser();
    expect(
      (await call('POST', `/api/billing/checkout/${started.body.id}/sync`, { token: stranger.token })).status,
    ).toBe(404);
    const synced = await call('POST', `/api/billing/checkout/${started.body.id}/sync`, { token: buyer.token });
    expect(synced.status).toBe(200);
    expect(synced.body.checkout).toEqual({ id: started.body.id, status: 'complete' });
    expect((await readArticle(article.slug, buyer)).body.article.locked).toBe(false);
    // The late webhook changes nothing more: one ledger row.
    await call('POST', '/billing/test-gateway/advance', { body: { days: 0 } });
    const payments = await call('GET', '/api/user/payments', { token: buyer.token });
    expect(payments.body.payments).toHaveLength(1);
  });
});

describe('limits on gateway calls', () => {
  it('portal, cancel/resume and sync share 30 calls an hour per account (then 429 with Retry-After)', async () => {
    const author = await registerUser();
    const fan = await registerUser();
    const started = await checkout(fan, { tip: { author: author.username, amount: 300 } });
    for (let i = 0; i < 30; i++) {
      const res = await call('POST', `/api/billing/checkout/${started.body.id}/sync`, { token: fan.token });
      expect(res.status).toBe(200);
    }
    const limited = await call('POST', '/api/billing/portal', { token: fan.token });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(0);
  });
});

describe('portal, cancel and resume', () => {
  it('POST /api/billing/portal answers the portal page; cancel and resume there go through the gateway', async () => {
    const reader = await registerUser();
    expect((await call('POST', '/api/billing/portal', { token: reader.token })).status).toBe(404);
    await subscribe(reader);
    const portal = await call('POST', '/api/billing/portal', { token: reader.token });
    expect(portal.status).toBe(200);
    const path = new URL(portal.body.url).pathname;
    expect((await fetchRaw('GET', path)).text).toContain('Cancel at period end');
    expect((await fetchRaw('POST', `${path}/cancel`)).status).toBe(303);
    const canceled = await call('GET', '/api/user/membership', { token: reader.token });
    expect(canceled.body.membership).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    expect((await fetchRaw('GET', path)).text).toContain('Resume');
    const resumed = await call('POST', '/api/user/membership/resume', { token: reader.token });
    expect(resumed.body.membership).toMatchObject({ status: 'active', cancelAtPeriodEnd: false });
    // Nothing to resume now; no membership → 404.
    expect((await call('POST', '/api/user/membership/resume', { token: reader.token })).status).toBe(422);
    const other = await registerUser();
    expect((await call('POST', '/api/user/membership/cancel', { token: other.token })).status).toBe(404);
    expect((await call('GET', '/api/user/membership', { token: other.token })).body).toEqual({ membership: null });
  });

  it('an admin can refund a membership payment (through its payment intent)', async () => {
    const admin = await userWithRole('admin');
    const reader = await registerUser();
    await subscribe(reader);
    const [payment] = (await call('GET', '/api/user/payments', { token: reader.token })).body.payments;
    const refund = await call('POST', `/api/billing/payments/${payment.id}/refund`, {
      token: admin.token,
      body: { amount: 200 },
    });
    expect(refund.status).toBe(201);
    const payments = (await call('GET', '/api/user/payments', { token: reader.token })).body.payments;
    expect(payments[0]).toMatchObject({ kind: 'refund', amount: -200, refundOf: payment.id, tierId: 'tier_supporter' });
  });
});

describe('tiers', () => {
  it('admins create and update tiers; GET /api/tiers lists the active ones; others get 403', async () => {
    const admin = await userWithRole('admin');
    const reader = await registerUser();
    const created = await call('POST', '/api/tiers', {
      token: admin.token,
      body: {
        tier: { name: 'Patron', monthlyPrice: 2000, yearlyPrice: 20000, currency: 'eur', benefits: ['Everything'] },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.tier).toMatchObject({
      name: 'Patron',
      currency: 'EUR',
      description: '',
      benefits: ['Everything'],
    });
    const id = created.body.tier.id;
    expect((await call('GET', '/api/tiers')).body.tiers.map((t: { id: string }) => t.id)).toContain(id);
    expect((await call('POST', '/api/tiers', { token: reader.token, body: { tier: created.body.tier } })).status).toBe(
      403,
    );
    expect((await call('POST', '/api/tiers', { token: admin.token, body: { tier: { name: '' } } })).status).toBe(422);
    const hidden = await call('PUT', `/api/tiers/${id}`, {
      token: admin.token,
      body: { tier: { active: false } },
    });
    expect(hidden.status).toBe(200);
    expect((await call('GET', '/api/tiers')).body.tiers.map((t: { id: string }) => t.id)).not.toContain(id);
    expect((await checkout(reader, { tierId: id, interval: 'month' })).status).toBe(404);
    expect((await call('PUT', '/api/tiers/tier_nope', { token: admin.token, body: { tier: {} } })).status).toBe(404);
  });
});
