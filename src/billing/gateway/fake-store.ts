/**
 * Storage of the test gateway (GATEWAY=test): Stripe-shaped objects as JSON rows in `gw_objects`,
 * emitted events in `gw_events`, idempotency keys and the clock offset. Plain functions over `db`.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { gwEvents, gwObjects, gwSettings } from '../../db/schema';
import { randomToken } from '../../lib/tokens';

/** A Stripe object as the fake stores it. Keys starting with `_` are the fake's own and never served. */
export type GwObject = Record<string, unknown> & { id: string; object: string };

export const STRIPE_API_VERSION = '2026-10-28.endive' as const;

export function gwId(prefix: string): string {
  return `${prefix}_test_${randomToken(12).replace(/[-_]/g, 'x')}`;
}

export async function getObject<T extends GwObject = GwObject>(db: Database, id: string): Promise<T | undefined> {
  const [row] = await db.select({ data: gwObjects.data }).from(gwObjects).where(eq(gwObjects.id, id)).limit(1);
  return row?.data as T | undefined;
}

export function putStatement(db: Database, obj: GwObject, createdAt: number) {
  return db
    .insert(gwObjects)
    .values({ id: obj.id, type: obj.object, data: obj, createdAt })
    .onConflictDoUpdate({ target: gwObjects.id, set: { data: obj } });
}

/** Objects of one type whose JSON field `field` equals `value` (small tables: a test gateway's). */
export async function findObjects<T extends GwObject = GwObject>(
  db: Database,
  type: string,
  field?: string,
  value?: string,
): Promise<T[]> {
  const rows = await db
    .select({ data: gwObjects.data })
    .from(gwObjects)
    .where(
      field === undefined
        ? eq(gwObjects.type, type)
        : and(eq(gwObjects.type, type), sql`json_extract(${gwObjects.data}, ${'$.' + field}) = ${value}`),
    )
    .orderBy(asc(gwObjects.createdAt), asc(gwObjects.id));
  return rows.map((r) => r.data as T);
}

/** Strips the fake's private `_` keys before an object leaves the gateway. */
export function publicView(obj: GwObject): GwObject {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !k.startsWith('_'))) as GwObject;
}

// ---------------------------------------------------------------------------------------------
// Events

/** A Stripe event envelope (the shape of the pinned API version). */
export function eventStatement(db: Database, type: string, object: GwObject, createdMs: number) {
  const id = gwId('evt');
  const event = {
    id,
    object: 'event',
    api_version: STRIPE_API_VERSION,
    created: Math.floor(createdMs / 1000),
    data: { object: publicView(object) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
  return db.insert(gwEvents).values({ id, payload: JSON.stringify(event) });
}

export async function undeliveredEvents(db: Database) {
  return db.select().from(gwEvents).where(isNull(gwEvents.deliveredAt)).orderBy(asc(gwEvents.seq)).limit(100);
}

export function markDeliveredStatement(db: Database, seq: number, now: number) {
  return db.update(gwEvents).set({ deliveredAt: now }).where(eq(gwEvents.seq, seq));
}

// ---------------------------------------------------------------------------------------------
// Clock and switches

export async function getSetting(db: Database, name: string): Promise<string | undefined> {
  const [row] = await db.select().from(gwSettings).where(eq(gwSettings.name, name)).limit(1);
  return row?.value;
}

export function setSettingStatement(db: Database, name: string, value: string) {
  return db.insert(gwSettings).values({ name, value }).onConflictDoUpdate({ target: gwSettings.name, set: { value } });
}

/** Gateway time: the real time plus the offset the test clock was advanced by. */
export async function gatewayNow(db: Database, realNow: number): Promise<number> {
  return realNow + Number((await getSetting(db, 'clock_offset_ms')) ?? 0);
}
