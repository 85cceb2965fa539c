import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sessionKey } from '../../src/sessions/sessions.kv';
import { login, type TestUser, sessionIdOf } from '../helpers/factories';
import { call } from '../helpers/request';
import { userWithRole } from '../helpers/roles';
import { conversation, members, sent } from './helpers';
import { connect, open, stubOf, ticket, userIdOf } from './sockets';

/** The session id inside an access token (its `sid` claim). */
/** A second signed-in session (another device) of the same member. */
async function secondDevice(user: TestUser): Promise<TestUser> {
  const res = await login(user.email, user.password);
  expect(res.status).toBe(200);
  return { ...user, token: res.body.user.token, refreshToken: res.body.user.refreshToken };
}

describe('sockets close when the account loses its sessions', () => {
  it("an admin's ban closes every socket of the member; no ticket, login or earlier ticket gets a socket back", async () => {
    const admin = await userWithRole('admin');
    const [bob] = await members(1);
    const phone = bob!;
    const laptop = await secondDevice(phone);
    const [a, b] = [await open(phone), await open(laptop)];
    const spare = await ticket(laptop);
    // The ban's session copy as another location may still hold it (KV is eventually consistent).
    const staleCopy = await env.SESSIONS.get(sessionKey(sessionIdOf(laptop.token)));
    expect(staleCopy).not.toBeNull();
    const bobId = await userIdOf(phone);

    const banned = await call('POST', `/api/admin/users/${bobId}/ban`, {
      token: admin.token,
      body: { ban: { reason: 'spam' } },
    });
    expect(banned.status).toBe(200);
    expect(await a.closedWithin()).toEqual({ code: 4001, reason: 'session revoked' });
    expect(await b.closedWithin()).toEqual({ code: 4001, reason: 'session revoked' });
    expect(await stubOf(bobId).describe()).toEqual({ sockets: 0, sessions: [] });

    // Refused while banned: a ticket with the old token, signing in again, a ticket taken before the ban.
    expect((await call('POST', '/api/realtime/ticket', { token: laptop.token })).status).toBe(401);
    expect((await login(phone.email, phone.password)).status).toBe(403);
    expect((await connect(spare)).status).toBe(401);
    // Where the session's KV copy survives, the token gets no ticket either: issuing one is a write, and
    // every signed-in write checks the session in D1 (db/write-guard.ts), where the ban revoked it.
    await env.SESSIONS.put(sessionKey(sessionIdOf(laptop.token)), staleCopy!);
    const late = await call('POST', '/api/realtime/ticket', { token: laptop.token });
    expect(late.status).toBe(401);
    expect(late.body).toEqual({ errors: { token: ['is missing'] } });
    expect(await stubOf(bobId).describe()).toEqual({ sockets: 0, sessions: [] });
  });

  it('a role change closes the sockets; the member signs in again, reconnects with a new ticket and receives', async () => {
    const admin = await userWithRole('admin');
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    const before = await open(bob!);
    const earlier = await ticket(bob!);
    const bobId = await userIdOf(bob!);

    const changed = await call('PUT', `/api/admin/users/${bobId}/role`, {
      token: admin.token,
      body: { user: { role: 'author' } },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.user.role).toBe('author');
    expect(await before.closedWithin()).toEqual({ code: 4001, reason: 'session revoked' });
    expect((await connect(earlier)).status).toBe(401);
    expect((await call('POST', '/api/realtime/ticket', { token: bob!.token })).status).toBe(401);

    const again = await secondDevice(bob!);
    const after = await open(again);
    await sent(ann!, id, 'after the role change');
    expect((await after.next('message.created')).message.body).toBe('after the role change');
    expect((await stubOf(bobId).describe()).sessions).toEqual([sessionIdOf(again.token)]);
  });

  it('setting the role the member already has revokes nothing and leaves the socket open', async () => {
    const admin = await userWithRole('admin');
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    const socket = await open(bob!);
    const same = await call('PUT', `/api/admin/users/${await userIdOf(bob!)}/role`, {
      token: admin.token,
      body: { user: { role: 'member' } },
    });
    expect(same.status).toBe(200);
    await sent(ann!, id, 'still here');
    expect((await socket.next('message.created')).message.body).toBe('still here');
    await expect(socket.closedWithin(300)).rejects.toThrow(/still open/);
  });

  it("deleting the account closes the member's sockets and no socket can be opened again", async () => {
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    const laptop = await secondDevice(bob!);
    const [a, b] = [await open(bob!), await open(laptop)];
    const spare = await ticket(laptop);
    const bobId = await userIdOf(bob!);

    const deleted = await call('DELETE', '/api/user', { token: bob!.token, body: { password: bob!.password } });
    expect(deleted.status).toBe(204);
    expect((await a.closedWithin()).code).toBe(4001);
    expect((await b.closedWithin()).code).toBe(4001);
    expect(await stubOf(bobId).describe()).toEqual({ sockets: 0, sessions: [] });

    expect((await connect(spare)).status).toBe(401);
    expect((await call('POST', '/api/realtime/ticket', { token: laptop.token })).status).toBe(401);
    expect((await login(bob!.email, bob!.password)).status).toBe(401);
    // Ann's side still works, and nothing reaches the deleted member's object.
    const annSocket = await open(ann!);
    await sent(ann!, id, 'anyone there?');
    expect((await annSocket.next('message.created')).message.body).toBe('anyone there?');
    expect((await stubOf(bobId).describe()).sockets).toBe(0);
  });

  it("an admin revoking one session closes only that session's sockets", async () => {
    const admin = await userWithRole('admin');
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    const laptop = await secondDevice(bob!);
    const [phoneSocket, laptopSocket] = [await open(bob!), await open(bob!)];
    const deskSocket = await open(laptop);
    const bobId = await userIdOf(bob!);

    const revoked = await call('DELETE', `/api/admin/users/${bobId}/sessions/${sessionIdOf(laptop.token)}`, {
      token: admin.token,
    });
    expect(revoked.status).toBe(204);
    expect((await deskSocket.closedWithin()).code).toBe(4001);
    // Both sockets of the other session stay open and receive.
    await sent(ann!, id, 'for the phone');
    expect((await phoneSocket.next('message.created')).message.body).toBe('for the phone');
    expect((await laptopSocket.next('message.created')).message.body).toBe('for the phone');
    expect((await stubOf(bobId).describe()).sessions).toEqual([sessionIdOf(bob!.token), sessionIdOf(bob!.token)]);
  });
});

describe('an upgrade that passed its D1 check just before the revocation committed', () => {
  const upgrade = (userId: string, sessionId: string) =>
    stubOf(userId).fetch('https://member-sockets/connect', {
      headers: { Upgrade: 'websocket', 'X-Folio-Session-Id': sessionId },
    });

  it("is refused by the member's object once the revocation's close ran; other sessions still connect", async () => {
    const [bob] = await members(1);
    const bobId = await userIdOf(bob!);
    const revoked = sessionIdOf(bob!.token);
    const other = sessionIdOf((await secondDevice(bob!)).token);
    // What the revoking paths' hook does after their batch commits.
    await stubOf(bobId).closeSessions([revoked]);

    const late = await upgrade(bobId, revoked);
    expect(late.status).toBe(401);
    expect(late.webSocket).toBeNull();
    const fine = await upgrade(bobId, other);
    expect(fine.status).toBe(101);
    fine.webSocket!.accept();
    expect((await stubOf(bobId).describe()).sessions).toEqual([other]);
    fine.webSocket!.close(1000, 'done');
  });

  it('is remembered only for a while: the alarm forgets revocations past their window', async () => {
    const [bob] = await members(1);
    const bobId = await userIdOf(bob!);
    const sessionId = sessionIdOf(bob!.token);
    await stubOf(bobId).closeSessions([sessionId]);
    const stub = stubOf(bobId);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).not.toBeNull();
    // Not yet due: the alarm keeps it.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await upgrade(bobId, sessionId)).status).toBe(401);
    // Past its window: forgotten.
    await runInDurableObject(stub, (_, state) => state.storage.put(`revoked:${sessionId}`, Date.now() - 1));
    await runInDurableObject(stub, (_, state) => state.storage.setAlarm(Date.now()));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_, state) => state.storage.get(`revoked:${sessionId}`))).toBeUndefined();
  });
});
