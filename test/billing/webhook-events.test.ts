import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/request';
import { userWithRole } from '../helpers/roles';
import { unique } from '../helpers/factories';
import { checkout, pay, registerUser, subscribe } from './helpers';

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
});
