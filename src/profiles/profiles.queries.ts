import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { follows } from '../db/schema';

/**
 * `EXISTS` over the follows primary key (follower_id, followee_id): whether `viewerId` follows the user
 * whose id is `followeeId`. Anonymous viewers (null) never follow anyone, without a lookup.
 */
export function followingExpr(viewerId: string | null, followeeId: SQLWrapper): SQL.Aliased<boolean> {
  // Aliased: D1 batch results arrive as objects, and an unnamed `0` column would be reordered first.
  const expr =
    viewerId === null
      ? sql<boolean>`0`
      : sql<boolean>`EXISTS (SELECT 1 FROM ${follows} WHERE ${follows.followerId} = ${viewerId} AND ${follows.followeeId} = ${followeeId})`;
  return expr.mapWith(Boolean).as('following');
}
