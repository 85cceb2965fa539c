import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/request';
import { checkout, pay, subscribe } from '../billing/helpers';
import { conversation, inbox, members, messagesOf, sent } from '../messaging/helpers';

const idOf = async (username: string) =>
  (await env.DB.prepare('SELECT id FROM users WHERE username = ?').bind(username).first<{ id: string }>())!.id;

async function setup() {
  const [ann, bob, cid] = await members(3);
  await subscribe(ann!);
  const tip = await checkout(ann!, { tip: { author: bob!.username, amount: 700 } });
  expect(tip.status).toBe(201);
  await pay(tip.body.id);
  // Bob's own membership and payment, which must not leak into Ann's export.
  await subscribe(bob!);
  const direct = await conversation(ann!, [bob!]);
  const group = await conversation(bob!, [ann!, cid!], { title: 'Book club' });
  await sent(bob!, direct, 'bob secret one');
  await sent(ann!, direct, 'ann says hi');
  await sent(bob!, group, 'bob secret two');
  await sent(ann!, group, 'ann last word');
  return { ann: ann!, bob: bob!, cid: cid!, direct, group };
}

describe('data rights: billing and messaging', () => {
  it("the export holds the member's membership, payments, conversations and sent messages, nothing of others", async () => {
    const { ann, direct, group } = await setup();
    const res = await call('GET', '/api/user/export', { token: ann.token });
    expect(res.status).toBe(200);
    expect(res.body.membership).toMatchObject({ tierId: 'tier_supporter', status: 'active', complimentary: false });
    expect(res.body.payments.map((p: any) => p.kind).sort()).toEqual(['membership', 'tip']);
    expect(res.body.payments.find((p: any) => p.kind === 'tip')).toMatchObject({ amount: 700, currency: 'USD' });
    expect(res.body.conversations.map((c: any) => c.id).sort()).toEqual([direct, group].sort());
    expect(res.body.conversations.find((c: any) => c.id === group)).toMatchObject({ title: 'Book club', leftAt: null });
    expect(res.body.messagesSent.map((m: any) => m.body).sort()).toEqual(['ann last word', 'ann says hi']);
    const text = JSON.stringify(res.body);
    expect(text).not.toContain('bob secret');
    // Bob's membership payment is not Ann's.
    expect(res.body.payments.filter((p: any) => p.kind === 'membership')).toHaveLength(1);
  });

  it("deletion tombstones their messages, keeps the others' conversations coherent, strips the ledger and cancels the subscription", async () => {
    const { ann, bob, cid, direct, group } = await setup();
    const annId = await idOf(ann.username);
    const subscription = (await env.DB.prepare(
      'SELECT gateway_subscription_id AS id FROM memberships WHERE user_id = ?',
    )
      .bind(annId)
      .first<{ id: string }>())!.id;
    // Cid has not read the group: Bob's and Ann's messages are unread for them.
    expect((await inbox(cid)).body.conversations[0].unreadCount).toBe(2);

    const res = await call('DELETE', '/api/user', { token: ann.token, body: { password: ann.password } });
    expect(res.status).toBe(204);

    for (const [who, id] of [
      [bob, direct],
      [bob, group],
      [cid, group],
    ] as const) {
      const list = (await messagesOf(who, id)).body.messages as any[];
      const fromAnn = list.filter((m) => m.body === null);
      expect(fromAnn).toHaveLength(1);
      expect(fromAnn[0]).toMatchObject({ deleted: true });
      expect(list.some((m) => m.body?.startsWith('bob secret'))).toBe(true);
      expect(list.some((m) => m.body?.startsWith('ann'))).toBe(false);
    }
    const cidInbox = (await inbox(cid)).body.conversations[0];
    expect(cidInbox.unreadCount).toBe(1);
    expect(cidInbox.lastMessage).toMatchObject({ preview: null, deleted: true });
    expect(cidInbox.participants.map((p: any) => p.username).sort()).toEqual([bob.username, cid.username].sort());
    // The group goes on without Ann.
    expect(
      (await call('POST', `/api/conversations/${group}/messages`, { token: cid.token, body: { body: 'still here' } }))
        .status,
    ).toBe(201);

    // The ledger keeps the money, not the person; the membership and the gateway subscription are gone.
    const ledger = await env.DB.prepare('SELECT kind FROM ledger WHERE user_id = ? OR author_id = ?')
      .bind(annId, annId)
      .all();
    expect(ledger.results).toEqual([]);
    const tip = await env.DB.prepare("SELECT user_id FROM ledger WHERE kind = 'tip' AND author_id = ?")
      .bind(await idOf(bob.username))
      .all<{ user_id: string | null }>();
    expect(tip.results).toEqual([{ user_id: null }]);
    expect(await env.DB.prepare('SELECT 1 FROM memberships WHERE user_id = ?').bind(annId).first()).toBeNull();
    const gw = await env.DB.prepare("SELECT json_extract(data, '$.status') AS status FROM gw_objects WHERE id = ?")
      .bind(subscription)
      .first<{ status: string }>();
    expect(gw?.status).toBe('canceled');
    // Bob's own membership is untouched.
    expect((await call('GET', '/api/user/membership', { token: bob.token })).body.membership.status).toBe('active');
  });
});
