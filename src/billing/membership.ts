/**
 * Who may read an article's body — the single place the content API asks. A `paid` body is
 * readable by its author, by members whose membership status grants access, and by buyers of that
 * article (a refunded purchase is revoked). Membership and purchase arrive with the article row, as
 * one column computed in the same SQL (`paidAccessExpr`), so read paths stay one D1 round trip.
 *
 * Status policy (Stripe's subscription statuses):
 * - `active`, `trialing`: yes. Cancelled at period end stays `active` until the period ends, so it
 *   keeps access until then; the gateway then sends `customer.subscription.deleted` → `canceled`.
 * - `past_due`: yes, while the gateway retries the payment; after the last retry it becomes
 *   `canceled` (or `unpaid`, depending on the Stripe setting).
 * - `canceled`, `unpaid`, `incomplete`, `incomplete_expired`, `paused`: no.
 * If the final event is lost, the billing cron expires memberships past period end plus the grace.
 */
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Bindable } from '../db/compiled';
import { memberships, purchases } from '../db/schema';
import type { Visibility } from '../db/values';

export interface Viewer {
  userId: string;
}

/** The viewer for a request's user id (null when anonymous): the one way a Viewer is built. */
export const viewerOf = (userId: string | null): Viewer | null => (userId ? { userId } : null);

export const ACCESS_GRANTING_STATUSES = ['active', 'trialing', 'past_due'] as const;

const granting = sql.raw(ACCESS_GRANTING_STATUSES.map((s) => `'${s}'`).join(', '));

/** SQL: whether `viewerId` holds a membership whose status grants access (primary-key lookup). */
function isMemberExpr(viewerId: Bindable<string>): SQL {
  return sql`EXISTS (SELECT 1 FROM ${memberships} WHERE ${memberships.userId} = ${viewerId} AND ${memberships.status} IN (${granting}))`;
}

/**
 * The viewer's paid access to the article row (`paidAccess` column): 1 when the article is `paid`
 * and the viewer is a granting member or a (non-revoked) buyer; both lookups are primary-key seeks,
 * evaluated only for paid rows.
 */
export function paidAccessExpr(viewerId: Bindable<string> | null, articleId: SQLWrapper, visibility: SQLWrapper) {
  const value =
    viewerId === null
      ? sql`0`
      : sql`CASE WHEN ${visibility} = 'paid' THEN (${isMemberExpr(viewerId)} OR EXISTS (SELECT 1 FROM ${purchases} WHERE ${purchases.userId} = ${viewerId} AND ${purchases.articleId} = ${articleId} AND ${purchases.revokedAt} IS NULL)) ELSE 0 END`;
  return sql<boolean>`${value}`.mapWith(Boolean).as('paid_access');
}

export function canReadBody(
  viewer: Viewer | null,
  article: { authorId: string; visibility: Visibility; paidAccess?: boolean },
): boolean {
  if (article.visibility === 'public') return true;
  if (!viewer) return false;
  if (article.authorId === viewer.userId) return true;
  if (article.visibility === 'members') return true;
  return article.paidAccess === true;
}
