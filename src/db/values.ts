/**
 * The allowed values of every enumerated column, each listed once. The drizzle column enum, the
 * table's CHECK constraint (`inList`), the zod schemas and the TypeScript types are derived from here.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';

export const ARTICLE_STATUSES = ['draft', 'published', 'scheduled'] as const;
export type ArticleStatus = (typeof ARTICLE_STATUSES)[number];

/** Who may read an article's body (see billing/membership.ts). */
export const ARTICLE_VISIBILITIES = ['public', 'members', 'paid'] as const;
export type Visibility = (typeof ARTICLE_VISIBILITIES)[number];

/** What a single-use user token is for. */
export const USER_TOKEN_PURPOSES = ['verify_email', 'password_reset'] as const;
export type UserTokenPurpose = (typeof USER_TOKEN_PURPOSES)[number];

/** What a single-use sign-in flow record is for (see security/auth-flows.ts). */
export const AUTH_FLOW_KINDS = ['oauth', 'exchange', 'mfa', 'webauthn'] as const;
export type AuthFlowKind = (typeof AUTH_FLOW_KINDS)[number];

/** Where an outbox message is in its delivery. */
export const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'failed'] as const;

/** Account roles, lowest first (what each may do: src/security/permissions.ts). */
export const ROLES = ['member', 'author', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Where a comment or message report is in moderation. */
export const REPORT_STATUSES = ['open', 'resolved'] as const;

/** Where a webhook delivery is. */
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'sending', 'delivered', 'failed'] as const;
/** Stripe subscription statuses, as a membership mirrors them (see billing/membership.ts for access). */
export const MEMBERSHIP_STATUSES = [
  'incomplete',
  'incomplete_expired',
  'trialing',
  'active',
  'past_due',
  'canceled',
  'unpaid',
  'paused',
] as const;
export type MembershipStatus = (typeof MEMBERSHIP_STATUSES)[number];

/** How often a membership is billed. */
export const BILLING_INTERVALS = ['month', 'year'] as const;

/** Where a checkout Folio opened stands. */
export const CHECKOUT_STATUSES = ['open', 'complete', 'expired'] as const;

/** What a ledger row records; refunds are negative rows pointing at their payment. */
export const LEDGER_KINDS = ['membership', 'article', 'tip', 'refund'] as const;

/** Who may start a conversation with a member. */
export const DM_POLICIES = ['everyone', 'following', 'nobody'] as const;
export type DmPolicy = (typeof DM_POLICIES)[number];

/** A conversation between two members, or a group. */
export const CONVERSATION_KINDS = ['direct', 'group'] as const;

/**
 * `column IN ('a', 'b', ...)` with the values inlined as SQL literals, for CHECK constraints (which
 * take no bound parameters). The values are the constants above, never user input.
 */
export function inList(column: SQLiteColumn, values: readonly string[]): SQL {
  return sql`${column} IN (${sql.raw(values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', '))})`;
}
