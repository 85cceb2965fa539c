import type { tiers } from '../db/schema';
import type { MembershipRow, PaymentRow } from './billing.service';
import { ACCESS_GRANTING_STATUSES } from './membership';

export function toTier(row: typeof tiers.$inferSelect) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    benefits: row.benefits,
    monthlyPrice: row.monthlyPrice,
    yearlyPrice: row.yearlyPrice,
    currency: row.currency,
  };
}

export function toMembership(row: MembershipRow) {
  return {
    tier: { id: row.tierId, name: row.tierName },
    status: row.status,
    interval: row.interval,
    currentPeriodEnd: row.currentPeriodEnd.toISOString(),
    cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    access: (ACCESS_GRANTING_STATUSES as readonly string[]).includes(row.status),
  };
}

export function toPayment(row: PaymentRow) {
  return {
    id: row.id,
    kind: row.kind,
    amount: row.amount,
    currency: row.currency,
    refundOf: row.refundOf,
    tierId: row.tierId,
    article: row.articleSlug,
    author: row.authorUsername,
    createdAt: row.createdAt.toISOString(),
  };
}
