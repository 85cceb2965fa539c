import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { MemberSockets } from '../../src/messages/member-sockets.object';
import { login } from '../helpers/factories';
import { call } from '../helpers/request';
import { conversation, members, sent } from './helpers';
import { connect, open, stubOf, ticket, userIdOf as userId, worker } from './sockets';

describe('GET /api/realtime', () => {
  it('requires a ticket (401), an upgrade (426), and a ticket works once', async () => {
    const [ann] = await members(1);
    const none = await worker.fetch('http://folio.test/api/realtime', { headers: { Upgrade: 'websocket' } });
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ errors: { ticket: ['is missing'] } });

    const t = await ticket(ann!);
    const plain = await worker.fetch(`http://folio.test/api/realtime?ticket=${t}`);
    expect(plain.status).toBe(426);

    const first = await connect(t);
    expect(first.status).toBe(101);
    first.webSocket!.accept();
    const second = await connect(t);
    expect(second.status).toBe(401);
    expect(await second.json()).toEqual({ errors: { ticket: ['is invalid, used or expired'] } });
    expect((await connect('forged-ticket')).status).toBe(401);
    first.webSocket!.close(1000);
  });

  it('a ticket raced by parallel connections is accepted exactly once', async () => {
    const [ann] = await members(1);
    const t = await ticket(ann!);
    const results = await Promise.all(Array.from({ length: 5 }, () => connect(t)));
    expect(results.map((r) => r.status).sort()).toEqual([101, 401, 401, 401, 401]);
    results.find((r) => r.status === 101)!.webSocket!.accept();
  });

  it('a ticket expires after about 60 seconds', async () => {
    const [ann] = await members(1);
    const t = await ticket(ann!);
    await env.DB.prepare('UPDATE realtime_tickets SET expires_at = ?')
      .bind(Date.now() - 1)
      .run();
    expect((await connect(t)).status).toBe(401);
  });

  it('needs an authenticated session to get a ticket', async () => {
    expect((await call('POST', '/api/realtime/ticket')).status).toBe(401);
  });
});

describe('real-time events', () => {
  it('a connected member receives message.created for a message another member sent over HTTP', async () => {
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    const bobSocket = await open(bob!);
    const annSocket = await open(ann!);
    const m = await sent(ann!, id, 'live hello');
    const event = await bobSocket.next('message.created');
    expect(event).toMatchObject({
      type: 'message.created',
      conversationId: id,
      message: { id: m.id, body: 'live hello' },
    });
    // The sender's other devices hear it too.
    expect((await annSocket.next('message.created')).message.id).toBe(m.id);

    await call('POST', `/api/conversations/${id}/read`, { token: bob!.token, body: { upTo: m.id } });
    expect(await annSocket.next('conversation.read')).toMatchObject({ username: bob!.username, upTo: m.id });

    await call('DELETE', `/api/conversations/${id}/messages/${m.id}`, { token: ann!.token });
    expect(await bobSocket.next('message.deleted')).toMatchObject({ conversationId: id, messageId: m.id });

    // ping is answered without waking the object.
    bobSocket.ws.send('{"type":"ping"}');
    expect(await bobSocket.next('pong')).toEqual({ type: 'pong' });
  });

  it('three members: every connected participant receives, a non-participant does not', async () => {
    const [ann, bob, cid, dan] = await members(4);
    const id = await conversation(ann!, [bob!, cid!]);
    const [b, c, d] = [await open(bob!), await open(cid!), await open(dan!)];
    await sent(ann!, id, 'to the group');
    expect((await b.next('message.created')).message.body).toBe('to the group');
    expect((await c.next('message.created')).message.body).toBe('to the group');
    await expect(d.next('message.created', 300)).rejects.toThrow(/no message.created/);
  });

  it('renames and leaving push conversation.updated; a leaver no longer receives messages', async () => {
    const [ann, bob, cid] = await members(3);
    const id = await conversation(ann!, [bob!, cid!]);
    const [b, c] = [await open(bob!), await open(cid!)];
    await call('PUT', `/api/conversations/${id}`, { token: ann!.token, body: { title: 'Plans' } });
    expect(await b.next('conversation.updated')).toEqual({
      type: 'conversation.updated',
      conversationId: id,
      reason: 'title',
    });
    expect((await c.next('conversation.updated')).reason).toBe('title');

    await call('POST', `/api/conversations/${id}/leave`, { token: cid!.token });
    expect((await b.next('conversation.updated')).reason).toBe('left');
    expect((await c.next('conversation.updated')).reason).toBe('left');
    await sent(ann!, id, 'after cid left');
    expect((await b.next('message.created')).message.body).toBe('after cid left');
    await expect(c.next('message.created', 300)).rejects.toThrow(/no message.created/);
  });

  it('sockets survive hibernation (evictDurableObject) and keep their session tag and attachment', async () => {
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    const socket = await open(bob!);
    const stub = stubOf(await userId(bob!));
    const before = await runInDurableObject(stub as DurableObjectStub, (instance: MemberSockets) =>
      instance.describe(),
    );
    expect(before.sockets).toBe(1);

    await evictDurableObject(stub);
    // A fresh instance sees the hibernated socket with its attachment.
    const after = await stub.describe();
    expect(after).toEqual(before);
    await sent(ann!, id, 'after hibernation');
    expect((await socket.next('message.created')).message.body).toBe('after hibernation');
  });

  it('revoking a session closes that session’s sockets (logout, revocation by id, password change), not others', async () => {
    const [bob] = await members(1);
    const laptop = await login(bob!.email, bob!.password);
    const laptopUser = { ...bob!, token: laptop.body.user.token };
    const phone = await open(bob!);
    const desk = await open(laptopUser);

    expect((await call('POST', '/api/users/logout', { token: laptopUser.token })).status).toBe(204);
    expect(await desk.next('session.revoked')).toEqual({ type: 'session.revoked' });
    expect(await desk.closedWithin()).toEqual({ code: 4001, reason: 'session revoked' });
    // The other session's socket is still open and receiving.
    const stub = stubOf(await userId(bob!));
    expect((await stub.describe()).sockets).toBe(1);

    // Revoking by id.
    const other = await login(bob!.email, bob!.password);
    const otherSocket = await open({ ...bob!, token: other.body.user.token });
    const sessions = await call('GET', '/api/user/sessions', { token: bob!.token });
    const target = sessions.body.sessions.find((s: { current: boolean }) => !s.current).id;
    expect((await call('DELETE', `/api/user/sessions/${target}`, { token: bob!.token })).status).toBe(204);
    expect((await otherSocket.closedWithin()).code).toBe(4001);
    expect((await stub.describe()).sockets).toBe(1);

    // A password change ends every session, this one included: every socket of the account closes.
    const tablet = await login(bob!.email, bob!.password);
    const tabletSocket = await open({ ...bob!, token: tablet.body.user.token });
    const changed = await call('PUT', '/api/user', {
      token: bob!.token,
      body: { user: { password: 'a-new-password-1' } },
    });
    expect(changed.status).toBe(200);
    expect((await tabletSocket.closedWithin()).code).toBe(4001);
    expect((await phone.closedWithin()).code).toBe(4001);
    expect((await stub.describe()).sockets).toBe(0);
  });

  it('a revoked session cannot redeem a ticket it got before', async () => {
    const [bob] = await members(1);
    const t = await ticket(bob!);
    await call('POST', '/api/users/logout', { token: bob!.token });
    expect((await connect(t)).status).toBe(401);
  });
});
