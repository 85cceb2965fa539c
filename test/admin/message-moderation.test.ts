import { describe, expect, it } from 'vitest';
import { call } from '../helpers/request';
import { auditRows, userWithRole } from '../helpers/roles';
import { conversation, inbox, members, messagesOf, sent } from '../messaging/helpers';

async function reported() {
  const [ann, bob] = await members(2);
  const editor = await userWithRole('editor');
  const id = await conversation(ann!, [bob!]);
  await sent(bob!, id, 'hello');
  const m = await sent(ann!, id, 'something nasty');
  const filed = await call('POST', `/api/conversations/${id}/messages/${m.id}/report`, {
    token: bob!.token,
    body: { reason: 'abuse' },
  });
  expect(filed.status).toBe(201);
  return { ann: ann!, bob: bob!, editor, id, message: m, reportId: filed.body.report.id as string };
}

describe('message moderation', () => {
  it('editors see the report, remove the message (a tombstone for everyone, coherent inbox) and resolve it; audited', async () => {
    const { ann, bob, editor, id, message, reportId } = await reported();
    // Bob has not read Ann's message yet.
    expect((await inbox(bob)).body.conversations[0].unreadCount).toBe(1);

    const queue = await call('GET', '/api/admin/message-reports?limit=100', { token: editor.token });
    expect(queue.status).toBe(200);
    expect(queue.d1).toBe(1);
    const mine = queue.body.reports.find((r: any) => r.id === reportId);
    expect(mine).toMatchObject({
      reason: 'abuse',
      status: 'open',
      resolution: null,
      reporter: bob.username,
      message: {
        id: message.id,
        conversationId: id,
        reportedBody: 'something nasty',
        removed: false,
        sender: ann.username,
      },
    });

    const removed = await call('DELETE', `/api/admin/messages/${message.id}`, { token: editor.token });
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ message: { id: message.id, conversationId: id, removed: true } });
    for (const who of [ann, bob]) {
      const list = (await messagesOf(who, id)).body.messages;
      expect(list.find((m: any) => m.id === message.id)).toMatchObject({ body: null, deleted: true });
      expect(list.find((m: any) => m.body === 'hello')).toBeTruthy();
      expect((await inbox(who)).body.conversations[0].lastMessage).toMatchObject({ preview: null, deleted: true });
    }
    expect((await inbox(bob)).body.conversations[0].unreadCount).toBe(0);
    // Removing again changes nothing and writes no second audit row.
    expect((await call('DELETE', `/api/admin/messages/${message.id}`, { token: editor.token })).status).toBe(200);
    const audit = await auditRows(message.id, 'message');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'message.remove' });
    expect(JSON.parse(audit[0]!.before)).toMatchObject({ body: 'something nasty', conversationId: id });

    const afterRemoval = await call('GET', '/api/admin/message-reports?limit=100', { token: editor.token });
    expect(afterRemoval.body.reports.find((r: any) => r.id === reportId).message.removed).toBe(true);

    const resolved = await call('POST', `/api/admin/message-reports/${reportId}/resolve`, {
      token: editor.token,
      body: { report: { resolution: 'actioned' } },
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body.report).toMatchObject({ id: reportId, status: 'resolved', resolution: 'actioned' });
    const again = await call('POST', `/api/admin/message-reports/${reportId}/resolve`, {
      token: editor.token,
      body: { report: { resolution: 'dismissed' } },
    });
    expect(again.body.report.resolution).toBe('actioned');
    expect(await auditRows(reportId, 'message_report')).toHaveLength(1);

    const open = await call('GET', '/api/admin/message-reports?limit=100', { token: editor.token });
    expect(open.body.reports.map((r: any) => r.id)).not.toContain(reportId);
    const closed = await call('GET', '/api/admin/message-reports?status=resolved&limit=100', { token: editor.token });
    expect(closed.body.reports.find((r: any) => r.id === reportId)).toMatchObject({ resolution: 'actioned' });
  });

  it('pages the queue with a cursor', async () => {
    const a = await reported();
    const b = await reported();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await call('GET', `/api/admin/message-reports?limit=1${cursor ? `&cursor=${cursor}` : ''}`, {
        token: a.editor.token,
      });
      expect(res.status).toBe(200);
      seen.push(...res.body.reports.map((r: any) => r.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toContain(a.reportId);
    expect(seen).toContain(b.reportId);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.indexOf(a.reportId)).toBeLessThan(seen.indexOf(b.reportId));
  });

  it('is for moderators only, with 404 for unknown ids and 422 for bad input', async () => {
    const { bob, editor, message, reportId } = await reported();
    const author = await userWithRole('author');
    for (const token of [bob.token, author.token]) {
      expect((await call('GET', '/api/admin/message-reports', { token })).status).toBe(403);
      expect((await call('DELETE', `/api/admin/messages/${message.id}`, { token })).status).toBe(403);
      expect(
        (
          await call('POST', `/api/admin/message-reports/${reportId}/resolve`, {
            token,
            body: { report: { resolution: 'dismissed' } },
          })
        ).status,
      ).toBe(403);
    }
    expect((await call('GET', '/api/admin/message-reports')).status).toBe(401);
    expect((await call('DELETE', '/api/admin/messages/msg_unknown', { token: editor.token })).status).toBe(404);
    expect(
      (
        await call('POST', '/api/admin/message-reports/rpt_unknown/resolve', {
          token: editor.token,
          body: { report: { resolution: 'dismissed' } },
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await call('POST', `/api/admin/message-reports/${reportId}/resolve`, {
          token: editor.token,
          body: { report: { resolution: 'ignored' } },
        })
      ).status,
    ).toBe(422);
    expect((await call('GET', '/api/admin/message-reports?status=new', { token: editor.token })).status).toBe(422);
    expect((await call('GET', '/api/admin/message-reports?cursor=x', { token: editor.token })).status).toBe(422);
  });
});
