import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/request';
import { conversation, inbox, members, messagesOf, send, sent } from './helpers';

const bodies = (res: { body: { messages: Array<{ body: string | null }> } }) => res.body.messages.map((m) => m.body);

describe('POST /api/conversations/:id/messages', () => {
  it('sends (201) and the other member sees it, with sender and timestamps', async () => {
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    const res = await send(ann!, id, 'Hello **Bob**');
    expect(res.status).toBe(201);
    expect(res.body.message).toMatchObject({
      conversationId: id,
      body: 'Hello **Bob**',
      deleted: false,
      sender: { username: ann!.username },
    });
    expect(res.body.message.id).toMatch(/^msg_/);
    expect(res.body.message.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const list = await messagesOf(bob!, id);
    expect(list.body.messages[0]).toEqual({ ...res.body.message, readBy: [] });
  });

  it('rejects blank (422), too long (422) and malformed bodies', async () => {
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    expect((await send(ann!, id, ' \n\t ')).body).toEqual({ errors: { body: ["can't be blank"] } });
    const long = await send(ann!, id, 'x'.repeat(4001));
    expect(long.status).toBe(422);
    expect(long.body.errors.body[0]).toContain('maximum is 4000');
    expect((await send(ann!, id, 'x'.repeat(4000))).status).toBe(201);
    const missing = await call('POST', `/api/conversations/${id}/messages`, { token: ann!.token, body: {} });
    expect(missing.status).toBe(422);
  });

  it('a retry with the same clientId returns the first message (200) and counts once', async () => {
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    const first = await send(ann!, id, 'once', 'client-1');
    expect(first.status).toBe(201);
    const retry = await send(ann!, id, 'once (retried)', 'client-1');
    expect(retry.status).toBe(200);
    expect(retry.body.message).toEqual(first.body.message);
    expect(bodies(await messagesOf(bob!, id))).toEqual(['once']);
    expect((await inbox(bob!)).body.conversations[0].unreadCount).toBe(1);
    // The same client id from the other member is their own message.
    expect((await send(bob!, id, 'mine', 'client-1')).status).toBe(201);
  });

  it('parallel retries with one clientId create one message and bump counters once', async () => {
    const [ann, bob, cid] = await members(3);
    const id = await conversation(ann!, [bob!, cid!]);
    const versionBefore = await env.DB.prepare('SELECT inbox_version FROM users WHERE lower(username) = lower(?)')
      .bind(bob!.username)
      .first<number>('inbox_version');
    const results = await Promise.all(Array.from({ length: 8 }, () => send(ann!, id, 'parallel', 'same-key')));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.message.id)).size).toBe(1);
    expect(bodies(await messagesOf(bob!, id))).toEqual(['parallel']);
    expect((await inbox(bob!)).body.conversations[0].unreadCount).toBe(1);
    expect((await inbox(cid!)).body.conversations[0].unreadCount).toBe(1);
    const versionAfter = await env.DB.prepare('SELECT inbox_version FROM users WHERE lower(username) = lower(?)')
      .bind(bob!.username)
      .first<number>('inbox_version');
    expect(versionAfter).toBe(versionBefore! + 1);
  });

  it('honours Idempotency-Key on send and start: the replay has no second effect', async () => {
    const [ann, bob] = await members(2);
    const headers = { 'Idempotency-Key': `key-${Math.random()}` };
    const started = await call('POST', '/api/conversations', {
      token: ann!.token,
      body: { participants: [bob!.username], message: 'hello' },
      headers,
    });
    expect(started.status).toBe(201);
    const replayedStart = await call('POST', '/api/conversations', {
      token: ann!.token,
      body: { participants: [bob!.username], message: 'hello' },
      headers,
    });
    expect(replayedStart.status).toBe(201);
    expect(replayedStart.headers.get('Idempotent-Replayed')).toBe('true');
    const id = started.body.conversation.id;

    const sendHeaders = { 'Idempotency-Key': `key-${Math.random()}` };
    const path = `/api/conversations/${id}/messages`;
    const first = await call('POST', path, { token: ann!.token, body: { body: 'once' }, headers: sendHeaders });
    const again = await call('POST', path, { token: ann!.token, body: { body: 'once' }, headers: sendHeaders });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(bodies(await messagesOf(bob!, id))).toEqual(['once', 'hello']);
    expect((await inbox(bob!)).body.conversations[0].unreadCount).toBe(2);
    const different = await call('POST', path, { token: ann!.token, body: { body: 'other' }, headers: sendHeaders });
    expect(different.status).toBe(422);
  });

  it('limits sends per sender (429 with Retry-After); other members are unaffected', async () => {
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    const env3 = { env: { MESSAGE_SEND_LIMIT_PER_MINUTE: '3' } };
    const sendLimited = (who: typeof ann, body: string) =>
      call('POST', `/api/conversations/${id}/messages`, { token: who!.token, body: { body }, ...env3 });
    for (let i = 0; i < 3; i++) expect((await sendLimited(ann, `m${i}`)).status).toBe(201);
    const limited = await sendLimited(ann, 'one too many');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('Retry-After'))).toBeLessThanOrEqual(60);
    expect(bodies(await messagesOf(bob!, id))).not.toContain('one too many');
    expect((await sendLimited(bob, 'I can still talk')).status).toBe(201);
  });
});

describe('GET /api/conversations/:id/messages', () => {
  it('pages back with before and forward with after, without gaps or duplicates while others send', async () => {
    const [ann, bob, cid] = await members(3);
    const id = await conversation(ann!, [bob!, cid!]);
    const initial: string[] = [];
    for (let i = 0; i < 12; i++) initial.push((await sent(i % 2 ? ann! : bob!, id, `m${i}`)).id);

    // Page backwards from the newest while cid keeps sending.
    const newest = await messagesOf(ann!, id, '?limit=3');
    expect(newest.body.order).toBe('desc');
    const seenBack: string[] = newest.body.messages.map((m: { id: string }) => m.id);
    const concurrent: Promise<unknown>[] = [];
    let cursor = seenBack.at(-1)!;
    let more = newest.body.hasMore;
    let n = 0;
    while (more) {
      concurrent.push(send(cid!, id, `live${n++}`));
      const page = await messagesOf(ann!, id, `?limit=3&before=${cursor}`);
      expect(page.status).toBe(200);
      seenBack.push(...page.body.messages.map((m: { id: string }) => m.id));
      cursor = seenBack.at(-1)!;
      more = page.body.hasMore;
    }
    await Promise.all(concurrent);
    expect(seenBack).toEqual([...initial].reverse());

    // Catch up forward from the last known message: exactly the live ones, in order.
    const seenForward: string[] = [];
    let after = initial.at(-1)!;
    for (;;) {
      const page = await messagesOf(bob!, id, `?limit=2&after=${after}`);
      expect(page.body.order).toBe('asc');
      seenForward.push(...page.body.messages.map((m: { body: string }) => m.body));
      if (!page.body.hasMore) break;
      after = page.body.messages.at(-1).id;
    }
    // Every live message exactly once, in the order the conversation holds them.
    expect([...seenForward].sort()).toEqual(Array.from({ length: n }, (_, i) => `live${i}`).sort());
    const all = await messagesOf(bob!, id, '?limit=100');
    expect(seenForward).toEqual(bodies(all).slice(0, n).reverse());
    expect(new Set(seenForward).size).toBe(n);
  });

  it('rejects a cursor from another conversation (422) and before+after together (422)', async () => {
    const [ann, bob, cid] = await members(3);
    const one = await conversation(ann!, [bob!]);
    const two = await conversation(ann!, [cid!]);
    const foreign = await sent(ann!, two, 'elsewhere');
    await sent(ann!, one, 'here');
    expect((await messagesOf(ann!, one, `?before=${foreign.id}`)).status).toBe(422);
    expect((await messagesOf(ann!, one, `?after=${foreign.id}&before=${foreign.id}`)).status).toBe(422);
    expect((await messagesOf(ann!, one, '?limit=0')).status).toBe(422);
    expect((await messagesOf(ann!, one, '?limit=101')).status).toBe(422);
  });
});

describe('POST /api/conversations/:id/read', () => {
  it('tracks unread counts and read markers, which never move backwards', async () => {
    const [ann, bob, cid] = await members(3);
    const id = await conversation(ann!, [bob!, cid!]);
    const m1 = await sent(ann!, id, 'one');
    const m2 = await sent(ann!, id, 'two');
    const m3 = await sent(cid!, id, 'three');
    expect((await inbox(bob!)).body.conversations[0].unreadCount).toBe(3);
    expect((await inbox(ann!)).body.conversations[0].unreadCount).toBe(1);

    const read = await call('POST', `/api/conversations/${id}/read`, { token: bob!.token, body: { upTo: m2.id } });
    expect(read.status).toBe(200);
    expect(read.body.conversation.unreadCount).toBe(1);

    // Backwards is a no-op.
    const back = await call('POST', `/api/conversations/${id}/read`, { token: bob!.token, body: { upTo: m1.id } });
    expect(back.body.conversation.unreadCount).toBe(1);

    // Each message's read state for the others.
    const list = await messagesOf(ann!, id);
    const readBy = Object.fromEntries(
      list.body.messages.map((m: { id: string; readBy: string[] }) => [m.id, [...m.readBy].sort()]),
    );
    expect(readBy[m1.id]).toEqual([bob!.username, cid!.username].sort());
    expect(readBy[m2.id]).toEqual([bob!.username, cid!.username].sort());
    expect(readBy[m3.id]).toEqual([]);

    await call('POST', `/api/conversations/${id}/read`, { token: bob!.token, body: { upTo: m3.id } });
    expect((await inbox(bob!)).body.conversations[0].unreadCount).toBe(0);
    expect(
      (await call('POST', `/api/conversations/${id}/read`, { token: bob!.token, body: { upTo: 'msg_nope' } })).status,
    ).toBe(422);
  });
});

describe('DELETE /api/conversations/:id/messages/:messageId', () => {
  it('leaves a tombstone, fixes the preview and unread counts, and only the sender may delete', async () => {
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    const keep = await sent(ann!, id, 'keep me');
    const gone = await sent(ann!, id, 'regret');
    expect((await inbox(bob!)).body.conversations[0].unreadCount).toBe(2);

    const forbidden = await call('DELETE', `/api/conversations/${id}/messages/${gone.id}`, { token: bob!.token });
    expect(forbidden.status).toBe(403);
    const del = await call('DELETE', `/api/conversations/${id}/messages/${gone.id}`, { token: ann!.token });
    expect(del.status).toBe(204);
    expect((await call('DELETE', `/api/conversations/${id}/messages/${gone.id}`, { token: ann!.token })).status).toBe(
      204,
    );

    const list = await messagesOf(bob!, id);
    expect(list.body.messages).toHaveLength(2);
    expect(list.body.messages[0]).toMatchObject({ id: gone.id, body: null, deleted: true });
    expect(list.body.messages[0].deletedAt).not.toBeNull();
    expect(list.body.messages[1]).toMatchObject({ id: keep.id, body: 'keep me', deleted: false });
    const bobs = (await inbox(bob!)).body.conversations[0];
    expect(bobs.unreadCount).toBe(1);
    expect(bobs.lastMessage).toMatchObject({ id: gone.id, preview: null, deleted: true });
    // Cursors through a tombstone still work.
    expect(bodies(await messagesOf(bob!, id, `?before=${gone.id}`))).toEqual(['keep me']);
    expect((await call('DELETE', `/api/conversations/${id}/messages/msg_unknown`, { token: ann!.token })).status).toBe(
      404,
    );
  });
});

describe('POST /api/conversations/:id/messages/:messageId/report', () => {
  it('files one report per member and message, kept for moderation with the body as reported', async () => {
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    const m = await sent(ann!, id, 'something nasty');
    const path = `/api/conversations/${id}/messages/${m.id}/report`;
    const res = await call('POST', path, { token: bob!.token, body: { reason: 'abuse' } });
    expect(res.status).toBe(201);
    expect(res.body.report).toMatchObject({ status: 'open' });
    const again = await call('POST', path, { token: bob!.token });
    expect(again.status).toBe(200);
    expect(again.body.report.id).toBe(res.body.report.id);
    expect((await call('POST', path, { token: ann!.token, body: {} })).status).toBe(422);

    await call('DELETE', `/api/conversations/${id}/messages/${m.id}`, { token: ann!.token });
    const row = await env.DB.prepare('SELECT body_snapshot, reason, status FROM message_reports WHERE id = ?')
      .bind(res.body.report.id)
      .first();
    expect(row).toEqual({ body_snapshot: 'something nasty', reason: 'abuse', status: 'open' });
  });
});
