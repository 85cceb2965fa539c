import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { batchRows, rows } from '../db/raw';
import type { DmPolicy } from '../db/values';
import { AppError } from '../errors';

interface ProfileRow {
  id: string;
  username: string;
  bio: string | null;
  image: string | null;
  following: number;
}

const profileSql = (viewerId: string, username: string) =>
  sql`SELECT u.id, u.username, u.bio, u.image,
      EXISTS (SELECT 1 FROM follows WHERE follower_id = ${viewerId} AND followee_id = u.id) AS following
    FROM users u WHERE lower(u.username) = lower(${username})`;

function found(list: unknown[] | undefined): ProfileRow {
  const row = list?.[0] as ProfileRow | undefined;
  if (!row) throw AppError.notFound('profile');
  return row;
}

/** Blocks a member (idempotent). Existing conversations stay readable; new messages stop both ways. */
export async function blockUser(db: Database, viewerId: string, username: string, now: Date): Promise<ProfileRow> {
  const [, profile] = await batchRows(db, [
    sql`INSERT INTO blocks (blocker_id, blocked_id, created_at)
      SELECT ${viewerId}, id, ${now.getTime()} FROM users WHERE lower(username) = lower(${username}) AND id <> ${viewerId}
      ON CONFLICT DO NOTHING`,
    profileSql(viewerId, username),
  ]);
  const row = found(profile);
  if (row.id === viewerId) throw AppError.validation({ profile: ["can't block yourself"] });
  return row;
}

/** Unblocks (idempotent). */
export async function unblockUser(db: Database, viewerId: string, username: string): Promise<ProfileRow> {
  const [, profile] = await batchRows(db, [
    sql`DELETE FROM blocks WHERE blocker_id = ${viewerId}
      AND blocked_id = (SELECT id FROM users WHERE lower(username) = lower(${username}))`,
    profileSql(viewerId, username),
  ]);
  return found(profile);
}

/** The members the viewer blocked, newest block first. */
export async function listBlocks(db: Database, viewerId: string): Promise<ProfileRow[]> {
  return rows<ProfileRow>(
    db,
    sql`SELECT u.id, u.username, u.bio, u.image,
        EXISTS (SELECT 1 FROM follows WHERE follower_id = ${viewerId} AND followee_id = u.id) AS following
      FROM blocks b JOIN users u ON u.id = b.blocked_id WHERE b.blocker_id = ${viewerId}
      ORDER BY b.created_at DESC, b.blocked_id LIMIT 1000`,
  );
}

export async function getDmPolicy(db: Database, viewerId: string): Promise<DmPolicy> {
  const [row] = await rows<{ dm_policy: DmPolicy }>(db, sql`SELECT dm_policy FROM users WHERE id = ${viewerId}`);
  if (!row) throw AppError.unauthorized();
  return row.dm_policy;
}

export async function setDmPolicy(db: Database, viewerId: string, policy: DmPolicy): Promise<DmPolicy> {
  const [row] = await rows<{ dm_policy: DmPolicy }>(
    db,
    sql`UPDATE users SET dm_policy = ${policy} WHERE id = ${viewerId} RETURNING dm_policy`,
  );
  if (!row) throw AppError.unauthorized();
  return row.dm_policy;
}
