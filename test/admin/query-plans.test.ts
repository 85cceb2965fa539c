import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  auditQuery,
  messageReportsQuery,
  reportsQuery,
  usersCountQuery,
  usersPageQuery,
} from '../../src/admin/admin.service';
import { createDb } from '../../src/db/client';

async function plan(query: { toSQL(): { sql: string; params: unknown[] } }): Promise<string> {
  const { sql, params } = query.toSQL();
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return results.map((r) => r.detail).join('\n');
}

/** A full scan shows as `SCAN <table>` without an index. */
const fullScan = (text: string, table: string) =>
  text
    .split('\n')
    .some((d) => new RegExp(`^SCAN ${table}\\b`).test(d) && !/USING .*INDEX|USING INTEGER PRIMARY KEY/.test(d));

describe('admin query plans', () => {
  const db = createDb(env.DB);

  it('the user list walks (created_at, id) in order, also after a cursor', async () => {
    for (const cursor of [undefined, `${Date.now()}.usr_x`]) {
      const text = await plan(usersPageQuery(db, { limit: 20, cursor }));
      expect(text).toContain('users_created_at_id_idx');
      expect(text).not.toContain('TEMP B-TREE');
    }
  });

  it('search seeks the lower(username) and lower(email) indexes (page and total)', async () => {
    for (const query of [usersPageQuery(db, { q: 'jak', limit: 20 }), usersCountQuery(db, { q: 'jak' })]) {
      const text = await plan(query);
      expect(fullScan(text, 'users')).toBe(false);
      expect(text).toContain('users_username_lower_unique');
      expect(text).toContain('users_email_lower_unique');
    }
  });

  it('the reports queue seeks (status, id); comments, users and articles by key', async () => {
    const text = await plan(reportsQuery(db, { status: 'open', limit: 20, after: 10 }));
    expect(text).toContain('comment_reports_status_id_idx');
    for (const table of ['comment_reports', 'comments', 'users', 'articles']) expect(fullScan(text, table)).toBe(false);
    expect(text).not.toContain('TEMP B-TREE');
  });

  it('the message reports queue walks (status, created_at, id), also after a cursor; messages by key', async () => {
    for (const cursor of [undefined, `${Date.now()}.rpt_x`]) {
      const text = await plan(messageReportsQuery(db, { status: 'open', limit: 20, cursor }));
      expect(text).toContain('message_reports_status_created_at_id_idx');
      for (const table of ['message_reports', 'messages', 'users']) expect(fullScan(text, table)).toBe(false);
      expect(text).not.toContain('TEMP B-TREE');
    }
  });

  it('the audit log walks its primary key backwards, and seeks its target index when filtered', async () => {
    const all = await plan(auditQuery(db, { limit: 20, before: 100 }));
    expect(all).not.toContain('TEMP B-TREE');
    const byTarget = await plan(auditQuery(db, { limit: 20, targetType: 'user', targetId: 'usr_x' }));
    expect(byTarget).toContain('audit_log_target_idx');
    expect(byTarget).not.toContain('TEMP B-TREE');
  });
});
