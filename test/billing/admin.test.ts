import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/request';
import { auditRows, userWithRole } from '../helpers/roles';
import { checkout, paidArticle, pay, readArticle, registerUser, subscribe } from './helpers';

const idOf = async (username: string) =>
  (await env.DB.prepare('SELECT id FROM users WHERE username = ?').bind(username).first<{ id: string }>())!.id;

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

async function paidFor(user: Awaited<ReturnType<typeof registerUser>>, body: unknown) {
  const res = await checkout(user, body);
  expect(res.status).toBe(201);
  await pay(res.body.id);
}

describe('complimentary memberships (manage:memberships)', () => {
  it('grants access without payment until the end date, extends, ends locally; audited; others 403', async () => {
    const admin = await userWithRole('admin');
    const editor = await userWithRole('editor');
    const author = await registerUser();
    const reader = await registerUser();
    const readerId = await idOf(reader.username);
    const article = await paidArticle(author, 300);
    expect((await readArticle(article.slug, reader)).body.article.locked).toBe(true);

    const path = `/api/admin/users/${readerId}/membership`;
    const body = (until: string, tierId = 'tier_supporter') => ({ membership: { tierId, until } });
    expect((await call('PUT', path, { token: editor.token, body: body(inDays(30)) })).status).toBe(403);
    expect((await call('PUT', path, { token: admin.token, body: body(inDays(-1)) })).status).toBe(422);
    expect((await call('PUT', path, { token: admin.token, body: body(inDays(30), 'tier_nope') })).status).toBe(422);
    expect((await call('PUT', path, { token: admin.token, body: body('soon') })).status).toBe(422);
    expect(
      (await call('PUT', '/api/admin/users/usr_unknown/membership', { token: admin.token, body: body(inDays(30)) }))
        .status,
    ).toBe(404);

    const granted = await call('PUT', path, { token: admin.token, body: body(inDays(30)) });
    expect(granted.status).toBe(200);
    expect(granted.body.membership).toMatchObject({ tier: { id: 'tier_supporter' }, status: 'active', access: true });
    expect((await readArticle(article.slug, reader)).body.article.locked).toBe(false);
    expect((await call('GET', '/api/user/membership', { token: reader.token })).body.membership.status).toBe('active');
    // No money moved.
    expect((await call('GET', '/api/user/payments', { token: reader.token })).body.payments).toEqual([]);

    const until = inDays(60);
    const extended = await call('PUT', path, { token: admin.token, body: body(until) });
    expect(extended.body.membership.currentPeriodEnd).toBe(until);

    const revenue = await call('GET', '/api/admin/revenue', { token: admin.token });
    const supporter = revenue.body.tiers.find((t: any) => t.tierId === 'tier_supporter');
    expect(supporter.complimentary).toBeGreaterThanOrEqual(1);

    const ended = await call('DELETE', path, { token: admin.token });
    expect(ended.status).toBe(200);
    expect(ended.body.membership).toMatchObject({ status: 'canceled', access: false });
    expect((await readArticle(article.slug, reader)).body.article.locked).toBe(true);
    expect((await call('DELETE', path, { token: admin.token })).status).toBe(404);

    const audit = await auditRows(readerId);
    expect(audit.map((r) => r.action)).toEqual(['membership.comp', 'membership.comp', 'membership.cancel']);
    expect(JSON.parse(audit[0]!.after)).toMatchObject({ tierId: 'tier_supporter', status: 'active' });
  });

  it('refuses to comp a member who pays through the gateway (409); an admin cancels that one at the gateway', async () => {
    const admin = await userWithRole('admin');
    const reader = await registerUser();
    const readerId = await idOf(reader.username);
    await subscribe(reader);
    const path = `/api/admin/users/${readerId}/membership`;
    const comp = await call('PUT', path, {
      token: admin.token,
      body: { membership: { tierId: 'tier_supporter', until: inDays(30) } },
    });
    expect(comp.status).toBe(409);
    expect(await auditRows(readerId)).toEqual([]);

    expect((await call('DELETE', path, { token: (await userWithRole('editor')).token })).status).toBe(403);
    const cancelled = await call('DELETE', path, { token: admin.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.membership).toMatchObject({ status: 'canceled', access: false });
    // The gateway's own state says so too (its event arrives later and changes nothing).
    const sub = await env.DB.prepare(
      "SELECT json_extract(data, '$.status') AS status FROM gw_objects WHERE id = (SELECT gateway_subscription_id FROM memberships WHERE user_id = ?)",
    )
      .bind(readerId)
      .first<{ status: string }>();
    expect(sub?.status).toBe('canceled');
    expect((await call('GET', '/api/user/membership', { token: reader.token })).body.membership.status).toBe(
      'canceled',
    );
    expect((await auditRows(readerId)).map((r) => r.action)).toEqual(['membership.cancel']);
  });
});

describe('GET /api/admin/revenue (read:revenue)', () => {
  it('sums the month from the ledger (payments, refunds, tips, article sales), MRR and members per tier', async () => {
    const admin = await userWithRole('admin');
    const month = new Date().toISOString().slice(0, 7);
    const usd = async () => {
      const res = await call('GET', '/api/admin/revenue?months=2', { token: admin.token });
      expect(res.status).toBe(200);
      expect(res.d1).toBe(1);
      return {
        row: res.body.months.find((m: any) => m.month === month && m.currency === 'USD') ?? {
          payments: 0,
          refunds: 0,
          tips: 0,
          articleSales: 0,
          memberships: 0,
          net: 0,
        },
        mrr: res.body.mrr.find((m: any) => m.currency === 'USD') ?? { mrr: 0, payingMembers: 0 },
        supporter: res.body.tiers.find((t: any) => t.tierId === 'tier_supporter') ?? { members: 0 },
      };
    };
    const tiers = (await call('GET', '/api/tiers')).body.tiers;
    const price = tiers.find((t: any) => t.id === 'tier_supporter').monthlyPrice as number;
    const before = await usd();

    const author = await registerUser();
    const fan = await registerUser();
    await subscribe(fan);
    await paidFor(fan, { tip: { author: author.username, amount: 700 } });
    const article = await paidArticle(author, 300);
    const buyer = await registerUser(); // members already read paid articles: a non-member buys it
    await paidFor(buyer, { articleSlug: article.slug });
    const payments = (await call('GET', '/api/user/payments', { token: buyer.token })).body.payments;
    const sale = payments.find((p: any) => p.kind === 'article');
    expect(
      (await call('POST', `/api/billing/payments/${sale.id}/refund`, { token: admin.token, body: { amount: 100 } }))
        .status,
    ).toBe(201);

    const after = await usd();
    expect(after.row.payments - before.row.payments).toBe(price + 700 + 300);
    expect(after.row.memberships - before.row.memberships).toBe(price);
    expect(after.row.tips - before.row.tips).toBe(700);
    expect(after.row.articleSales - before.row.articleSales).toBe(300);
    expect(after.row.refunds - before.row.refunds).toBe(-100);
    expect(after.row.net - before.row.net).toBe(price + 700 + 300 - 100);
    expect(after.mrr.mrr - before.mrr.mrr).toBe(price);
    expect(after.mrr.payingMembers - before.mrr.payingMembers).toBe(1);
    expect(after.supporter.members - before.supporter.members).toBe(1);

    expect((await call('GET', '/api/admin/revenue', { token: (await userWithRole('editor')).token })).status).toBe(403);
    expect((await call('GET', '/api/admin/revenue')).status).toBe(401);
    expect((await call('GET', '/api/admin/revenue?months=0', { token: admin.token })).status).toBe(422);
  });
});
