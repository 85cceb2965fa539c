import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../errors';
import { idempotencyClaim, idempotent } from '../middleware/idempotency';
import { readPrimary } from '../middleware/request-context';
import { errors, IdempotencyHeaders, jsonBody, jsonResponse, tokenAuth } from '../openapi';
import { createRouter } from '../router';
import { requireAuth, requirePermission, type AuthEnv } from '../sessions/sessions.middleware';
import { cancelMemberMembership, compMembership, revenueReport } from './billing.admin';
import { billingDeps, deliverTestGatewayEvents } from './billing.deps';
import { toMembership, toPayment, toTier } from './billing.present';
import {
  AdminMembershipResponse,
  CompBody,
  MemberIdParam,
  RevenueQuery,
  RevenueResponse,
  CheckoutBody,
  CheckoutIdParam,
  CheckoutResponse,
  CheckoutStatusResponse,
  NewTierBody,
  TierIdParam,
  TierResponse,
  UpdateTierBody,
  EarningsResponse,
  MembershipResponse,
  PaymentIdParam,
  PaymentsQuery,
  PaymentsResponse,
  RefundBody,
  RefundResponse,
  TiersResponse,
  UrlResponse,
  WebhookResponse,
} from './billing.schemas';
import {
  authorEarnings,
  createCheckout,
  createPortalSession,
  getMembership,
  listPayments,
  listTiers,
  refundPayment,
  setMembershipCancellation,
  syncCheckout,
  createTier,
  updateTier,
} from './billing.service';
import { receiveWebhook } from './billing.webhooks';

export const billingRouter = createRouter();

/** Where Stripe delivers events (configured in the Stripe dashboard). */
export const WEBHOOK_PATH = '/api/billing/webhooks';
/** Stripe events are usually a few KiB; the largest objects stay well under this. */
const WEBHOOK_MAX_BYTES = 1024 * 1024;
const webhookBodyLimit = bodyLimit({
  maxSize: WEBHOOK_MAX_BYTES,
  onError: () => {
    throw new AppError(413, { body: ['is too large'] });
  },
});
const tags = ['Billing'];
const badGateway = { description: 'The payment gateway failed', content: errors[400].content };

billingRouter.openapi(
  createRoute({
    method: 'get',
    path: '/tiers',
    tags,
    summary: 'Membership tiers on offer (public)',
    description: 'Active tiers with monthly and yearly prices. No authentication.',
    responses: { 200: jsonResponse(TiersResponse, 'Active tiers, cheapest first') },
  }),
  async (c) => {
    const rows = await listTiers({ db: c.get('db') });
    return c.json({ tiers: rows.map(toTier) }, 200);
  },
);

billingRouter.openapi(
  createRoute({
    method: 'post',
    path: '/billing/checkout',
    tags,
    summary: 'Start a checkout: a membership, one paid article, or a tip',
    description:
      'Returns the gateway checkout page to send the browser to. Access is granted only when the gateway confirms the payment (webhook), never by the return URL. The same open checkout, or a retry with the same `Idempotency-Key`, returns the same session.',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth, idempotent] as const,
    request: { headers: IdempotencyHeaders, ...jsonBody(CheckoutBody) },
    responses: {
      200: jsonResponse(CheckoutResponse, 'The checkout already open for this purchase'),
      201: jsonResponse(CheckoutResponse, 'A new checkout session'),
      401: errors[401],
      404: errors[404],
      409: errors[409],
      422: errors[422],
      429: errors[429],
      502: badGateway,
    },
  }),
  async (c) => {
    const deps = await billingDeps(c);
    const key = c.req.valid('header')['idempotency-key'];
    const result = await createCheckout(
      deps,
      c.get('auth').userId,
      c.req.valid('json'),
      key,
      new Date(),
      idempotencyClaim(c),
    );
    return c.json({ id: result.id, url: result.url }, result.created ? 201 : 200);
  },
);

billingRouter.openapi(
  createRoute({
    method: 'post',
    path: '/billing/portal',
    tags,
    summary: "The gateway's customer portal (manage card, cancel)",
    description:
      "A URL of the gateway's customer portal for the signed-in member. 404 `customer` before the first checkout.",
    security: tokenAuth,
    middleware: [readPrimary, requireAuth] as const,
    responses: {
      200: jsonResponse(UrlResponse, 'Portal URL'),
      401: errors[401],
      404: errors[404],
      429: errors[429],
      502: badGateway,
    },
  }),
  async (c) => c.json(await createPortalSession(await billingDeps(c), c.get('auth').userId, new Date()), 200),
);

billingRouter.openapi(
  createRoute({
    method: 'post',
    path: '/billing/webhooks',
    tags,
    summary: 'Stripe webhook endpoint (public; Stripe-Signature verified over the raw body)',
    description:
      'Bad, absent or stale signature → 400 and nothing changes. Unknown event types and duplicate deliveries → 200 with no effect.',
    middleware: [webhookBodyLimit, readPrimary] as const,
    request: {
      headers: z.object({
        'stripe-signature': z
          .string()
          .optional()
          .openapi({
            param: {
              name: 'stripe-signature',
              in: 'header',
              description: 'Stripe-Signature: `t=<unix time>,v1=<HMAC-SHA256>` (one or more v1).',
            },
          }),
      }),
    },
    responses: { 200: jsonResponse(WebhookResponse, 'Accepted'), 400: errors[400], 409: errors[409] },
  }),
  async (c) => {
    // The raw body, exactly as received: the signature covers these bytes.
    const raw = await c.req.text();
    const outcome = await receiveWebhook(await billingDeps(c), raw, c.req.header('stripe-signature'), new Date());
    return c.json({ received: true as const, outcome }, 200);
  },
);

billingRouter.openapi(
  createRoute({
    method: 'get',
    path: '/user/membership',
    tags,
    summary: 'Your membership (null if none)',
    description:
      'Tier, status, interval, current period end, cancel-at-period-end and whether the status grants access.',
    security: tokenAuth,
    middleware: requireAuth,
    responses: { 200: jsonResponse(MembershipResponse, 'Membership'), 401: errors[401] },
  }),
  async (c) => {
    const row = await getMembership({ db: c.get('db') }, c.get('auth').userId);
    return c.json({ membership: row ? toMembership(row) : null }, 200);
  },
);

for (const [action, cancel] of [
  ['cancel', true],
  ['resume', false],
] as const) {
  billingRouter.openapi(
    createRoute({
      method: 'post',
      path: `/user/membership/${action}`,
      tags,
      summary: cancel ? 'Cancel at the end of the paid period' : 'Undo a cancellation before the period ends',
      description:
        'Goes through the gateway; access is kept until the period ends. No membership → 404; not active (or not cancelled, for resume) → 422.',
      security: tokenAuth,
      middleware: [readPrimary, requireAuth] as const,
      responses: {
        200: jsonResponse(MembershipResponse, 'Membership'),
        401: errors[401],
        404: errors[404],
        429: errors[429],
        422: errors[422],
        502: badGateway,
      },
    }),
    async (c) => {
      const deps = await billingDeps(c);
      await setMembershipCancellation(deps, c.get('auth').userId, cancel, new Date());
      await deliverTestGatewayEvents(deps);
      const row = await getMembership(deps, c.get('auth').userId);
      return c.json({ membership: row ? toMembership(row) : null }, 200);
    },
  );
}

billingRouter.openapi(
  createRoute({
    method: 'get',
    path: '/user/payments',
    tags,
    summary: 'Your payments and refunds, newest first',
    description:
      'Rows of the immutable ledger for the signed-in user: membership payments, article purchases, tips, and refunds (negative).',
    security: tokenAuth,
    middleware: requireAuth,
    request: { query: PaymentsQuery },
    responses: { 200: jsonResponse(PaymentsResponse, 'Ledger rows'), 401: errors[401], 422: errors[422] },
  }),
  async (c) => {
    const { limit, offset } = c.req.valid('query');
    const rows = await listPayments({ db: c.get('db') }, c.get('auth').userId, limit ?? 20, offset ?? 0);
    return c.json({ payments: rows.map(toPayment) }, 200);
  },
);

billingRouter.openapi(
  createRoute({
    method: 'get',
    path: '/billing/earnings',
    tags,
    summary: 'Your earnings as an author: tips and article sales per month',
    description: 'Totals per month (UTC) and currency for the signed-in author, refunds and platform fees included.',
    security: tokenAuth,
    middleware: requireAuth,
    responses: { 200: jsonResponse(EarningsResponse, 'Totals per month and currency, newest first'), 401: errors[401] },
  }),
  async (c) => c.json({ months: await authorEarnings({ db: c.get('db') }, c.get('auth').userId) }, 200),
);

billingRouter.openapi(
  createRoute({
    method: 'post',
    path: '/billing/payments/{id}/refund',
    tags,
    summary: 'Refund a payment, fully or partly (publication admins)',
    description:
      'Goes through the gateway; the refund row is written when the gateway reports it (charge.refunded). A full refund of an article purchase revokes it.',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth, requirePermission('refund:payment'), idempotent] as const,
    request: { params: PaymentIdParam, headers: IdempotencyHeaders, ...jsonBody(RefundBody) },
    responses: {
      201: jsonResponse(RefundResponse, 'Refund created at the gateway'),
      401: errors[401],
      403: errors[403],
      404: errors[404],
      422: errors[422],
      429: errors[429],
      502: badGateway,
    },
  }),
  async (c) => {
    const deps = await billingDeps(c);
    const refund = await refundPayment(
      deps,
      c.get('auth').userId,
      c.req.valid('param').id,
      c.req.valid('json').amount,
      c.req.valid('header')['idempotency-key'],
      new Date(),
      idempotencyClaim(c),
    );
    await deliverTestGatewayEvents(deps);
    return c.json({ refund }, 201);
  },
);

billingRouter.openapi(
  createRoute({
    method: 'post',
    path: '/billing/checkout/{id}/sync',
    tags,
    summary: 'Settle your checkout from the gateway now (for the success page)',
    description:
      "Re-reads the session from the gateway and, when paid, applies it exactly as the webhook does (idempotent), so the success page need not wait for the event. Someone else's checkout → 404.",
    security: tokenAuth,
    middleware: [readPrimary, requireAuth] as const,
    request: { params: CheckoutIdParam },
    responses: {
      200: jsonResponse(CheckoutStatusResponse, 'The checkout status after the sync'),
      401: errors[401],
      404: errors[404],
      429: errors[429],
      502: badGateway,
    },
  }),
  async (c) => {
    const checkout = await syncCheckout(
      await billingDeps(c),
      c.get('auth').userId,
      c.req.valid('param').id,
      new Date(),
    );
    return c.json({ checkout }, 200);
  },
);

billingRouter.openapi(
  createRoute({
    method: 'post',
    path: '/tiers',
    tags,
    summary: 'Create a membership tier (publication admins)',
    description: 'Admins are the usernames in ADMIN_USERNAMES until roles exist; anyone else gets 403.',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth, requirePermission('manage:tiers'), idempotent] as const,
    request: jsonBody(NewTierBody),
    responses: { 201: jsonResponse(TierResponse, 'Created'), 401: errors[401], 403: errors[403], 422: errors[422] },
  }),
  async (c) => {
    const row = await createTier(await billingDeps(c), c.req.valid('json').tier, new Date(), idempotencyClaim(c));
    return c.json({ tier: toTier(row) }, 201);
  },
);

billingRouter.openapi(
  createRoute({
    method: 'put',
    path: '/tiers/{id}',
    tags,
    summary: 'Update a tier: name, texts, prices, `active` (publication admins)',
    description: 'New prices apply to checkouts started afterwards; running subscriptions keep their price.',
    security: tokenAuth,
    middleware: [requireAuth, requirePermission('manage:tiers')] as const,
    request: { params: TierIdParam, ...jsonBody(UpdateTierBody) },
    responses: {
      200: jsonResponse(TierResponse, 'Updated'),
      401: errors[401],
      403: errors[403],
      404: errors[404],
      422: errors[422],
    },
  }),
  async (c) => {
    const row = await updateTier(await billingDeps(c), c.req.valid('param').id, c.req.valid('json').tier);
    return c.json({ tier: toTier(row) }, 200);
  },
);

// ---------------------------------------------------------------------------------------------
// Billing administration: complimentary memberships, cancellations, revenue.

const adminTags = ['Admin'];
const actor = (c: Context<AppEnv & AuthEnv, string>) => ({
  actorId: c.get('auth').userId,
  requestId: c.get('requestId'),
});

billingRouter.openapi(
  createRoute({
    method: 'put',
    path: '/admin/users/{id}/membership',
    tags: adminTags,
    summary: 'Grant a complimentary membership',
    description:
      'Permission `manage:memberships`. Grants (or extends) an active membership on the tier until `until`, without payment; it ends then (billing cron). A member paying through the gateway → 409 (cancel first). Audited.',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth, requirePermission('manage:memberships')] as const,
    request: { params: MemberIdParam, ...jsonBody(CompBody) },
    responses: {
      200: jsonResponse(AdminMembershipResponse, 'The membership'),
      401: errors[401],
      403: errors[403],
      404: errors[404],
      409: errors[409],
      422: errors[422],
    },
  }),
  async (c) => {
    const { tierId, until } = c.req.valid('json').membership;
    const row = await compMembership(
      { db: c.get('db') },
      actor(c),
      c.req.valid('param').id,
      { tierId, until: new Date(until) },
      new Date(),
    );
    return c.json({ membership: toMembership(row) }, 200);
  },
);

billingRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/admin/users/{id}/membership',
    tags: adminTags,
    summary: "End a member's membership now",
    description:
      'Permission `manage:memberships`. A paid membership is cancelled at the gateway immediately (no refund: refund the payment separately); a complimentary one ends locally. No membership with access → 404. Audited.',
    security: tokenAuth,
    middleware: [readPrimary, requireAuth, requirePermission('manage:memberships')] as const,
    request: { params: MemberIdParam },
    responses: {
      200: jsonResponse(AdminMembershipResponse, 'The membership, cancelled'),
      401: errors[401],
      403: errors[403],
      404: errors[404],
      502: badGateway,
    },
  }),
  async (c) => {
    const deps = await billingDeps(c);
    const row = await cancelMemberMembership(deps, actor(c), c.req.valid('param').id, new Date());
    await deliverTestGatewayEvents(deps);
    return c.json({ membership: toMembership(row) }, 200);
  },
);

billingRouter.openapi(
  createRoute({
    method: 'get',
    path: '/admin/revenue',
    tags: adminTags,
    summary: 'Revenue figures',
    description:
      'Permission `read:revenue`. Per month and currency from the ledger (payments, refunds, memberships, tips, article sales, fees, net), MRR from paid memberships, and members per tier. One round trip.',
    security: tokenAuth,
    middleware: [requireAuth, requirePermission('read:revenue')] as const,
    request: { query: RevenueQuery },
    responses: {
      200: jsonResponse(RevenueResponse, 'Revenue'),
      401: errors[401],
      403: errors[403],
      422: errors[422],
    },
  }),
  async (c) => {
    const report = await revenueReport({ db: c.get('db') }, c.req.valid('query').months, new Date());
    return c.json({ ...report, since: report.since.toISOString() }, 200);
  },
);
