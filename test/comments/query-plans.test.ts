import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { commentsQuery } from '../../src/comments/comments.service';
import { createDb } from '../../src/db/client';
import { profileQuery } from '../../src/profiles/profiles.service';

/** The rows of EXPLAIN QUERY PLAN for a drizzle query, as `detail` strings. */
async function plan(query: { toSQL(): { sql: string; params: unknown[] } }): Promise<string[]> {
  const { sql, params } = query.toSQL();
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return results.map((r) => r.detail);
}

/** A full scan of a table shows as `SCAN <table>` without `USING ... INDEX`. */
function fullScans(details: string[], tables: string[]): string[] {
  return details.filter((d) => tables.some((t) => new RegExp(`^SCAN ${t}\\b`).test(d) && !/USING .*INDEX/.test(d)));
}

describe('query plans', () => {
  const db = createDb(env.DB);

  it('profile lookup (with following) seeks the lower(username) index and the follows primary key', async () => {
    const details = await plan(profileQuery(db, 'Jake', 'usr_viewer'));
    expect(fullScans(details, ['users', 'follows'])).toEqual([]);
    expect(details.join('\n')).toContain('users_username_lower_unique');
    expect(details.join('\n')).toMatch(/follows USING (COVERING )?(INDEX sqlite_autoindex_follows_1|PRIMARY KEY)/);
  });

  it('comment list seeks comments by (article_id, created_at) in order, users by id and follows by primary key', async () => {
    for (const viewer of ['usr_viewer', null]) {
      const details = await plan(commentsQuery(db, 'some-slug', viewer));
      expect(fullScans(details, ['comments', 'users', 'follows', 'articles'])).toEqual([]);
      const text = details.join('\n');
      expect(text).toContain('comments_article_id_created_at_idx');
      expect(text).not.toContain('USE TEMP B-TREE FOR ORDER BY');
    }
  });
});
