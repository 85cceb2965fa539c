import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client';
import { insertSelectRow } from '../db/computed';
import { articles, comments, users, webhookDeliveries, webhookEndpoints } from '../db/schema';
import { newId } from '../lib/tokens';
import type { WebhookEvent } from './webhook-events';

/**
 * The one statement builder for outbound webhooks: put it in the batch of the change that causes
 * the event, so the deliveries exist exactly when the change does. It fans out with one
 * INSERT ... SELECT over the enabled endpoints subscribed to `type` (none: nothing is written).
 * `data` is either a plain object or a SQL expression yielding JSON text, evaluated inside the same
 * statement (for rows whose ids the batch generates, e.g. a new article); NULL data writes nothing.
 * The cron job (webhooks.delivery.ts) signs and sends them.
 */
export function webhookEventStatement(db: Database, type: WebhookEvent, data: SQL | object, now: Date) {
  const eventId = newId('evt');
  const dataJson = isSql(data) ? data : sql`${JSON.stringify(data)}`;
  const payload = sql`json_object('type', ${type}, 'timestamp', ${now.toISOString()}, 'data', json(${dataJson}))`;
  return db.insert(webhookDeliveries).select(
    db
      .select(
        insertSelectRow(webhookDeliveries, {
          id: sql`${eventId} || ':' || ${webhookEndpoints.id}`,
          endpointId: webhookEndpoints.id,
          eventId,
          eventType: type,
          payload: sql`${payload}`,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          leaseUntil: null,
          lastStatus: null,
          lastError: null,
          createdAt: now,
          deliveredAt: null,
        }),
      )
      .from(webhookEndpoints)
      .where(
        sql`${webhookEndpoints.enabled} = 1
          AND EXISTS (SELECT 1 FROM json_each(${webhookEndpoints.events}) WHERE json_each.value = ${type})
          AND ${dataJson} IS NOT NULL`,
      ),
  );
}

/**
 * One event per row of `ids` (a parenthesised subquery of ids, e.g. the articles a cron run publishes),
 * fanned out to the subscribed endpoints in one INSERT ... SELECT, for the same batch as the change.
 * Event ids are `<random prefix>_<row id>`.
 */
export function webhookEventPerRowStatement(
  db: Database,
  type: WebhookEvent,
  ids: SQL,
  dataOf: (id: SQL) => SQL,
  now: Date,
) {
  const prefix = `${newId('evt')}_`;
  const data = dataOf(sql`${articles.id}`);
  return db.insert(webhookDeliveries).select(
    db
      .select(
        insertSelectRow(webhookDeliveries, {
          id: sql`${prefix} || ${articles.id} || ':' || ${webhookEndpoints.id}`,
          endpointId: webhookEndpoints.id,
          eventId: sql`${prefix} || ${articles.id}`,
          eventType: type,
          payload: sql`json_object('type', ${type}, 'timestamp', ${now.toISOString()}, 'data', json(${data}))`,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          leaseUntil: null,
          lastStatus: null,
          lastError: null,
          createdAt: now,
          deliveredAt: null,
        }),
      )
      .from(articles)
      .innerJoin(
        webhookEndpoints,
        sql`${webhookEndpoints.enabled} = 1
          AND EXISTS (SELECT 1 FROM json_each(${webhookEndpoints.events}) WHERE json_each.value = ${type})`,
      )
      .where(sql`${articles.id} IN ${ids} AND ${data} IS NOT NULL`),
  );
}

function isSql(value: unknown): value is SQL {
  return typeof value === 'object' && value !== null && 'queryChunks' in value;
}

/** `member.created` for a registration batch. */
export function memberCreatedWebhook(db: Database, user: { id: string; username: string; createdAt: Date }, now: Date) {
  return webhookEventStatement(
    db,
    'member.created',
    { id: user.id, username: user.username, createdAt: user.createdAt.toISOString() },
    now,
  );
}

/**
 * The public fields of an article as event data, read inside the statement from `articleId` (an id
 * or a subquery), so it works for an article the same batch creates or is about to delete.
 */
export function articleEventData(articleId: number | SQL): SQL {
  return sql`(SELECT json_object(
      'slug', a.slug, 'title', a.title, 'description', a.description, 'status', a.status,
      'visibility', a.visibility, 'tagList', json(a.tag_list), 'author', u.username,
      'publishedAt', strftime('%Y-%m-%dT%H:%M:%fZ', a.published_at / 1000.0, 'unixepoch'),
      'updatedAt', strftime('%Y-%m-%dT%H:%M:%fZ', a.updated_at / 1000.0, 'unixepoch'))
    FROM ${articles} a JOIN ${users} u ON u.id = a.author_id WHERE a.id = ${articleId})`;
}

/** A comment as event data, read inside the statement from `commentId` (an id or a subquery). */
export function commentEventData(commentId: number | SQL): SQL {
  return sql`(SELECT json_object('id', c.id, 'article', a.slug, 'author', u.username, 'body', c.body,
      'createdAt', strftime('%Y-%m-%dT%H:%M:%fZ', c.created_at / 1000.0, 'unixepoch'))
    FROM ${comments} c JOIN ${articles} a ON a.id = c.article_id JOIN ${users} u ON u.id = c.author_id
    WHERE c.id = ${commentId})`;
}
