import { env } from 'cloudflare:workers';
import { is, sql, SQL } from 'drizzle-orm';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import { conversationsPageSql, inboxVersionSql } from '../../src/messages/conversations.service';
import { digestCandidatesSql } from '../../src/messages/digest.service';
import { createDb } from '../../src/db/client';
import {
  blockedInConversation,
  bumpInboxesShowing,
  conversationRef,
  isActiveParticipant,
} from '../../src/messages/messages.queries';
import { messagesPageSql, sentMessageSql } from '../../src/messages/messages.service';
import { call } from '../helpers/request';
import { conversation, inbox, members, messagesOf, send, sent } from './helpers';

const dialect = new SQLiteAsyncDialect();

async function plan(statement: SQL | { toSQL(): { sql: string; params: unknown[] } }): Promise<string[]> {
  const { sql: text, params } = is(statement, SQL) ? dialect.sqlToQuery(statement) : statement.toSQL();
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${text}`)
    .bind(...params)
    .all<{ detail: string }>();
  return results.map((r) => r.detail);
}

/** `SCAN <table>` without an index is a full scan. */
function fullScans(details: string[]): string[] {
  return details.filter(
    (d) => /^SCAN (?!CONSTANT ROW)\w+/.test(d) && !/USING .*INDEX|USING INTEGER PRIMARY KEY/.test(d),
  );
}

describe('round trips (one D1 round trip per read, plus the session KV read)', () => {
  it('list conversations, get one, list messages, send: one D1 round trip each', async () => {
    const [ann, bob, cid] = await members(3);
    const id = await conversation(ann!, [bob!, cid!], { title: 'perf' });
    for (let i = 0; i < 5; i++) await sent(i % 2 ? bob! : ann!, id, `m${i}`);
    await conversation(ann!, [bob!]);

    const list = await inbox(ann!);
    expect(list.status).toBe(200);
    expect([list.d1, list.kv]).toEqual([1, 1]);
    const one = await call('GET', `/api/conversations/${id}`, { token: ann!.token });
    expect([one.d1, one.kv]).toEqual([1, 1]);
    const page = await messagesOf(ann!, id, '?limit=2');
    expect([page.d1, page.kv]).toEqual([1, 1]);
    const back = await messagesOf(ann!, id, `?limit=2&before=${page.body.messages[1].id}`);
    expect([back.d1, back.kv]).toEqual([1, 1]);
    const send1 = await send(cid!, id, 'one batch');
    expect(send1.status).toBe(201);
    expect(send1.d1).toBe(1);
    const read = await call('POST', `/api/conversations/${id}/read`, {
      token: ann!.token,
      body: { upTo: send1.body.message.id },
    });
    expect(read.d1).toBe(1);
  });
});

describe('a conditional inbox poll', () => {
  it('reads the page only when the inbox moved: a matching version stops the statement before its first row', async () => {
    const [ann, bob, cid] = await members(3);
    for (let i = 0; i < 3; i++) await conversation(ann!, [bob!, cid!], { title: `group ${i}` });
    const bobId = (await env.DB.prepare('SELECT id FROM users WHERE username = ?')
      .bind(bob!.username)
      .first<string>('id'))!;
    const version = (await env.DB.prepare('SELECT inbox_version AS v FROM users WHERE id = ?')
      .bind(bobId)
      .first<number>('v'))!;
    const page = (known: number | null) => {
      const { sql: text, params } = dialect.sqlToQuery(conversationsPageSql(bobId, null, 20, known));
      return env.DB.prepare(text)
        .bind(...params)
        .all();
    };
    const unchanged = await page(version);
    const moved = await page(version - 1);
    const unconditional = await page(null);
    expect(unchanged.results).toEqual([]);
    expect(moved.results).toHaveLength(3);
    expect(unconditional.results).toEqual(moved.results);
    // The version lookup (one row by primary key), and no conversation read.
    expect(unchanged.meta.rows_read).toBeLessThanOrEqual(1);
    expect(moved.meta.rows_read).toBeGreaterThan(3);
  });
});

describe('query plans (O(page): no scan of messages or participants)', () => {
  it('conversation list walks the partial inbox index in order, with and without a cursor', async () => {
    for (const [cursor, known] of [
      [null, null],
      [{ at: Date.now(), id: 'cnv_x' }, null],
      [null, 7],
    ] as const) {
      const details = await plan(conversationsPageSql('usr_viewer', cursor, 20, known));
      expect(fullScans(details)).toEqual([]);
      const text = details.join('\n');
      expect(text).toContain('conversation_participants_inbox_idx');
      expect(text).not.toContain('TEMP B-TREE');
    }
    expect(fullScans(await plan(inboxVersionSql('usr_viewer')))).toEqual([]);
  });

  it('message pages seek (conversation_id, seq) both ways without sorting', async () => {
    for (const page of [{ limit: 20 }, { limit: 20, before: 'msg_a' }, { limit: 20, after: 'msg_a' }]) {
      const details = await plan(messagesPageSql('cnv_x', 'usr_viewer', page));
      expect(fullScans(details)).toEqual([]);
      const text = details.join('\n');
      expect(text).toMatch(/SEARCH m USING (COVERING )?INDEX messages_conversation_seq_idx/);
      expect(text).not.toContain('TEMP B-TREE');
    }
  });

  it('send guards and the idempotent read-back use indexes', async () => {
    const conv = conversationRef('cnv_x');
    const guards = sql`SELECT ${isActiveParticipant(conv, 'usr_a')} AS m, ${blockedInConversation(conv, 'usr_a')} AS b`;
    expect(fullScans(await plan(guards))).toEqual([]);
    const readBack = await plan(sentMessageSql(conv, 'usr_a', 'client'));
    expect(fullScans(readBack)).toEqual([]);
    expect(readBack.join('\n')).toContain('messages_client_id_unique');
  });

  it("a profile edit's inbox bump seeks the member's participations, their participants and users by key", async () => {
    const changed = sql`EXISTS (SELECT 1 FROM users pu WHERE pu.id = ${'usr_a'} AND (pu.username IS NOT ${'x'}))`;
    const details = await plan(bumpInboxesShowing(createDb(env.DB), 'usr_a', changed));
    expect(fullScans(details)).toEqual([]);
    const text = details.join('\n');
    expect(text).toContain('SEARCH p USING COVERING INDEX conversation_participants_user_idx (user_id=?)');
    expect(text).toMatch(/SEARCH q USING INDEX sqlite_autoindex_conversation_participants_1 \(conversation_id=\?\)/);
    expect(text).not.toContain('TEMP B-TREE');
  });

  it('digest candidates come from the partial unread_since index', async () => {
    const details = await plan(digestCandidatesSql(Date.now(), 0));
    expect(fullScans(details)).toEqual([]);
    expect(details.join('\n')).toContain('conversation_participants_unread_since_idx');
  });
});
