import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/request';
import { userWithRole } from '../helpers/roles';
import { checkout, fetchRaw, paidArticle, pay, readArticle, registerUser, subscribe } from './helpers';

async function buy(user: Awaited<ReturnType<typeof registerUser>>, slug: string) {
  const res = await checkout(user, { articleSlug: slug });
  expect(res.status).toBe(201);
  await pay(res.body.id);
}

describe('tips', () => {
  it('a tip is paid, listed for the payer, counted in the author earnings, with one receipt', async () => {
    const author = await registerUser();
    const fan = await registerUser();
    const res = await checkout(fan, { tip: { author: author.username, amount: 700 } });
    expect(res.status).toBe(201);
    const page = await fetchRaw('GET', `/billing/test-checkout/${res.body.id}`);
    expect(page.text).toContain('7.00 USD');
    expect(page.text).toContain(`Tip for ${author.username}`);
    await pay(res.body.id);

    const payments = await call('GET', '/api/user/payments', { token: fan.token });
    expect(payments.body.payments).toEqual([
      expect.objectContaining({ kind: 'tip', amount: 700, currency: 'USD', author: author.username, article: null }),
    ]);
    const earnings = await call('GET', '/api/billing/earnings', { token: author.token });
    expect(earnings.status).toBe(200);
    const month = new Date().toISOString().slice(0, 7);
    expect(earnings.body.months).toEqual([
      { month, currency: 'USD', tips: 700, articleSales: 0, refunds: 0, fees: 0, net: 700, payments: 1 },
    ]);
    // The payer earned nothing.
    expect((await call('GET', '/api/billing/earnings', { token: fan.token })).body.months).toEqual([]);
    const receipts = await env.DB.prepare("SELECT subject FROM outbox WHERE recipient = ? AND kind = 'payment_receipt'")
      .bind(fan.email)
      .all<{ subject: string }>();
    expect(receipts.results).toEqual([{ subject: 'Your Folio receipt: 7.00 USD' }]);
  });

  it('keeps the platform fee when one is configured', async () => {
    const author = await registerUser();
    const fan = await registerUser();
    const res = await checkout(fan, { tip: { author: author.username, amount: 1000 } });
    // Pay with a 10% fee configured for this request (the webhook is applied in the same request).
    const paid = await call('POST', `/billing/test-checkout/${res.body.id}/pay`, {
      env: { PLATFORM_FEE_PERCENT: '10' },
    });
    expect(paid.status).toBe(303);
    const earnings = await call('GET', '/api/billing/earnings', { token: author.token });
    expect(earnings.body.months[0]).toMatchObject({ tips: 1000, fees: 100, net: 900 });
  });

  it('validates the tip: bounds (422), yourself (422), unknown author (404), anonymous (401)', async () => {
    const author = await registerUser();
    const fan = await registerUser();
    expect((await checkout(fan, { tip: { author: author.username, amount: 50 } })).body).toEqual({
      errors: { amount: ['must be between 100 and 50000'] },
    });
    expect((await checkout(fan, { tip: { author: author.username, amount: 60_000 } })).status).toBe(422);
    expect((await checkout(fan, { tip: { author: author.username, amount: 1.5 } })).status).toBe(422);
    expect((await checkout(fan, { tip: { author: fan.username, amount: 500 } })).body).toEqual({
      errors: { author: ["can't be yourself"] },
    });
    expect((await checkout(fan, { tip: { author: 'nobody-here-x', amount: 500 } })).status).toBe(404);
    expect((await call('POST', '/api/billing/checkout', { body: { tip: { author: 'x', amount: 1 } } })).status).toBe(
      401,
    );
    expect((await checkout(fan, {})).body).toEqual({
      errors: { checkout: ['needs exactly one of tierId, articleSlug or tip'] },
    });
    expect((await checkout(fan, { tierId: 'tier_supporter' })).body).toEqual({
      errors: { interval: ["can't be blank"] },
    });
  });
});

describe('buying one paid article', () => {
  it('unlocks the article for the buyer only, in the detail and in lists', async () => {
    const author = await registerUser();
    const buyer = await registerUser();
    const other = await registerUser();
    const article = await paidArticle(author, 300);
    await buy(buyer, article.slug);

    expect((await readArticle(article.slug, buyer)).body.article).toMatchObject({
      locked: false,
      body: 'The secret ending',
    });
    expect((await readArticle(article.slug, other)).body.article).toMatchObject({ locked: true, body: null });
    const list = await call('GET', `/api/articles?author=${author.username}`, { token: buyer.token });
    expect(list.body.articles[0]).toMatchObject({ slug: article.slug, locked: false, price: 300, currency: 'USD' });
    expect(list.body.articles[0]).not.toHaveProperty('body');

    const payments = await call('GET', '/api/user/payments', { token: buyer.token });
    expect(payments.body.payments[0]).toMatchObject({
      kind: 'article',
      amount: 300,
      article: article.slug,
      author: author.username,
    });
    const earnings = await call('GET', '/api/billing/earnings', { token: author.token });
    expect(earnings.body.months[0]).toMatchObject({ articleSales: 300, net: 300 });

    // Already unlocked: a second purchase is refused.
    expect((await checkout(buyer, { articleSlug: article.slug })).status).toBe(409);
  });

  it('refuses what is not for sale: no price (members only), not paid, your own, unknown', async () => {
    const author = await registerUser();
    const buyer = await registerUser();
    const membersOnly = await paidArticle(author, null);
    expect((await checkout(buyer, { articleSlug: membersOnly.slug })).body).toEqual({
      errors: { article: ['is not for sale'] },
    });
    const priced = await paidArticle(author, 300);
    expect((await checkout(author, { articleSlug: priced.slug })).body).toEqual({
      errors: { article: ['is your own'] },
    });
    expect((await checkout(buyer, { articleSlug: 'no-such-article-xyz' })).status).toBe(404);
    const made = await call('POST', '/api/articles', {
      token: author.token,
      body: { article: { title: 'Free with a price', description: 'd', body: 'b', price: 300, currency: 'USD' } },
    });
    expect(made.body.article).toMatchObject({ visibility: 'public', price: 300 });
    expect((await checkout(buyer, { articleSlug: made.body.article.slug })).body).toEqual({
      errors: { article: ['is not for sale'] },
    });
  });

  it('price and currency are set and cleared through the article API', async () => {
    const author = await registerUser();
    const article = await paidArticle(author, null);
    const put = (body: object) =>
      call('PUT', `/api/articles/${article.slug}`, { token: author.token, body: { article: body } });
    expect((await put({ price: 450 })).body).toEqual({ errors: { currency: ["can't be blank"] } });
    expect((await put({ price: 450, currency: 'eur' })).body.article).toMatchObject({ price: 450, currency: 'EUR' });
    expect((await put({ price: 500 })).body.article).toMatchObject({ price: 500, currency: 'EUR' });
    expect((await put({ price: 10 })).status).toBe(422);
    expect((await put({ currency: 'EURO' })).status).toBe(422);
    expect((await put({ price: null })).body.article).toMatchObject({ price: null, currency: null });
  });
});

describe('refunds (admins: permission refund:payment)', () => {
  async function adminSetup() {
    const admin = await userWithRole('admin');
    const author = await registerUser();
    const buyer = await registerUser();
    const article = await paidArticle(author, 300);
    await buy(buyer, article.slug);
    const payments = await call('GET', '/api/user/payments', { token: buyer.token });
    const refund = (amount?: number, token = admin.token) =>
      call('POST', `/api/billing/payments/${payments.body.payments[0].id}/refund`, {
        token,
        body: amount === undefined ? {} : { amount },
      });
    return { admin, author, buyer, article, refund, paymentId: payments.body.payments[0].id as string };
  }

  it('a full refund goes through the gateway, writes the refund row and revokes the purchase', async () => {
    const { buyer, article, refund, author, paymentId } = await adminSetup();
    const res = await refund();
    expect(res.status).toBe(201);
    expect(res.body.refund).toMatchObject({ paymentId, amount: 300, currency: 'USD', status: 'succeeded' });

    const payments = await call('GET', '/api/user/payments', { token: buyer.token });
    expect(payments.body.payments).toEqual([
      expect.objectContaining({ kind: 'refund', amount: -300, refundOf: paymentId, article: article.slug }),
      expect.objectContaining({ kind: 'article', amount: 300 }),
    ]);
    expect((await readArticle(article.slug, buyer)).body.article.locked).toBe(true);
    const earnings = await call('GET', '/api/billing/earnings', { token: author.token });
    expect(earnings.body.months[0]).toMatchObject({ articleSales: 300, refunds: -300, net: 0 });
    // Nothing left to refund.
    expect((await refund()).status).toBe(422);
    // The buyer may buy again.
    expect((await checkout(buyer, { articleSlug: article.slug })).status).toBe(201);
  });

  it('a partial refund keeps the purchase; more than what is left is refused', async () => {
    const { buyer, article, refund } = await adminSetup();
    expect((await refund(100)).status).toBe(201);
    expect((await readArticle(article.slug, buyer)).body.article.locked).toBe(false);
    expect((await refund(201)).body).toEqual({
      errors: { amount: ['must be between 1 and 200 (the refundable amount)'] },
    });
    expect((await refund(200)).status).toBe(201);
    expect((await readArticle(article.slug, buyer)).body.article.locked).toBe(true);
  });

  it('only admins may refund (403), and only payments that exist (404)', async () => {
    const { buyer, refund, admin } = await adminSetup();
    expect((await refund(undefined, buyer.token)).status).toBe(403);
    const missing = await call('POST', '/api/billing/payments/pay_nope/refund', { token: admin.token, body: {} });
    expect(missing.status).toBe(404);
    // The permission (refund:payment) is the admin's alone: an editor is refused too.
    const editor = await userWithRole('editor');
    const refused = await refund(undefined, editor.token);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ errors: { permission: ['refund:payment required'] } });
  });
});

describe('POST /api/billing/checkout is idempotent', () => {
  it('the same open checkout is returned instead of a new one (200), with one gateway customer', async () => {
    const reader = await registerUser();
    const first = await checkout(reader, { tierId: 'tier_supporter', interval: 'month' });
    const second = await checkout(reader, { tierId: 'tier_supporter', interval: 'month' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    const yearly = await checkout(reader, { tierId: 'tier_supporter', interval: 'year' });
    expect(yearly.status).toBe(201);
    expect(yearly.body.id).not.toBe(first.body.id);
    const customers = await env.DB.prepare(
      "SELECT count(*) AS n FROM gw_objects WHERE type = 'customer' AND json_extract(data, '$.email') = ?",
    )
      .bind(reader.email)
      .first<{ n: number }>();
    expect(customers!.n).toBe(1);
  });

  it('parallel requests get one session and one customer', async () => {
    const reader = await registerUser();
    const results = await Promise.all(
      [1, 2, 3].map(() => checkout(reader, { tierId: 'tier_supporter', interval: 'month' })),
    );
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const customers = await env.DB.prepare(
      "SELECT count(*) AS n FROM gw_objects WHERE type = 'customer' AND json_extract(data, '$.email') = ?",
    )
      .bind(reader.email)
      .first<{ n: number }>();
    expect(customers!.n).toBe(1);
  });

  it('a retry with the same Idempotency-Key gets the same session; other parameters with that key → 422', async () => {
    const author = await registerUser();
    const fan = await registerUser();
    const key = { 'Idempotency-Key': `tip-${Date.now()}` };
    const first = await checkout(fan, { tip: { author: author.username, amount: 500 } }, key);
    // Even after that checkout was paid (no longer open), the same key answers the same session.
    await pay(first.body.id);
    const retry = await checkout(fan, { tip: { author: author.username, amount: 500 } }, key);
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
    const other = await checkout(fan, { tip: { author: author.username, amount: 900 } }, key);
    expect(other.status).toBe(422);
    expect(other.body).toEqual({ errors: { idempotencyKey: ['was already used with a different request'] } });
  });

  it('refuses a second membership while one is active (409)', async () => {
    const reader = await registerUser();
    await subscribe(reader);
    const res = await checkout(reader, { tierId: 'tier_supporter', interval: 'year' });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ errors: { membership: ['is already active'] } });
  });
});
