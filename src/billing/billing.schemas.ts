import { z } from '@hono/zod-openapi';
import { BILLING_INTERVALS, CHECKOUT_STATUSES, LEDGER_KINDS } from '../db/values';

const BLANK = "can't be blank";

const minorUnits = (description: string) =>
  z
    .number({ error: 'must be an integer amount in minor units' })
    .int('must be an integer amount in minor units')
    .positive('must be positive')
    .max(100_000_000, 'is too large')
    .openapi({ description, example: 500 });

const currency = (description = 'ISO 4217 currency code, upper case.') =>
  z.string().openapi({ description, example: 'USD' });

const dateTime = (description: string) => z.string().openapi({ format: 'date-time', description });

export type CheckoutInput =
  | { tierId: string; interval: 'month' | 'year' }
  | { articleSlug: string }
  | { tip: { author: string; amount: number } };

/**
 * Exactly one of: `{tierId, interval}` (membership), `{articleSlug}` (buy a paid article),
 * `{tip: {author, amount}}`. One flat object (not a union) so each field's error is reported by name.
 */
export const CheckoutBody = z
  .object({
    tierId: z.string().min(1, BLANK).max(100).optional().openapi({
      description: 'Membership: the tier to subscribe to (see `GET /api/tiers`).',
      example: 'tier_supporter',
    }),
    interval: z
      .enum(BILLING_INTERVALS, { error: 'must be month or year' })
      .optional()
      .openapi({ description: 'Membership: billed every `month` or every `year` (required with `tierId`).' }),
    articleSlug: z
      .string()
      .min(1, BLANK)
      .max(200)
      .optional()
      .openapi({ description: 'Buy one `paid` article that has a price.', example: 'how-to-train-your-dragon' }),
    tip: z
      .object({
        author: z
          .string({ error: BLANK })
          .min(1, BLANK)
          .max(100)
          .openapi({ description: 'Username of the author to tip.', example: 'jake' }),
        amount: minorUnits('Tip in minor units of TIP_CURRENCY, within TIP_MIN_AMOUNT..TIP_MAX_AMOUNT.'),
      })
      .optional()
      .openapi({ description: 'A one-time tip to an author.' }),
  })
  .superRefine((v, ctx) => {
    const kinds = [v.tierId !== undefined, v.articleSlug !== undefined, v.tip !== undefined].filter(Boolean).length;
    if (kinds !== 1)
      ctx.addIssue({ code: 'custom', path: ['checkout'], message: 'needs exactly one of tierId, articleSlug or tip' });
    else if (v.tierId !== undefined && v.interval === undefined)
      ctx.addIssue({ code: 'custom', path: ['interval'], message: BLANK });
  })
  .transform((v): CheckoutInput => {
    if (v.tierId !== undefined) return { tierId: v.tierId, interval: v.interval! };
    if (v.articleSlug !== undefined) return { articleSlug: v.articleSlug };
    return { tip: v.tip! };
  })
  .openapi('CheckoutRequest', {
    description:
      'What to pay for — exactly one of `{tierId, interval}` (membership), `{articleSlug}` (one paid article) or `{tip: {author, amount}}`.',
    example: { tierId: 'tier_supporter', interval: 'month' },
  });

export const CheckoutResponse = z
  .object({
    id: z.string().openapi({ description: 'The gateway checkout session id.', example: 'cs_test_a1b2' }),
    url: z.string().openapi({
      description: 'Send the browser here: Stripe Checkout, or the test checkout page with GATEWAY=test.',
      example: 'http://localhost:8787/billing/test-checkout/cs_test_a1b2',
    }),
  })
  .openapi('CheckoutResponse', {
    description: 'A checkout session to send the buyer to.',
    example: { id: 'cs_test_a1b2', url: 'http://localhost:8787/billing/test-checkout/cs_test_a1b2' },
  });

export const UrlResponse = z
  .object({ url: z.string().openapi({ description: "The gateway's customer portal page for this member." }) })
  .openapi('UrlResponse', { description: 'A page to send the browser to.' });

const Tier = z
  .object({
    id: z.string().openapi({ description: 'Tier id, used in checkout.', example: 'tier_supporter' }),
    name: z.string().openapi({ description: 'Display name.', example: 'Supporter' }),
    description: z.string().openapi({ description: 'What the tier is about.' }),
    benefits: z.array(z.string()).openapi({ description: 'Benefits, in display order.' }),
    monthlyPrice: z
      .number()
      .int()
      .openapi({ description: 'Price per month, minor units of `currency`.', example: 500 }),
    yearlyPrice: z.number().int().openapi({ description: 'Price per year, minor units of `currency`.', example: 5000 }),
    currency: currency(),
  })
  .openapi('Tier', { description: 'A membership tier.' });

export const TiersResponse = z
  .object({ tiers: z.array(Tier).openapi({ description: 'Active tiers, cheapest first.' }) })
  .openapi('TiersResponse', { description: 'The membership tiers on offer.' });

const Membership = z
  .object({
    tier: z
      .object({
        id: z.string().openapi({ description: 'Tier id.' }),
        name: z.string().openapi({ description: 'Tier name.' }),
      })
      .openapi({ description: 'The tier subscribed to.' }),
    status: z.string().openapi({
      description: 'Stripe subscription status: active, trialing, past_due, canceled, unpaid, incomplete, ...',
      example: 'active',
    }),
    interval: z.enum(BILLING_INTERVALS).openapi({ description: 'Billing interval.' }),
    currentPeriodEnd: dateTime('End of the paid period (renewal, or the end when cancelled).'),
    cancelAtPeriodEnd: z.boolean().openapi({ description: 'True when cancelled: access lasts until the period ends.' }),
    access: z.boolean().openapi({ description: 'Whether this status grants access to paid articles.' }),
  })
  .openapi('Membership', { description: "The member's subscription, as the gateway last reported it." });

export const MembershipResponse = z
  .object({ membership: Membership.nullable().openapi({ description: '`null` when the user never subscribed.' }) })
  .openapi('MembershipResponse', { description: 'Your membership.' });

const Payment = z
  .object({
    id: z.string().openapi({ description: 'Ledger row id (refund it with `POST /api/billing/payments/{id}/refund`).' }),
    kind: z.enum(LEDGER_KINDS).openapi({ description: 'What the money was for; `refund` rows are negative.' }),
    amount: z.number().int().openapi({ description: 'Minor units; negative for refunds.', example: 500 }),
    currency: currency(),
    refundOf: z.string().nullable().openapi({ description: 'For refunds: the ledger row refunded.' }),
    tierId: z.string().nullable().openapi({ description: 'For membership payments: the tier.' }),
    article: z.string().nullable().openapi({ description: 'Slug of the article bought.' }),
    author: z.string().nullable().openapi({ description: 'Username of the author tipped or sold to.' }),
    createdAt: dateTime('When the gateway reported it.'),
  })
  .openapi('Payment', { description: 'One row of the immutable money ledger.' });

export const PaymentsResponse = z
  .object({ payments: z.array(Payment).openapi({ description: 'Newest first.' }) })
  .openapi('PaymentsResponse', { description: 'Your payments and refunds.' });

export const EarningsResponse = z
  .object({
    months: z
      .array(
        z
          .object({
            month: z.string().openapi({ description: 'Calendar month (UTC).', example: '2026-11' }),
            currency: currency(),
            tips: z.number().int().openapi({ description: 'Tips received (minor units).' }),
            articleSales: z.number().int().openapi({ description: 'Article sales (minor units).' }),
            refunds: z.number().int().openapi({ description: 'Refunds of those (negative, minor units).' }),
            fees: z.number().int().openapi({ description: 'Platform fees kept (minor units).' }),
            net: z.number().int().openapi({ description: 'Tips + sales + refunds - fees.' }),
            payments: z.number().int().openapi({ description: 'Number of payments (refunds not counted).' }),
          })
          .openapi({ description: 'One month in one currency.' }),
      )
      .openapi({ description: 'Newest month first.' }),
  })
  .openapi('EarningsResponse', { description: "An author's earnings per month and currency." });

export const RefundBody = z
  .object({ amount: minorUnits('Omit for a full refund (of what is left).').optional() })
  .openapi('RefundRequest', { description: 'How much to refund.', example: { amount: 100 } });

export const RefundResponse = z
  .object({
    refund: z
      .object({
        id: z.string().openapi({ description: 'Gateway refund id.' }),
        paymentId: z.string().openapi({ description: 'The ledger row refunded.' }),
        amount: z.number().int().openapi({ description: 'Refunded, minor units.' }),
        currency: currency(),
        status: z.string().nullable().openapi({ description: 'Gateway refund status (`succeeded`, `pending`, ...).' }),
      })
      .openapi({ description: 'The refund the gateway created; the ledger row follows from its webhook.' }),
  })
  .openapi('RefundResponse', { description: 'A refund created at the gateway.' });

const idParam = (name: string, description: string) =>
  z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name, in: 'path', description } });

export const PaymentIdParam = z.object({ id: idParam('id', 'Ledger row id of the payment.') });
export const CheckoutIdParam = z.object({
  id: idParam('id', 'Checkout session id (from `POST /api/billing/checkout`).'),
});
export const TierIdParam = z.object({ id: idParam('id', 'Tier id.') });

export const PaymentsQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .openapi({ param: { name: 'limit', in: 'query', description: 'Rows per page, 1–100 (default 20).' } }),
  offset: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .optional()
    .openapi({ param: { name: 'offset', in: 'query', description: 'Rows to skip (default 0).' } }),
});

export const WebhookResponse = z
  .object({
    received: z.literal(true).openapi({ description: 'Always true on 200.' }),
    outcome: z
      .enum(['processed', 'duplicate', 'ignored'])
      .openapi({ description: 'Applied now, already applied earlier, or an event type Folio does not handle.' }),
  })
  .openapi('StripeWebhookAck', { description: 'Acknowledgement to Stripe.' });

const tierFields = {
  name: z
    .string({ error: BLANK })
    .trim()
    .min(1, BLANK)
    .max(100)
    .openapi({ description: 'Display name, at most 100 characters.' }),
  description: z.string().max(2000).openapi({ description: 'At most 2000 characters.' }),
  benefits: z
    .array(z.string().trim().min(1, BLANK).max(200))
    .max(20)
    .openapi({ description: 'At most 20 benefits of at most 200 characters.' }),
  monthlyPrice: minorUnits('Monthly price in minor units.'),
  yearlyPrice: minorUnits('Yearly price in minor units.'),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'must be a 3-letter ISO 4217 code')
    .openapi({ description: 'ISO 4217 code.', example: 'USD' }),
  active: z.boolean().openapi({ description: 'Offered in `GET /api/tiers` and checkout.' }),
};

export const NewTierBody = z
  .object({
    tier: z
      .object({
        ...tierFields,
        description: tierFields.description.default(''),
        benefits: tierFields.benefits.default([]),
        active: tierFields.active.optional(),
      })
      .openapi({ description: 'The new tier.' }),
  })
  .openapi('NewTierRequest', {
    description: 'A new membership tier (admins).',
    example: { tier: { name: 'Patron', monthlyPrice: 2000, yearlyPrice: 20000, currency: 'USD' } },
  });

export const UpdateTierBody = z
  .object({ tier: z.object(tierFields).partial().openapi({ description: 'Only the fields sent change.' }) })
  .openapi('UpdateTierRequest', { description: 'Changes to a tier (admins).', example: { tier: { active: false } } });

export const TierResponse = z.object({ tier: Tier }).openapi('TierResponse', { description: 'One tier.' });

export const CheckoutStatusResponse = z
  .object({
    checkout: z
      .object({
        id: z.string().openapi({ description: 'Checkout session id.' }),
        status: z
          .enum(CHECKOUT_STATUSES)
          .openapi({ description: '`complete` once paid and applied; `open` while unpaid.' }),
      })
      .openapi({ description: 'The checkout after the sync.' }),
  })
  .openapi('CheckoutStatusResponse', { description: 'Where a checkout stands.' });

export const AdvanceBody = z
  .object({
    days: z
      .number({ error: 'must be a number of days' })
      .int()
      .min(0)
      .max(3660)
      .openapi({ description: 'Days to move gateway time forward (0 only applies the switch).' }),
    failNextRenewal: z
      .boolean()
      .optional()
      .openapi({ description: 'Switch kept until changed: while true, renewals and their retries fail.' }),
  })
  .openapi('TestGatewayAdvanceRequest', { description: 'Move the test gateway clock.', example: { days: 31 } });

export const AdvanceResponse = z
  .object({
    now: dateTime('Gateway time after the move.'),
    processed: z.number().int().openapi({ description: 'Renewals, retries and cancellations run.' }),
    delivered: z.number().int().openapi({ description: 'Events delivered to the webhook handler.' }),
    failNextRenewal: z.boolean().openapi({ description: 'The switch, as it stands now.' }),
  })
  .openapi('TestGatewayAdvanceResponse', { description: 'What the clock move did.' });

export const ClockResponse = z
  .object({ now: dateTime('Current gateway time (real time plus the advances).') })
  .openapi('TestGatewayClockResponse', { description: 'The test gateway clock.' });

// ---------------------------------------------------------------------------------------------
// Billing administration (admins).

export const MemberIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, description: 'The account id (`id` in the admin user list).' }),
});

export const CompBody = z
  .object({
    membership: z
      .object({
        tierId: z.string().min(1).max(64).openapi({ description: 'The tier to grant.', example: 'tier_supporter' }),
        until: z.iso
          .datetime({ offset: true, error: 'must be an ISO 8601 date-time' })
          .openapi({ description: 'When the complimentary membership ends (ISO date-time, in the future).' }),
      })
      .openapi({ description: 'The complimentary membership.' }),
  })
  .openapi('CompMembershipRequest', {
    description: 'Grant a membership without payment.',
    example: { membership: { tierId: 'tier_supporter', until: '2027-01-01T00:00:00Z' } },
  });

export const AdminMembershipResponse = z
  .object({ membership: z.object(Membership.shape).openapi({ description: 'The membership after the change.' }) })
  .openapi('AdminMembershipResponse', { description: "The member's membership after the change." });

export const RevenueQuery = z.object({
  months: z.coerce
    .number()
    .int()
    .min(1)
    .max(36)
    .default(12)
    .openapi({ description: 'How many calendar months (UTC), this one included (1–36, default 12).' }),
});

const amount = (description: string) => z.number().int().openapi({ description, example: 500 });

export const RevenueResponse = z
  .object({
    since: dateTime('Start of the first month counted.'),
    months: z
      .array(
        z
          .object({
            month: z.string().openapi({ description: 'Calendar month, UTC.', example: '2026-11' }),
            currency: currency(),
            payments: amount('Money received (memberships, tips, article sales), minor units.'),
            refunds: amount('Refunded (negative), minor units.'),
            memberships: amount('Of which membership payments.'),
            tips: amount('Of which tips.'),
            articleSales: amount('Of which single-article sales.'),
            fees: amount('Gateway fees.'),
            net: amount('Payments plus refunds.'),
          })
          .openapi({ description: 'One month in one currency.' }),
      )
      .openapi({ description: 'Newest month first; months without ledger rows are left out.' }),
    mrr: z
      .array(
        z
          .object({
            currency: currency(),
            mrr: amount('Monthly recurring revenue: monthly prices, yearly prices / 12 (rounded).'),
            payingMembers: z.number().int().openapi({ description: 'Paid memberships counted.' }),
          })
          .openapi({ description: 'MRR in one currency.' }),
      )
      .openapi({ description: 'From paid memberships that are active or past_due (complimentary ones excluded).' }),
    tiers: z
      .array(
        z
          .object({
            tierId: z.string().openapi({ description: 'Tier id.' }),
            name: z.string().openapi({ description: 'Tier name.' }),
            members: z.number().int().openapi({ description: 'Members whose membership grants access now.' }),
            complimentary: z.number().int().openapi({ description: 'Of which complimentary.' }),
          })
          .openapi({ description: 'One tier.' }),
      )
      .openapi({ description: 'Tiers with at least one member with access.' }),
  })
  .openapi('RevenueResponse', { description: 'Revenue figures from the ledger and memberships.' });
