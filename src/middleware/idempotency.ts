/**
 * `Idempotency-Key` (IETF httpapi draft, as Stripe uses it) for POSTs that create something. The same
 * key from the same user, with the same method, path and body, within 24 hours replays the first
 * response (same status and body, marked `Idempotent-Replayed: true`) with no second effect; the same
 * key with a different request is a 422; a key whose first request is still running is a 409.
 *
 * The guard is in the database, not in a read-then-write: the route's service puts `idempotencyClaim(c)`
 * in the SAME batch as its effect, inserting the key's row; a concurrent or repeated request fails that
 * batch on the primary key (so its effect rolls back with it) and is answered from the row instead. The
 * response is stored once the effect committed (one more round trip, for requests that send a key).
 */
import { and, eq, isNull, lte } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Database } from '../db/client';
import { isUniqueViolation } from '../db/errors';
import { isRevokedSessionWrite } from '../db/write-guard';
import { idempotencyKeys } from '../db/schema';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { toBase64Url } from '../lib/encoding';
import { primaryDb } from './request-context';

const IDEMPOTENCY_HEADER = 'Idempotency-Key';
const REPLAYED_HEADER = 'Idempotent-Replayed';
/** How long a key is remembered. */
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** Printable ASCII without spaces, as clients generate them (UUIDs, random strings). */
const KEY = /^[\x21-\x7e]{1,255}$/;

interface Claim {
  userId: string;
  key: string;
  requestHash: string;
  now: Date;
  claimed: boolean;
}

type IdempotencyEnv = AppEnv & { Variables: { auth: { userId: string }; idempotency?: Claim } };

/**
 * The statements that claim the request's key, for the service to put in the batch of its effect (none
 * when the request sent no key). An expired row for the key is removed first, so the key can be reused.
 */
export function idempotencyClaim(c: Context): BatchItem<'sqlite'>[] {
  const claim = (c as Context<IdempotencyEnv>).var.idempotency;
  if (!claim) return [];
  claim.claimed = true;
  const db = (c as Context<AppEnv>).var.db;
  const where = and(eq(idempotencyKeys.userId, claim.userId), eq(idempotencyKeys.key, claim.key));
  return [
    db.delete(idempotencyKeys).where(and(where, lte(idempotencyKeys.expiresAt, claim.now))),
    db.insert(idempotencyKeys).values({
      userId: claim.userId,
      key: claim.key,
      requestHash: claim.requestHash,
      createdAt: claim.now,
      expiresAt: new Date(claim.now.getTime() + IDEMPOTENCY_TTL_MS),
    }),
  ];
}

/** SHA-256 of the request line and the body's bytes. */
async function hashRequest(head: string, body: Uint8Array): Promise<string> {
  const prefix = new TextEncoder().encode(head);
  const all = new Uint8Array(prefix.length + body.length);
  all.set(prefix);
  all.set(body, prefix.length);
  return toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', all)));
}

async function findKey(db: Database, userId: string, key: string, now: Date) {
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)))
    .limit(1);
  return row && row.expiresAt > now ? row : undefined;
}

/** Route middleware, after `requireAuth`, for POSTs whose service takes `idempotencyClaim(c)`. */
export const idempotent = createMiddleware<IdempotencyEnv>(async function idempotent(c, next) {
  const key = c.req.header(IDEMPOTENCY_HEADER);
  if (key === undefined) return next();
  if (!KEY.test(key)) throw AppError.validation({ idempotencyKey: ['is invalid (1-255 printable characters)'] });
  const now = new Date();
  // Read as bytes (not text): uploads are binary, and the handler's later json()/arrayBuffer() is derived
  // from this cached copy, which a text decode would corrupt.
  const body = new Uint8Array(await c.req.arrayBuffer());
  const claim: Claim = {
    userId: c.get('auth').userId,
    key,
    requestHash: await hashRequest(`${c.req.method} ${c.req.path}\n`, body),
    now,
    claimed: false,
  };
  c.set('idempotency', claim);
  await next();

  if (c.error && isUniqueViolation(c.error, 'idempotency_keys')) {
    // Another request with this key got there first (the one onError answered 409): answer from its row.
    const row = await findKey(primaryDb(c).db, claim.userId, key, now);
    if (row && row.requestHash !== claim.requestHash) {
      throw AppError.validation({ idempotencyKey: ['was already used with a different request'] });
    }
    if (row?.status != null && row.responseBody !== null) {
      c.res = new Response(row.responseBody, {
        status: row.status,
        headers: { 'Content-Type': 'application/json', [REPLAYED_HEADER]: 'true' },
      });
    }
    return;
  }
  // Nothing was claimed, or the session's writes are refused (its claim rolled back with the effect).
  if (!claim.claimed || isRevokedSessionWrite(c.error)) return;
  // This request's own claim row (never another request's with the same key).
  const where = and(
    eq(idempotencyKeys.userId, claim.userId),
    eq(idempotencyKeys.key, key),
    eq(idempotencyKeys.createdAt, now),
    eq(idempotencyKeys.requestHash, claim.requestHash),
    isNull(idempotencyKeys.status),
  );
  if (c.res.status >= 400) {
    // The effect did not happen (its batch failed or was refused): the key stays free for a retry.
    await c.get('db').delete(idempotencyKeys).where(where);
    return;
  }
  await c
    .get('db')
    .update(idempotencyKeys)
    .set({ status: c.res.status, responseBody: await c.res.clone().text() })
    .where(where);
});

/** Daily: forget keys older than 24 hours. */
export async function purgeExpiredIdempotencyKeys(db: Database, now: Date): Promise<number> {
  const rows = await db
    .delete(idempotencyKeys)
    .where(lte(idempotencyKeys.expiresAt, now))
    .returning({ key: idempotencyKeys.key });
  return rows.length;
}
