import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client';
import { compiledQuery, placeholder, type Bindable } from '../db/compiled';
import { follows, users } from '../db/schema';
import { insertSelectRow } from '../db/computed';
import { userIdByUsername, usernameMatches } from '../accounts/users.queries';
import { AppError } from '../errors';
import { followingExpr } from './profiles.queries';
import { limitGuard, rethrowWhenLimited, type WindowLimit } from '../security/rate-limit';

export interface ProfileRow {
  id: string;
  username: string;
  bio: string | null;
  image: string | null;
  following: boolean;
}

/** Exported for the query-plan test. */
export function profileQuery(db: Database, username: Bindable<string>, viewerId: Bindable<string> | null) {
  return db
    .select({
      id: users.id,
      username: users.username,
      bio: users.bio,
      image: users.image,
      following: followingExpr(viewerId, users.id),
    })
    .from(users)
    .where(usernameMatches(username))
    .limit(1);
}

function found(rows: ProfileRow[]): ProfileRow {
  const row = rows[0];
  if (!row) throw AppError.notFound('profile');
  return row;
}

/** The profile with the viewer's `following`, in one query. */
const compiledProfile = compiledQuery((db, viewer: 'anonymous' | 'viewer') =>
  profileQuery(db, placeholder('username'), viewer === 'viewer' ? placeholder('viewerId') : null),
);

export async function getProfile(db: Database, username: string, viewerId: string | null): Promise<ProfileRow> {
  return found(await compiledProfile(db, viewerId === null ? 'anonymous' : 'viewer', { username, viewerId }));
}

const followed = (viewerId: string, username: string) =>
  sql`EXISTS (SELECT 1 FROM ${follows} WHERE ${follows.followerId} = ${viewerId} AND ${follows.followeeId} = ${userIdByUsername(username)})`;

/**
 * Conversation lists show each participant's `following` flag for the viewer: a follow or unfollow
 * that changes it bumps the viewer's inbox version (the list's ETag). Put before the change it tests.
 */
function bumpOwnInbox(db: Database, viewerId: string, changes: SQL) {
  return db
    .update(users)
    .set({ inboxVersion: sql`${users.inboxVersion} + 1` })
    .where(and(eq(users.id, viewerId), changes));
}

/** Follows and unfollows together, per account: generous for people, a brake on follow-spam bots. */
export const FOLLOW_LIMIT: WindowLimit = { limit: 200, windowSeconds: 3600 };
const followKey = (viewerId: string) => `follow:${viewerId}`;

/**
 * Follows a user: one batch (insert-if-absent, then read back). The insert skips the viewer's own row,
 * so the follows CHECK (follower <> followee) is never hit; following yourself answers 422.
 */
export async function followUser(db: Database, viewerId: string, username: string, now: Date): Promise<ProfileRow> {
  const [, , , , rows] = await db
    .batch([
      ...limitGuard(db, followKey(viewerId), FOLLOW_LIMIT, now),
      bumpOwnInbox(
        db,
        viewerId,
        sql`NOT ${followed(viewerId, username)} AND ${userIdByUsername(username)} <> ${viewerId}`,
      ),
      db
        .insert(follows)
        .select(
          db
            .select(insertSelectRow(follows, { followerId: viewerId, followeeId: users.id, createdAt: now }))
            .from(users)
            .where(and(usernameMatches(username), sql`${users.id} <> ${viewerId}`)),
        )
        .onConflictDoNothing(),
      profileQuery(db, username, viewerId),
    ])
    .catch((err: unknown) => rethrowWhenLimited(err, FOLLOW_LIMIT, now));
  const profile = found(rows);
  if (profile.id === viewerId) throw AppError.validation({ profile: ["can't follow yourself"] });
  return profile;
}

/** Unfollows a user; unfollowing someone not followed (including yourself) is a no-op. One batch. */
export async function unfollowUser(db: Database, viewerId: string, username: string, now: Date): Promise<ProfileRow> {
  const [, , , , rows] = await db
    .batch([
      ...limitGuard(db, followKey(viewerId), FOLLOW_LIMIT, now),
      bumpOwnInbox(db, viewerId, followed(viewerId, username)),
      db
        .delete(follows)
        .where(and(eq(follows.followerId, viewerId), sql`${follows.followeeId} = ${userIdByUsername(username)}`)),
      profileQuery(db, username, viewerId),
    ])
    .catch((err: unknown) => rethrowWhenLimited(err, FOLLOW_LIMIT, now));
  return found(rows);
}
