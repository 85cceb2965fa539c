import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { commentsQuery } from '../../src/comments/comments.service';
import { createDb } from '../../src/db/client';
import { createArticle, insertComment } from '../helpers/content';
import { registerUser } from '../helpers/factories';
import { call } from '../helpers/request';
import { auditRows, userWithRole } from '../helpers/roles';

async function setup() {
  const [author, commenter, reader, editor] = await Promise.all([
    userWithRole('member'),
    userWithRole('member'),
    userWithRole('member'),
    userWithRole('editor'),
  ]);
  const article = await createArticle(author);
  const posted = await call('POST', `/api/articles/${article.slug}/comments`, {
    token: commenter.token,
    body: { comment: { body: 'Buy cheap watches' } },
  });
  return { author, commenter, reader, editor, article, commentId: posted.body.comment.id as number };
}

const report = (slug: string, id: number, token: string, reason = 'spam') =>
  call('POST', `/api/articles/${slug}/comments/${id}/report`, { token, body: { report: { reason } } });

describe('POST /api/articles/:slug/comments/:id/report', () => {
  it('files a report once per member (repeating is harmless) and validates', async () => {
    const { reader, article, commentId } = await setup();
    const first = await report(article.slug, commentId, reader.token);
    expect(first.status).toBe(201);
    expect(first.body.report).toMatchObject({ status: 'open' });
    const again = await report(article.slug, commentId, reader.token, 'another reason');
    expect(again.body.report.id).toBe(first.body.report.id);
    expect((await report(article.slug, commentId, reader.token, '')).status).toBe(422);
    expect((await report(article.slug, 999999, reader.token)).status).toBe(404);
    expect((await report('no-such-article', commentId, reader.token)).status).toBe(404);
    expect(
      (await call('POST', `/api/articles/${article.slug}/comments/${commentId}/report`, { body: {} })).status,
    ).toBe(401);
  });
});

describe('the reports queue and hiding', () => {
  it('editors see open reports, hide the comment (gone for everyone but its author), resolve; all audited', async () => {
    const { author, commenter, reader, editor, article, commentId } = await setup();
    const filed = await report(article.slug, commentId, reader.token);
    const queue = await call('GET', '/api/admin/reports?limit=100', { token: editor.token });
    expect(queue.status).toBe(200);
    const mine = queue.body.reports.find((r: any) => r.id === filed.body.report.id);
    expect(mine).toMatchObject({
      reason: 'spam',
      status: 'open',
      reporter: reader.username,
      comment: {
        id: commentId,
        body: 'Buy cheap watches',
        hidden: false,
        author: commenter.username,
        article: article.slug,
      },
    });

    const hidden = await call('POST', `/api/admin/comments/${commentId}/hide`, { token: editor.token });
    expect(hidden.body).toEqual({ comment: { id: commentId, hidden: true } });
    const ids = async (token?: string) =>
      (await call('GET', `/api/articles/${article.slug}/comments`, { token })).body.comments.map((c: any) => c.id);
    expect(await ids()).not.toContain(commentId);
    expect(await ids(reader.token)).not.toContain(commentId);
    expect(await ids(author.token)).not.toContain(commentId);
    expect(await ids(commenter.token)).toContain(commentId);
    // Its author is told it is hidden; the comments around it keep RealWorld's shape.
    const own = await call('GET', `/api/articles/${article.slug}/comments`, { token: commenter.token });
    const flagged = own.body.comments.filter((c: any) => 'hidden' in c);
    expect(flagged.map((c: any) => [c.id, c.hidden])).toEqual([[commentId, true]]);
    // Others cannot report what they no longer see.
    expect((await report(article.slug, commentId, author.token)).status).toBe(404);

    const resolved = await call('POST', `/api/admin/reports/${filed.body.report.id}/resolve`, {
      token: editor.token,
      body: { report: { resolution: 'actioned' } },
    });
    expect(resolved.body.report).toMatchObject({ status: 'resolved', resolution: 'actioned' });
    const open = await call('GET', '/api/admin/reports?limit=100', { token: editor.token });
    expect(open.body.reports.map((r: any) => r.id)).not.toContain(filed.body.report.id);

    const shown = await call('DELETE', `/api/admin/comments/${commentId}/hide`, { token: editor.token });
    expect(shown.body).toEqual({ comment: { id: commentId, hidden: false } });
    expect(await ids()).toContain(commentId);
    const again = await call('GET', `/api/articles/${article.slug}/comments`, { token: commenter.token });
    expect(again.body.comments.find((c: any) => c.id === commentId)).not.toHaveProperty('hidden');

    expect((await auditRows(String(commentId), 'comment')).map((a) => [a.action, a.actor_id])).toEqual([
      ['comment.hide', editor.id],
      ['comment.unhide', editor.id],
    ]);
    expect((await auditRows(String(filed.body.report.id), 'comment_report')).map((a) => a.action)).toEqual([
      'report.resolve',
    ]);
  });

  it('hiding twice writes one audit row; unknown comments and reports are 404; members get 403', async () => {
    const { reader, editor, article, commentId } = await setup();
    await call('POST', `/api/admin/comments/${commentId}/hide`, { token: editor.token });
    await call('POST', `/api/admin/comments/${commentId}/hide`, { token: editor.token });
    expect(await auditRows(String(commentId), 'comment')).toHaveLength(1);
    expect((await call('POST', '/api/admin/comments/999999/hide', { token: editor.token })).status).toBe(404);
    const missing = await call('POST', '/api/admin/reports/999999/resolve', {
      token: editor.token,
      body: { report: { resolution: 'dismissed' } },
    });
    expect(missing.status).toBe(404);
    expect((await call('POST', `/api/admin/comments/${commentId}/hide`, { token: reader.token })).status).toBe(403);
    void article;
  });

  it('keeps the comment list at one D1 round trip and on its index with the hidden filter', async () => {
    const { reader, article } = await setup();
    const other = await registerUser();
    const otherId = (await env.DB.prepare('SELECT id FROM users WHERE username = ?')
      .bind(other.username)
      .first<{ id: string }>())!.id;
    for (let i = 0; i < 5; i++) await insertComment(article.id, otherId, `c${i}`);
    const res = await call('GET', `/api/articles/${article.slug}/comments`, { token: reader.token });
    expect(res.d1).toBe(1);
    const db = createDb(env.DB);
    const q = commentsQuery(db, article.slug, 'usr_viewer').toSQL();
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${q.sql}`)
      .bind(...q.params)
      .all<{ detail: string }>();
    const plan = results.map((r) => r.detail).join('\n');
    expect(plan).toMatch(/comments USING INDEX comments_article_id_created_at_idx/);
    expect(plan).not.toMatch(/SCAN comments\b(?! USING)/);
  });
});
