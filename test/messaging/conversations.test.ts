import { describe, expect, it } from 'vitest';
import { registerUser, type TestUser } from '../helpers/factories';
import { call } from '../helpers/request';
import { conversation, inbox, member, members, messagesOf, send, sent, start } from './helpers';

describe('POST /api/conversations', () => {
  it('starts a 1:1 between two members, who both see it with each other as participants', async () => {
    const [ann, bob] = await members(2);
    const res = await start(ann!, [bob!], { message: 'hi Bob' });
    expect(res.status).toBe(201);
    const c = res.body.conversation;
    expect(c.id).toMatch(/^cnv_[A-Za-z0-9_-]{22}$/);
    expect(c.kind).toBe('direct');
    expect(c.participants.map((p: { username: string }) => p.username).sort()).toEqual(
      [ann!.username, bob!.username].sort(),
    );
    expect(res.body.message.body).toBe('hi Bob');
    expect(c.lastMessage).toMatchObject({ preview: 'hi Bob', sender: ann!.username, deleted: false });
    expect(c.unreadCount).toBe(0);

    const bobs = await inbox(bob!);
    expect(bobs.status).toBe(200);
    expect(bobs.body.conversations).toHaveLength(1);
    expect(bobs.body.conversations[0]).toMatchObject({ id: c.id, unreadCount: 1, lastMessage: { preview: 'hi Bob' } });
  });

  it('returns the existing 1:1 (200, same id) when either side starts it again, even concurrently', async () => {
    const [ann, bob] = await members(2);
    const results = await Promise.all([start(ann!, [bob!]), start(bob!, [ann!]), start(ann!, [bob!])]);
    const ids = new Set(results.map((r) => r.body.conversation.id));
    expect(ids.size).toBe(1);
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 201]);
    expect((await inbox(ann!)).body.conversations).toHaveLength(1);
  });

  it('starts a group with three members, each of whom receives the messages', async () => {
    const [ann, bob, cid] = await members(3);
    const res = await start(ann!, [bob!, cid!], { title: 'Book club' });
    expect(res.status).toBe(201);
    expect(res.body.conversation).toMatchObject({ kind: 'group', title: 'Book club' });
    const id = res.body.conversation.id;
    await sent(bob!, id, 'hello all');
    await sent(cid!, id, 'hi!');
    for (const who of [ann!, bob!, cid!]) {
      const list = await messagesOf(who, id);
      expect(list.status).toBe(200);
      expect(list.body.messages.map((m: { body: string }) => m.body)).toEqual(['hi!', 'hello all']);
    }
    // Two groups with the same people are two conversations.
    expect((await start(ann!, [bob!, cid!])).status).toBe(201);
  });

  it('validates participants: unknown (404), yourself (422), empty (422), too many (422)', async () => {
    const [ann, bob] = await members(2);
    expect((await start(ann!, [{ ...bob!, username: 'nobody-here-xyz' }])).status).toBe(404);
    const self = await start(ann!, [ann!]);
    expect(self.status).toBe(422);
    expect(self.body.errors.participants).toBeDefined();
    expect((await start(ann!, [])).status).toBe(422);
    const many = await members(10);
    const tooMany = await start(ann!, many);
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.errors.participants[0]).toContain('maximum is 9');
    expect((await start(ann!, many.slice(0, 9))).status).toBe(201);
  });

  it('refuses members with an unverified email (403) and anonymous callers (401)', async () => {
    const unverified = await registerUser();
    const bob = await member();
    const res = await start(unverified, [bob]);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: { email: ['must be verified to start conversations'] } });
    expect((await call('POST', '/api/conversations', { body: { participants: [bob.username] } })).status).toBe(401);
    expect((await inbox(bob)).body.conversations).toHaveLength(0);
  });

  it('rejects a blank first message (422) without starting anything', async () => {
    const [ann, bob] = await members(2);
    const res = await start(ann!, [bob!], { message: '   ' });
    expect(res.status).toBe(422);
    expect(res.body.errors.message).toEqual(["can't be blank"]);
    expect((await inbox(ann!)).body.conversations).toHaveLength(0);
  });
});

describe('GET /api/conversations', () => {
  it('lists newest activity first with cursor pagination and no duplicates', async () => {
    const [ann, ...others] = await members(6);
    const ids: string[] = [];
    for (const o of others) ids.push(await conversation(ann!, [o]));
    // Activity moves the oldest conversation to the top.
    await sent(others[0]!, ids[0]!, 'bump');
    const expected = [ids[0], ...ids.slice(1).reverse()];

    const seen: string[] = [];
    let before: string | null = null;
    do {
      const res = await inbox(ann!, `?limit=2${before ? `&before=${encodeURIComponent(before)}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.conversations.map((c: { id: string }) => c.id));
      before = res.body.nextBefore;
    } while (before);
    expect(seen).toEqual(expected);
    expect((await inbox(ann!, '?before=garbage')).status).toBe(422);
  });

  it('answers 304 from the inbox version when nothing changed, and 200 once something did', async () => {
    const [ann, bob] = await members(2);
    const id = await conversation(ann!, [bob!]);
    const first = await inbox(bob!);
    const etag = first.headers.get('ETag')!;
    expect(etag).toMatch(/^W\//);

    const again = await inbox(bob!, '', { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(again.d1).toBe(1);
    expect(again.kv).toBe(1);

    await sent(ann!, id, 'new');
    const changed = await inbox(bob!, '', { 'If-None-Match': etag });
    expect(changed.status).toBe(200);
    // A poll that misses still costs one round trip: the version and the page travel in one batch.
    expect(changed.d1).toBe(1);
    expect(changed.headers.get('ETag')).not.toBe(etag);
    expect(changed.body.conversations[0].unreadCount).toBe(1);
    // Another member's ETag never matches, nor does this member's for another page.
    expect((await inbox(ann!, '', { 'If-None-Match': changed.headers.get('ETag')! })).status).toBe(200);
    expect((await inbox(bob!, '?limit=5', { 'If-None-Match': changed.headers.get('ETag')! })).status).toBe(200);
    // Several tags, one of them current: 304. A forged version for this page: 200 with the real one.
    const current = changed.headers.get('ETag')!;
    expect((await inbox(bob!, '', { 'If-None-Match': `W/"x", ${current}` })).status).toBe(304);
    const forged = current.replace(/^W\/"\d+\./, 'W/"999999.');
    const corrected = await inbox(bob!, '', { 'If-None-Match': forged });
    expect(corrected.status).toBe(200);
    expect(corrected.headers.get('ETag')).toBe(current);
  });
});

describe('PUT /api/conversations/:id and POST /api/conversations/:id/leave', () => {
  it('renames a group; a 1:1 has no title (422)', async () => {
    const [ann, bob, cid] = await members(3);
    const group = await conversation(ann!, [bob!, cid!]);
    const res = await call('PUT', `/api/conversations/${group}`, { token: bob!.token, body: { title: 'Renamed' } });
    expect(res.status).toBe(200);
    expect(res.body.conversation.title).toBe('Renamed');
    expect((await call('GET', `/api/conversations/${group}`, { token: cid!.token })).body.conversation.title).toBe(
      'Renamed',
    );
    const direct = await conversation(ann!, [bob!]);
    expect(
      (await call('PUT', `/api/conversations/${direct}`, { token: ann!.token, body: { title: 'x' } })).status,
    ).toBe(422);
  });

  it('a leaver stops receiving and gets 404; history stays for the others', async () => {
    const [ann, bob, cid] = await members(3);
    const group = await conversation(ann!, [bob!, cid!]);
    await sent(cid!, group, 'before leaving');
    const left = await call('POST', `/api/conversations/${group}/leave`, { token: cid!.token });
    expect(left.status).toBe(204);
    expect((await call('POST', `/api/conversations/${group}/leave`, { token: cid!.token })).status).toBe(404);
    expect((await messagesOf(cid!, group)).status).toBe(404);
    expect((await send(cid!, group, 'still here?')).status).toBe(404);
    expect((await inbox(cid!)).body.conversations).toHaveLength(0);

    await sent(ann!, group, 'after');
    const history = await messagesOf(bob!, group);
    expect(history.body.messages.map((m: { body: string }) => m.body)).toEqual(['after', 'before leaving']);
    const view = await call('GET', `/api/conversations/${group}`, { token: bob!.token });
    expect(view.body.conversation.participants.map((p: { username: string }) => p.username)).not.toContain(
      cid!.username,
    );
  });
});

describe("the inbox ETag follows the participants' profiles (PUT /api/user)", () => {
  const profile = (by: { token: string }, user: Record<string, unknown>) =>
    call('PUT', '/api/user', { token: by.token, body: { user } });
  const names = (res: { body: any }) =>
    res.body.conversations[0].participants.map((p: { username: string }) => p.username).sort();

  it("a participant's rename, bio or image change turns the other's 304 into 200 with the new profile", async () => {
    const [ann, bob] = await members(2);
    await conversation(ann!, [bob!]);
    let etag = (await inbox(bob!)).headers.get('ETag')!;
    expect((await inbox(bob!, '', { 'If-None-Match': etag })).status).toBe(304);

    const renamed = `${ann!.username}x`;
    expect((await profile(ann!, { username: renamed })).status).toBe(200);
    const fresh = await inbox(bob!, '', { 'If-None-Match': etag });
    expect(fresh.status).toBe(200);
    expect(names(fresh)).toEqual([bob!.username, renamed].sort());
    // The member's own list shows them too: its ETag moved as well.
    etag = fresh.headers.get('ETag')!;

    expect((await profile(ann!, { bio: 'new bio' })).status).toBe(200);
    const withBio = await inbox(bob!, '', { 'If-None-Match': etag });
    expect(withBio.status).toBe(200);
    expect(withBio.body.conversations[0].participants.find((p: any) => p.username === renamed).bio).toBe('new bio');
    etag = withBio.headers.get('ETag')!;

    expect((await profile(ann!, { image: 'https://example.com/ann.png' })).status).toBe(200);
    const withImage = await inbox(bob!, '', { 'If-None-Match': etag });
    expect(withImage.status).toBe(200);
    expect(withImage.body.conversations[0].participants.find((p: any) => p.username === renamed).image).toBe(
      'https://example.com/ann.png',
    );
  });

  it("the viewer's own follow or unfollow of a participant moves their ETag (the `following` flag)", async () => {
    const [ann, bob] = await members(2);
    await conversation(ann!, [bob!]);
    const following = (res: { body: any }) =>
      res.body.conversations[0].participants.find((p: any) => p.username === ann!.username).following;
    const first = await inbox(bob!);
    expect(following(first)).toBe(false);
    expect((await call('POST', `/api/profiles/${ann!.username}/follow`, { token: bob!.token })).status).toBe(200);
    const followed = await inbox(bob!, '', { 'If-None-Match': first.headers.get('ETag')! });
    expect(followed.status).toBe(200);
    expect(following(followed)).toBe(true);
    const etag = followed.headers.get('ETag')!;
    // Following again changes nothing: still 304.
    await call('POST', `/api/profiles/${ann!.username}/follow`, { token: bob!.token });
    expect((await inbox(bob!, '', { 'If-None-Match': etag })).status).toBe(304);
    // Ann's list does not show Bob's follows.
    const annTag = (await inbox(ann!)).headers.get('ETag')!;
    expect((await call('DELETE', `/api/profiles/${ann!.username}/follow`, { token: bob!.token })).status).toBe(200);
    const unfollowed = await inbox(bob!, '', { 'If-None-Match': etag });
    expect(unfollowed.status).toBe(200);
    expect(following(unfollowed)).toBe(false);
    expect((await inbox(ann!, '', { 'If-None-Match': annTag })).status).toBe(304);
    // Unfollowing again: 304.
    await call('DELETE', `/api/profiles/${ann!.username}/follow`, { token: bob!.token });
    expect((await inbox(bob!, '', { 'If-None-Match': unfollowed.headers.get('ETag')! })).status).toBe(304);
  });

  it("the member's own ETag moves; edits that show nowhere (same values, email, password) keep the 304s", async () => {
    const [ann, bob, cid, dan] = await members(4);
    await conversation(ann!, [bob!]);
    await conversation(cid!, [dan!]);
    const etags = async () =>
      Object.fromEntries(
        await Promise.all(
          [ann!, bob!, cid!].map(async (u) => [u.username, (await inbox(u)).headers.get('ETag')!] as const),
        ),
      );
    const status = async (u: TestUser, tags: Record<string, string>, name = u.username) =>
      (await inbox(u, '', { 'If-None-Match': tags[name]! })).status;

    const before = await etags();
    expect((await profile(ann!, { username: ann!.username, bio: null, image: null })).status).toBe(200);
    expect((await profile(ann!, { email: `${ann!.username}-new@example.com` })).status).toBe(200);
    const password = await profile(ann!, { password: 'another-password-1' });
    expect(password.status).toBe(200);
    ann!.token = password.body.user.token;
    expect(await status(ann!, before)).toBe(304);
    expect(await status(bob!, before)).toBe(304);

    // A bio change alongside a password change (the batch that also revokes sessions).
    const both = await profile(ann!, { password: 'yet-another-password-1', bio: 'changed' });
    expect(both.status).toBe(200);
    ann!.token = both.body.user.token;
    expect(await status(ann!, before)).toBe(200);
    expect(await status(bob!, before)).toBe(200);
    // Members who share no conversation with Ann keep their 304.
    expect(await status(cid!, before)).toBe(304);
  });

  it('a member who left a conversation but sent its last message: the others still see the rename', async () => {
    const [ann, bob, cid] = await members(3);
    const id = await conversation(ann!, [bob!, cid!], { title: 'club' });
    await sent(ann!, id, 'bye all');
    expect((await call('POST', `/api/conversations/${id}/leave`, { token: ann!.token })).status).toBe(204);
    const first = await inbox(bob!);
    expect(first.body.conversations[0].lastMessage.sender).toBe(ann!.username);
    const renamed = `${ann!.username}y`;
    expect((await profile(ann!, { username: renamed })).status).toBe(200);
    const after = await inbox(bob!, '', { 'If-None-Match': first.headers.get('ETag')! });
    expect(after.status).toBe(200);
    expect(after.body.conversations[0].lastMessage.sender).toBe(renamed);
  });
});
