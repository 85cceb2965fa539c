import { and, eq, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Database } from '../db/client';
import { insertSelectRow } from '../db/computed';
import { media } from '../db/schema';
import { AppError } from '../errors';
import { newId, randomToken } from '../lib/tokens';
import { assertWithinLimit, hitStatement, withinLimit, type WindowLimit } from '../security/rate-limit';
import { extensionOf, sniffImageType } from './media.sniff';

/** Uploads per member per hour. */
export const UPLOAD_LIMIT: WindowLimit = { limit: 30, windowSeconds: 3600 };

export type MediaRow = typeof media.$inferSelect;

/** R2 object keys: 192 random bits plus the extension of the sniffed type. Unguessable, never reused. */
function newKey(extension: string): string {
  return `${randomToken(24)}.${extension}`;
}

/**
 * Stores an uploaded image. The type comes from the bytes; then one D1 batch counts the upload
 * against the hourly limit and inserts the row only while the member stays under both the limit and
 * their storage quota (all in SQL, so parallel uploads cannot overshoot); only then is the object
 * written to R2 (if that fails, the row is removed again).
 */
export async function storeMedia(
  db: Database,
  bucket: R2Bucket,
  ownerId: string,
  bytes: Uint8Array,
  quotaBytes: number,
  now: Date,
  /** Statements that must commit with the upload's row or not at all (an Idempotency-Key claim). */
  alsoInBatch: BatchItem<'sqlite'>[] = [],
): Promise<MediaRow> {
  const contentType = sniffImageType(bytes);
  if (!contentType) {
    throw new AppError(415, { file: ['must be a JPEG, PNG, GIF, WebP or AVIF image'] });
  }
  const row: MediaRow = {
    id: newId('med'),
    key: newKey(extensionOf(contentType)),
    ownerId,
    contentType,
    size: bytes.byteLength,
    createdAt: now,
  };
  const limitKey = `upload:${ownerId}`;
  const used = sql`(SELECT COALESCE(SUM(${media.size}), 0) FROM ${media} WHERE ${media.ownerId} = ${ownerId})`;
  const [hits, inserted, usage] = await db.batch([
    hitStatement(db, limitKey, UPLOAD_LIMIT, now),
    db
      .insert(media)
      .select(
        db
          .select(insertSelectRow(media, { ...row, createdAt: now }))
          .from(sql`(SELECT 1)`)
          .where(and(withinLimit(limitKey, UPLOAD_LIMIT, now), sql`${used} + ${row.size} <= ${quotaBytes}`)),
      )
      .returning({ id: media.id }),
    db.select({ used: sql<number>`${used}` }).from(sql`(SELECT 1)`),
    ...alsoInBatch,
  ]);
  assertWithinLimit(hits[0], UPLOAD_LIMIT, now);
  if (!inserted[0]) {
    throw new AppError(413, {
      file: [`exceeds your storage quota (${usage[0]?.used ?? 0} of ${quotaBytes} bytes used)`],
    });
  }
  try {
    await bucket.put(row.key, bytes, { httpMetadata: { contentType } });
  } catch (err) {
    await db.delete(media).where(eq(media.id, row.id));
    throw err;
  }
  return row;
}

/** Deletes the owner's upload (row, then object). Someone else's, or an unknown id: 404. */
export async function deleteMedia(db: Database, bucket: R2Bucket, ownerId: string, id: string): Promise<void> {
  const [row] = await db
    .delete(media)
    .where(and(eq(media.id, id), eq(media.ownerId, ownerId)))
    .returning({ key: media.key });
  if (!row) throw AppError.notFound('media');
  await bucket.delete(row.key);
}
