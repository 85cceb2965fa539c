import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Bindable } from '../db/compiled';
import { flag } from '../db/computed';
import { follows } from '../db/schema';

/**
 * `EXISTS` over the follows primary key (follower_id, followee_id): whether `viewerId` follows the user
 * whose id is `followeeId`. Anonymous viewers (null) never follow anyone, without a lookup.
 */
export function followingExpr(viewerId: Bindable<string> | null, followeeId: SQLWrapper): SQL.Aliased<boolean> {
  return flag(
    viewerId === null
      ? null
      : sql`EXISTS (SELECT 1 FROM ${follows} WHERE ${follows.followerId} = ${viewerId} AND ${follows.followeeId} = ${followeeId})`,
    'following',
  );
}
