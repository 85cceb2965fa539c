import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/request';
import { userWithRole } from '../helpers/roles';
import { unique } from '../helpers/factories';
import { createDb } from '../../src/db/client';
import { reconcileBillingJob } from '../../src/maintenance/billing.jobs';
import { checkout, pay, registerUser, subscribe } from './helpers';

/** The billing cron's job alone (the same run's webhook delivery would try the endpoints' URLs). */
const reconcile = (now: number) => reconcileBillingJob({ db: createDb(env.DB), env, now: new Date(now) });

async function endpoint(token: string) {
  const url = `https://hooks.example.com/${unique('h')}`;
  const res = await call('POST', '/api/admin/webhooks', {
    token,
    body: { webhook: { url, events: ['membership.updated', 'payment.succeeded'] } },
  });
  expect(res.status).toBe(201);
  return res.body.webhook.id as string;
}

/** The events queued for `endpointId` about `username`, oldest first. */
async function eventsFor(endpointId: string, username: string) {
  const { results } = await env.DB.prepare(
    'SELECT event_type, payload FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY created_at, id',
  )
    .bind(endpointId)
    .all<{ event_type: string; payload: string }>();
  return results
    .map((r) => {
      const payload = JSON.parse(r.payload) as { type: string; data: any };
      expect(payload.type).toBe(r.event_type);
      return payload;
    })
    .filter((e) => e.data.member === username);
}

describe('billing webhook events', () => {
  it('a subscription sends one membership.updated and one payment.succeeded; a tip and a cancellation theirs', async () => {
    const admin = await userWithRole('admin');
    const hook = await endpoint(admin.token);
    const tiers = (await call('GET', '/api/tiers')).body.tiers;
    const price = tiers.find((t: any) => t.id === 'tier_supporter').monthlyPrice as number;
    const reader = await registerUser();
    const author = await registerUser();

    await subscribe(reader);
    let events = await eventsFor(hook, reader.username);
    // Three gateway events (checkout completed, subscription created, invoice paid) report one change.
    expect(events.map((e) => e.type)).toEqual(['membership.updated', 'payment.succeeded']);
    expect(events[0]!.data).toMatchObject({
      tierId: 'tier_supporter',
      status: 'active',
      cancelAtPeriodEnd: false,
      complimentary: false,
    });
    expect(events[1]!.data).toMatchObject({
      kind: 'membership',
      amount: price,
      currency: 'USD',
      tierId: 'tier_supporter',
    });

    const tip = await checkout(reader, { tip: { author: author.username, amount: 700 } });
    await pay(tip.body.id);
    // Paying again through the success-page sync changes nothing and sends nothing.
    await call('POST', `/api/billing/checkout/${tip.body.id}/sync`, { token: reader.token });
    events = await eventsFor(hook, reader.username);
    expect(events.filter((e) => e.type === 'payment.succeeded').map((e) => e.data.kind)).toEqual(['membership', 'tip']);
    expect(events.at(-1)!.data).toMatchObject({ kind: 'tip', amount: 700, author: author.username });

    expect((await call('POST', '/api/user/membership/cancel', { token: reader.token })).status).toBe(200);
    events = await eventsFor(hook, reader.username);
    const updates = events.filter((e) => e.type === 'membership.updated');
    expect(updates).toHaveLength(2);
    expect(updates[1]!.data).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
  });

  it('admin comps and cancellations send membership.updated; refused changes send nothing', async () => {
    const admin = await userWithRole('admin');
    const hook = await endpoint(admin.token);
    const member = await registerUser();
    const memberId = (await env.DB.prepare('SELECT id FROM users WHERE username = ?')
      .bind(member.username)
      .first<{ id: string }>())!.id;
    const path = `/api/admin/users/${memberId}/membership`;
    const until = new Date(Date.now() + 30 * 86_400_000).toISOString();
    expect(
      (await call('PUT', path, { token: admin.token, body: { membership: { tierId: 'tier_supporter', until } } }))
        .status,
    ).toBe(200);
    expect((await call('DELETE', path, { token: admin.token })).status).toBe(200);
    expect((await call('DELETE', path, { token: admin.token })).status).toBe(404);
    const events = await eventsFor(hook, member.username);
    expect(events.map((e) => [e.type, e.data.status, e.data.complimentary])).toEqual([
      ['membership.updated', 'active', true],
      ['membership.updated', 'canceled', true],
    ]);
  });

  it('the cron expiring a lapsed membership sends one membership.updated; a re-run sends nothing', async () => {
    const admin = await userWithRole('admin');
    const hook = await endpoint(admin.token);
    const lapsed = await registerUser();
    const inPeriod = await registerUser();
    // Paying at the gateway, but its renewal events were lost: the cron's re-sync renews it, no expiry.
    const renewed = await registerUser();
    await subscribe(renewed);
    const ids = await env.DB.prepare('SELECT id, username FROM users WHERE username IN (?, ?)')
      .bind(lapsed.username, inPeriod.username)
      .all<{ id: string; username: string }>();
    const idOf = (username: string) => ids.results.find((r) => r.username === username)!.id;
    const periodEnd = Date.now() - 80 * 3_600_000;
    // The gateway's final event was lost (the subscription is unknown to it): only the cron can end it.
    await env.DB.prepare(
      `INSERT INTO memberships (user_id, tier_id, status, interval, current_period_end, cancel_at_period_end, gateway_subscription_id, gateway_state_at, updated_at)
       VALUES (?, 'tier_supporter', 'past_due', 'year', ?, 0, ?, 1, 1), (?, 'tier_supporter', 'active', 'month', ?, 1, ?, 1, 1)`,
    )
      .bind(
        idOf(lapsed.username),
        periodEnd,
        `sub_lost_${idOf(lapsed.username)}`,
        idOf(inPeriod.username),
        Date.now() + 86_400_000, // still in its period: not touched
        `sub_lost_${idOf(inPeriod.username)}`,
      )
      .run();
    await env.DB.prepare(
      'UPDATE memberships SET current_period_end = ? WHERE user_id = (SELECT id FROM users WHERE username = ?)',
    )
      .bind(periodEnd, renewed.username)
      .run();

    // Within the 72 h grace: nothing expires, nothing is sent.
    expect(await reconcile(Date.now() - 10 * 3_600_000)).toMatchObject({ membershipsExpired: 0 });
    expect(await eventsFor(hook, lapsed.username)).toEqual([]);

    const at = Date.now();
    expect(await reconcile(at)).toMatchObject({ membershipsExpired: 1 });
    const events = await eventsFor(hook, lapsed.username);
    expect(events).toHaveLength(1);
    // The payload the gateway's own events produce (same keys, same order), with the new status.
    expect(events[0]).toEqual({
      type: 'membership.updated',
      timestamp: new Date(at).toISOString(),
      data: {
        member: lapsed.username,
        tierId: 'tier_supporter',
        status: 'canceled',
        interval: 'year',
        currentPeriodEnd: new Date(periodEnd).toISOString(),
        cancelAtPeriodEnd: false,
        complimentary: false,
      },
    });
    const row = await env.DB.prepare('SELECT status FROM memberships WHERE user_id = ?')
      .bind(idOf(lapsed.username))
      .first<{ status: string }>();
    expect(row!.status).toBe('canceled');

    // A retried run (same scheduled time) and a later one change nothing and send nothing.
    expect(await reconcile(at)).toMatchObject({ membershipsExpired: 0 });
    expect(await reconcile(at + 5 * 60_000)).toMatchObject({ membershipsExpired: 0 });
    expect(await eventsFor(hook, lapsed.username)).toHaveLength(1);
    expect(await eventsFor(hook, inPeriod.username)).toEqual([]);
    // The renewed member: selected as overdue, re-synced (its own event), and the expiry sent nothing.
    expect(
      (await eventsFor(hook, renewed.username))
        .filter((e) => e.type === 'membership.updated')
        .map((e) => [e.type, e.data.status]),
    ).toEqual([
      ['membership.updated', 'active'],
      ['membership.updated', 'active'],
    ]);
    expect((await call('GET', '/api/user/membership', { token: renewed.token })).body.membership.status).toBe('active');
    const { n } = (await env.DB.prepare(
      "SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id = ? AND event_type = 'membership.updated'",
    )
      .bind(hook)
      .first<{ n: number }>())!;
    expect(n).toBe(3);
  });
});
