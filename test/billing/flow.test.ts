import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/request';
import { advance, checkout, fetchRaw, paidArticle, pay, readArticle, registerUser } from './helpers';

describe('the whole test-gateway flow through the public API', () => {
  it('checkout → Pay → webhooks → paid article unlocked → cancel → access until period end → clock → access gone', async () => {
    const author = await registerUser();
    const reader = await registerUser();
    const article = await paidArticle(author);
    expect(article).toMatchObject({ price: 300, currency: 'USD' });

    const before = await readArticle(article.slug, reader);
    expect(before.body.article).toMatchObject({ locked: true, body: null });

    const tiers = await call('GET', '/api/tiers');
    expect(tiers.status).toBe(200);
    const tier = tiers.body.tiers.find((t: { id: string }) => t.id === 'tier_supporter');
    expect(tier).toMatchObject({ monthlyPrice: 500, yearlyPrice: 5000, currency: 'USD' });

    const started = await checkout(reader, { tierId: tier.id, interval: 'month' });
    expect(started.status).toBe(201);
    expect(new URL(started.body.url).pathname).toBe(`/billing/test-checkout/${started.body.id}`);

    const page = await fetchRaw('GET', `/billing/test-checkout/${started.body.id}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain('5.00 USD per month');
    expect(page.text).toContain('Supporter membership (monthly)');
    expect(page.text).toMatch(/<button[^>]*>Pay<\/button>/);
    expect(page.text).toMatch(/<button[^>]*>Decline<\/button>/);

    // Not paid yet: the browser's return alone grants nothing.
    expect((await readArticle(article.slug, reader)).body.article.locked).toBe(true);

    const paid = await pay(started.body.id);
    expect(paid.headers.get('location')).toBe(`http://localhost:3000/billing/success?session_id=${started.body.id}`);

    const unlocked = await readArticle(article.slug, reader);
    expect(unlocked.body.article).toMatchObject({ locked: false, body: 'The secret ending' });

    const membership = await call('GET', '/api/user/membership', { token: reader.token });
    expect(membership.body.membership).toMatchObject({
      tier: { id: 'tier_supporter', name: 'Supporter' },
      status: 'active',
      interval: 'month',
      cancelAtPeriodEnd: false,
      access: true,
    });
    const periodEnd = new Date(membership.body.membership.currentPeriodEnd).getTime();
    expect(periodEnd - Date.now()).toBeGreaterThan(27 * 86_400_000);

    const payments = await call('GET', '/api/user/payments', { token: reader.token });
    expect(payments.body.payments).toEqual([
      expect.objectContaining({ kind: 'membership', amount: 500, currency: 'USD', tierId: 'tier_supporter' }),
    ]);

    const canceled = await call('POST', '/api/user/membership/cancel', { token: reader.token });
    expect(canceled.status).toBe(200);
    expect(canceled.body.membership).toMatchObject({ status: 'active', cancelAtPeriodEnd: true, access: true });
    expect((await readArticle(article.slug, reader)).body.article.locked).toBe(false);

    // Two weeks later: still inside the paid period.
    await advance(14);
    expect((await readArticle(article.slug, reader)).body.article.locked).toBe(false);

    const moved = await advance(20);
    expect(moved.status).toBe(200);
    expect(moved.body.processed).toBeGreaterThanOrEqual(1);
    const after = await call('GET', '/api/user/membership', { token: reader.token });
    expect(after.body.membership).toMatchObject({ status: 'canceled', access: false });
    expect((await readArticle(article.slug, reader)).body.article).toMatchObject({ locked: true, body: null });

    // A receipt went through the outbox, once.
    const receipts = await env.DB.prepare(
      "SELECT count(*) AS n FROM outbox WHERE recipient = ? AND kind = 'payment_receipt'",
    )
      .bind(reader.email)
      .first<{ n: number }>();
    expect(receipts!.n).toBe(1);
  });
});
