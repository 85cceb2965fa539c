import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { listPayments } from '../../src/billing/billing.service';
import { articleBySlugQuery } from '../../src/articles/articles.queries';
import { createDb } from '../../src/db/client';
import { call } from '../helpers/request';
import { checkout, paidArticle, pay, readArticle, registerUser } from './helpers';

async function userId(username: string): Promise<string> {
  const row = await env.DB.prepare('SELECT id FROM users WHERE username = ?').bind(username).first<{ id: string }>();
  return row!.id;
}

/** Stores a membership in `status` for the user, as a webhook sync would. */
async function setMembership(username: string, status: string, cancelAtPeriodEnd = false) {
  const id = await userId(username);
  await env.DB.prepare(
    `INSERT INTO memberships (user_id, tier_id, status, interval, current_period_end, cancel_at_period_end, gateway_subscription_id, gateway_state_at, updated_at)
     VALUES (?1, 'tier_supporter', ?2, 'month', ?3, ?4, ?5, 1, 1)
     ON CONFLICT (user_id) DO UPDATE SET status = ?2, cancel_at_period_end = ?4`,
  )
    .bind(id, status, Date.now() + 10 * 86_400_000, cancelAtPeriodEnd ? 1 : 0, `sub_manual_${id}`)
    .run();
}

describe('the access rule for paid articles (src/billing/membership.ts)', () => {
  const expected: [string, boolean][] = [
    ['active', true],
    ['trialing', true],
    ['past_due', true],
    ['canceled', false],
    ['unpaid', false],
    ['incomplete', false],
    ['incomplete_expired', false],
    ['paused', false],
  ];

  it.each(expected)('a member whose status is %s may read: %s', async (status, allowed) => {
    const author = await registerUser();
    const reader = await registerUser();
    const article = await paidArticle(author);
    await setMembership(reader.username, status);
    const res = await readArticle(article.slug, reader);
    expect(res.body.article.locked).toBe(!allowed);
    expect(res.body.article.body).toBe(allowed ? 'The secret ending' : null);
    const list = await call('GET', `/api/articles?author=${author.username}`, { token: reader.token });
    expect(list.body.articles[0].locked).toBe(!allowed);
    const membership = await call('GET', '/api/user/membership', { token: reader.token });
    expect(membership.body.membership).toMatchObject({ status, access: allowed });
  });

  it('members and buyers join the discussion of a paid article; others see it withheld', async () => {
    const author = await registerUser();
    const member = await registerUser();
    const stranger = await registerUser();
    const article = await paidArticle(author);
    await setMembership(member.username, 'active');
    const posted = await call('POST', `/api/articles/${article.slug}/comments`, {
      token: member.token,
      body: { comment: { body: 'Worth it' } },
    });
    expect(posted.status).toBe(201);
    const seen = await call('GET', `/api/articles/${article.slug}/comments`, { token: member.token });
    expect(seen.body.comments.map((c: { body: string }) => c.body)).toEqual(['Worth it']);
    expect(
      (await call('GET', `/api/articles/${article.slug}/comments`, { token: stranger.token })).body.comments,
    ).toEqual([]);
    const refused = await call('POST', `/api/articles/${article.slug}/comments`, {
      token: stranger.token,
      body: { comment: { body: 'Let me in' } },
    });
    expect(refused.status).toBe(403);
  });

  it('cancelled at period end keeps access until the period ends', async () => {
    const author = await registerUser();
    const reader = await registerUser();
    const article = await paidArticle(author);
    await setMembership(reader.username, 'active', true);
    expect((await readArticle(article.slug, reader)).body.article.locked).toBe(false);
  });

  it('the author always reads; anonymous readers and signed-in non-members never do', async () => {
    const author = await registerUser();
    const stranger = await registerUser();
    const article = await paidArticle(author);
    expect((await readArticle(article.slug, author)).body.article.locked).toBe(false);
    expect((await readArticle(article.slug)).body.article).toMatchObject({ locked: true, body: null });
    expect((await readArticle(article.slug, stranger)).body.article.locked).toBe(true);
  });

  it('a paid article read stays ONE D1 round trip for members, buyers, others and lists', async () => {
    const author = await registerUser();
    const member = await registerUser();
    const buyer = await registerUser();
    const other = await registerUser();
    const article = await paidArticle(author);
    await setMembership(member.username, 'active');
    const started = await checkout(buyer, { articleSlug: article.slug });
    await pay(started.body.id);
    for (const user of [member, buyer, other, author, undefined]) {
      const res = await readArticle(article.slug, user);
      expect(res.status).toBe(200);
      expect(res.d1).toBe(1);
    }
    for (const user of [member, buyer, undefined]) {
      const list = await call('GET', '/api/articles?limit=100', { token: user?.token });
      expect(list.d1).toBe(1);
      const feedLike = await call('GET', `/api/articles?author=${author.username}`, { token: user?.token });
      expect(feedLike.d1).toBe(1);
    }
  });

  it('the access lookups are primary-key seeks (no scans of memberships or purchases)', async () => {
    const db = createDb(env.DB);
    const { sql, params } = articleBySlugQuery(db, 'some-slug', 'usr_viewer').toSQL();
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    const details = results.map((r) => r.detail);
    expect(details.filter((d) => /^SCAN (memberships|purchases)\b/.test(d) && !/INDEX|PRIMARY KEY/.test(d))).toEqual(
      [],
    );
    expect(details.join('\n')).toMatch(
      /SEARCH memberships USING INDEX sqlite_autoindex_memberships_1|SEARCH memberships USING PRIMARY KEY/,
    );
    expect(details.join('\n')).toMatch(
      /SEARCH purchases USING (COVERING )?INDEX sqlite_autoindex_purchases_1|SEARCH purchases USING PRIMARY KEY/,
    );

    const payments = listPayments({ db }, 'usr_viewer', 20, 0).toSQL();
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${payments.sql}`)
      .bind(...payments.params)
      .all<{ detail: string }>();
    expect(plan.results.map((r) => r.detail).join('\n')).toContain('ledger_user_id_created_at_idx');
  });
});
