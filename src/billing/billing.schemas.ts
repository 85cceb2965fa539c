import { z } from '@hono/zod-openapi';

const BLANK = "can't be blank";

const minorUnits = (description: string) =>
  z
    .number({ error: 'must be an integer amount in minor units' })
    .int('must be an integer amount in minor units')
    .positive('must be positive')
    .max(100_000_000, 'is too large')
    .openapi({ description, example: 500 });

/**
 * Exactly one of: `{tierId, interval}` (membership), `{articleSlug}` (buy a paid article),
 * `{tip: {author, amount}}`. One flat object (not a union) so each field's error is reported by name.
 */
export const CheckoutBody = z
  .object({
    tierId: z.string().min(1, BLANK).max(100).optional().openapi({ example: 'tier_supporter' }),
    interval: z.enum(['month', 'year'], { error: 'must be month or year' }).optional(),
    articleSlug: z.string().min(1, BLANK).max(200).optional(),
    tip: z
      .object({
        author: z.string({ error: BLANK }).min(1, BLANK).max(100).openapi({ example: 'jake' }),
        amount: minorUnits('Tip in minor units of TIP_CURRENCY, within TIP_MIN_AMOUNT..TIP_MAX_AMOUNT.'),
      })
      .optional(),
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
  .openapi('CheckoutRequest');

export type CheckoutInput =
  | { tierId: string; interval: 'month' | 'year' }
  | { articleSlug: string }
  | { tip: { author: string; amount: number } };

export const CheckoutResponse = z
  .object({
    id: z.string().openapi({ example: 'cs_test_a1b2' }),
    url: z.string().openapi({ description: 'Send the browser here (Stripe Checkout, or the test page).' }),
  })
  .openapi('CheckoutResponse');

export const UrlResponse = z.object({ url: z.string() }).openapi('UrlResponse');

const Tier = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    benefits: z.array(z.string()),
    monthlyPrice: z.number().int(),
    yearlyPrice: z.number().int(),
    currency: z.string(),
  })
  .openapi('Tier');

export const TiersResponse = z.object({ tiers: z.array(Tier) }).openapi('TiersResponse');

const Membership = z
  .object({
    tier: z.object({ id: z.string(), name: z.string() }),
    status: z
      .string()
      .openapi({ description: 'Stripe subscription status: active, trialing, past_due, canceled, ...' }),
    interval: z.enum(['month', 'year']),
    currentPeriodEnd: z.string().openapi({ format: 'date-time' }),
    cancelAtPeriodEnd: z.boolean(),
    access: z.boolean().openapi({ description: 'Whether this status grants access to paid articles.' }),
  })
  .openapi('Membership');

export const MembershipResponse = z.object({ membership: Membership.nullable() }).openapi('MembershipResponse');

const Payment = z
  .object({
    id: z.string(),
    kind: z.enum(['membership', 'article', 'tip', 'refund']),
    amount: z.number().int().openapi({ description: 'Minor units; negative for refunds.' }),
    currency: z.string(),
    refundOf: z.string().nullable(),
    tierId: z.string().nullable(),
    article: z.string().nullable().openapi({ description: 'Slug of the article bought.' }),
    author: z.string().nullable().openapi({ description: 'Username of the author tipped or sold to.' }),
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Payment');

export const PaymentsResponse = z.object({ payments: z.array(Payment) }).openapi('PaymentsResponse');

export const EarningsResponse = z
  .object({
    months: z.array(
      z.object({
        month: z.string().openapi({ example: '2026-11' }),
        currency: z.string(),
        tips: z.number().int(),
        articleSales: z.number().int(),
        refunds: z.number().int().openapi({ description: 'Negative.' }),
        fees: z.number().int(),
        net: z.number().int(),
        payments: z.number().int(),
      }),
    ),
  })
  .openapi('EarningsResponse');

export const RefundBody = z
  .object({ amount: minorUnits('Omit for a full refund (of what is left).').optional() })
  .openapi('RefundRequest');

export const RefundResponse = z
  .object({
    refund: z.object({
      id: z.string(),
      paymentId: z.string(),
      amount: z.number().int(),
      currency: z.string(),
      status: z.string().nullable(),
    }),
  })
  .openapi('RefundResponse');

export const PaymentIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export const PaymentsQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .openapi({ param: { name: 'limit', in: 'query' } }),
  offset: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .optional()
    .openapi({ param: { name: 'offset', in: 'query' } }),
});

export const WebhookResponse = z
  .object({ received: z.literal(true), outcome: z.enum(['processed', 'duplicate', 'ignored']) })
  .openapi('WebhookResponse');

const tierFields = {
  name: z.string({ error: BLANK }).trim().min(1, BLANK).max(100),
  description: z.string().max(2000),
  benefits: z.array(z.string().trim().min(1, BLANK).max(200)).max(20),
  monthlyPrice: minorUnits('Monthly price in minor units.'),
  yearlyPrice: minorUnits('Yearly price in minor units.'),
  currency: z.string().regex(/^[A-Za-z]{3}$/, 'must be a 3-letter ISO 4217 code'),
  active: z.boolean(),
};

export const NewTierBody = z
  .object({
    tier: z.object({
      ...tierFields,
      description: tierFields.description.default(''),
      benefits: tierFields.benefits.default([]),
      active: tierFields.active.optional(),
    }),
  })
  .openapi('NewTierRequest');

export const UpdateTierBody = z.object({ tier: z.object(tierFields).partial() }).openapi('UpdateTierRequest');

export const TierResponse = z.object({ tier: Tier }).openapi('TierResponse');

export const TierIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export const CheckoutStatusResponse = z
  .object({ checkout: z.object({ id: z.string(), status: z.enum(['open', 'complete', 'expired']) }) })
  .openapi('CheckoutStatusResponse');
