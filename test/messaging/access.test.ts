import { describe, expect, it } from 'vitest';
import { call } from '../helpers/request';
import { conversation, inbox, member, members, messagesOf, send, sent, start } from './helpers';

describe('access: non-participants get 404 on every route', () => {
  it('answers 404 (never 403) to an outsider on every conversation route', async () => {
    const [ann, bob, eve] = await members(3);
    const id = await conversation(ann!, [bob!]);
    const m = await sent(ann!, id, 'private');
    const routes: Array<[string, string, unknown?]> = [
      ['GET', `/api/conversations/${id}`],
      ['PUT', `/api/conversations/${id}`, { title: 'x' }],
      ['POST', `/api/conversations/${id}/leave`],
      ['GET', `/api/conversations/${id}/messages`],
      ['GET', `/api/conversations/${id}/messages?after=${m.id}`],
      ['POST', `/api/conversations/${id}/messages`, { body: 'let me in' }],
      ['POST', `/api/conversations/${id}/read`, { upTo: m.id }],
      ['DELETE', `/api/conversations/${id}/messages/${m.id}`],
      ['POST', `/api/conversations/${id}/messages/${m.id}/report`, {}],
    ];
    for (const [method, path, body] of routes) {
      const res = await call(method, path, { token: eve!.token, body });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    // Unknown ids look the same as someone else's.
    const unknown = await call('GET', '/api/conversations/cnv_doesnotexist', { token: eve!.token });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ errors: { conversation: ['not found'] } });
    // Without a token: 401 before anything else.
    for (const [method, path, body] of routes) {
      expect((await call(method, path, { body })).status, `${method} ${path}`).toBe(401);
    }
    // Nothing the outsider did changed the conversation.
    const history = await messagesOf(ann!, id);
    expect(history.body.messages.map((x: { body: string }) => x.body)).toEqual(['private']);
  });

  it('conversation ids are random, not sequential', async () => {
    const [ann, bob, cid] = await members(3);
    const a = await conversation(ann!, [bob!]);
    const b = await conversation(ann!, [cid!]);
    expect(a).not.toBe(b);
    expect(a.slice(0, 6)).not.toBe(b.slice(0, 6));
  });
});

describe('blocking', () => {
  it('blocks both ways: no new conversation and no new message either direction; history stays', async () => {
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    await sent(bob!, id, 'before the block');

    const block = await call('POST', `/api/profiles/${bob!.username}/block`, { token: ann!.token });
    expect(block.status).toBe(200);
    expect(block.body.profile).toMatchObject({ username: bob!.username, blocked: true });
    expect((await call('POST', `/api/profiles/${bob!.username}/block`, { token: ann!.token })).status).toBe(200);

    // Neutral refusal, the same whichever side asks.
    const fromBlocked = await send(bob!, id, 'hello?');
    const fromBlocker = await send(ann!, id, 'hello?');
    expect(fromBlocked.status).toBe(403);
    expect(fromBlocked.body).toEqual({ errors: { message: ['cannot be delivered to this conversation'] } });
    expect(fromBlocker.body).toEqual(fromBlocked.body);
    expect((await start(bob!, [ann!])).status).toBe(403);
    expect((await start(ann!, [bob!])).status).toBe(403);

    // History is intact for both.
    for (const who of [ann!, bob!]) {
      const list = await messagesOf(who, id);
      expect(list.body.messages.map((x: { body: string }) => x.body)).toEqual(['before the block']);
    }
    const blocks = await call('GET', '/api/user/blocks', { token: ann!.token });
    expect(blocks.body.profiles.map((p: { username: string }) => p.username)).toEqual([bob!.username]);

    const unblock = await call('DELETE', `/api/profiles/${bob!.username}/block`, { token: ann!.token });
    expect(unblock.body.profile.blocked).toBe(false);
    expect((await send(bob!, id, 'friends again')).status).toBe(201);
    expect((await call('GET', '/api/user/blocks', { token: ann!.token })).body.profiles).toEqual([]);
  });

  it('a block in a shared group stops messages between the two there too, others still talk', async () => {
    const [ann, bob, cid] = await members(3);
    const group = await conversation(ann!, [bob!, cid!]);
    await call('POST', `/api/profiles/${ann!.username}/block`, { token: bob!.token });
    expect((await send(ann!, group, 'hi')).status).toBe(403);
    expect((await send(bob!, group, 'hi')).status).toBe(403);
    expect((await send(cid!, group, 'hi')).status).toBe(201);
    // A third member may still start a group with both (refusing would reveal the block to them),
    // but the two still cannot message each other there.
    const another = await start(cid!, [ann!, bob!]);
    expect(another.status).toBe(201);
    expect((await send(ann!, another.body.conversation.id, 'hi')).status).toBe(403);
  });

  it('blocking yourself is 422, an unknown member 404', async () => {
    const ann = await member();
    expect((await call('POST', `/api/profiles/${ann.username}/block`, { token: ann.token })).status).toBe(422);
    expect((await call('POST', '/api/profiles/nobody-xyz-123/block', { token: ann.token })).status).toBe(404);
  });
});

describe('dmPolicy', () => {
  it('defaults to everyone; following admits only people the member follows; nobody admits none', async () => {
    const [ann, bob, cid] = await members(3);
    expect((await call('GET', '/api/user/messaging', { token: bob!.token })).body).toEqual({
      messaging: { dmPolicy: 'everyone' },
    });
    const set = await call('PUT', '/api/user/messaging', {
      token: bob!.token,
      body: { messaging: { dmPolicy: 'following' } },
    });
    expect(set.body.messaging.dmPolicy).toBe('following');
    expect((await start(ann!, [bob!])).status).toBe(403);
    // Bob follows Ann: now Ann may start a conversation with Bob; Cid still may not.
    await call('POST', `/api/profiles/${ann!.username}/follow`, { token: bob!.token });
    expect((await start(ann!, [bob!])).status).toBe(201);
    expect((await start(cid!, [bob!])).status).toBe(403);
    // A group is refused if any invitee refuses.
    expect((await start(cid!, [ann!, bob!])).status).toBe(403);

    await call('PUT', '/api/user/messaging', { token: bob!.token, body: { messaging: { dmPolicy: 'nobody' } } });
    const refused = await start(cid!, [bob!]);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ errors: { message: ['cannot be delivered to this conversation'] } });
    // Bob can still start conversations himself.
    expect((await start(bob!, [cid!])).status).toBe(201);
    expect(
      (await call('PUT', '/api/user/messaging', { token: bob!.token, body: { messaging: { dmPolicy: 'friends' } } }))
        .status,
    ).toBe(422);
    expect((await inbox(cid!)).body.conversations).toHaveLength(1);
  });
});
