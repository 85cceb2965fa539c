/**
 * The test gateway's pages and controls (GATEWAY=test only; 404 otherwise, and GATEWAY=test is
 * refused in production): the checkout page the fake's session URL points to (Pay / Decline), a
 * minimal customer portal (cancel / resume), and the clock that moves gateway time.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getConfig } from '../config';
import { createDb } from '../db/client';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { errors, jsonResponse } from '../openapi';
import { createRouter } from '../router';
import { billingDeps, deliverTestGatewayEvents } from './billing.deps';
import { AdvanceBody, AdvanceResponse, ClockResponse } from './billing.schemas';
import { formatAmount } from '../email/email.templates';
import {
  advanceClock,
  getCheckoutSession,
  payCheckoutSession,
  setCancelAtPeriodEnd,
  subscriptionsOf,
} from './gateway/fake-stripe';
import { gatewayNow, getObject, getSetting, setSettingStatement } from './gateway/fake-store';

export const testGatewayRouter = createRouter();
const tags = ['Test gateway (development only)'];

testGatewayRouter.use('/billing/*', async (c, next) => {
  if (getConfig(c.env).billing.gateway !== 'test') throw AppError.notFound('route');
  await next();
});

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}.note{color:#666;font-size:.85rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}
<p class="note">Folio test gateway — no real money moves. GATEWAY=test is refused in production.</p></body></html>`;
}

const html = { 'text/html': { schema: z.string() } };
const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'id', in: 'path', description: 'Checkout session id.' } }),
});

function gwDb(c: Context<AppEnv>) {
  return createDb(c.env.DB);
}

testGatewayRouter.openapi(
  createRoute({
    method: 'get',
    path: '/billing/test-checkout/{id}',
    tags,
    summary: 'Test checkout page: amount, plan, Pay and Decline',
    description: "Plain HTML page the test gateway's checkout URL points to. 404 unless GATEWAY=test.",
    request: { params: IdParam },
    responses: { 200: { description: 'HTML page', content: html }, 404: errors[404] },
  }),
  async (c) => {
    const session = await getCheckoutSession(gwDb(c), c.req.valid('param').id);
    if (!session) throw AppError.notFound('checkout');
    const line = session._line;
    const price = `${formatAmount(line.amount, line.currency)}${line.interval ? ` per ${line.interval}` : ''}`;
    const action = `/billing/test-checkout/${encodeURIComponent(session.id)}`;
    const body =
      session.status === 'open'
        ? `<p><strong>${escapeHtml(line.name)}</strong></p><p>Amount: <strong>${escapeHtml(price)}</strong></p>
<form method="post" action="${action}/pay" style="display:inline"><button type="submit">Pay</button></form>
<form method="post" action="${action}/decline" style="display:inline"><button type="submit">Decline</button></form>`
        : `<p>This checkout is ${escapeHtml(session.status)}.</p>`;
    return c.html(page('Folio test checkout', body), 200);
  },
);

function redirectTo(url: string | null, sessionId: string) {
  return (url ?? '/').replace('{CHECKOUT_SESSION_ID}', encodeURIComponent(sessionId));
}

testGatewayRouter.openapi(
  createRoute({
    method: 'post',
    path: '/billing/test-checkout/{id}/pay',
    tags,
    summary: "Pay: the fake takes the payment and delivers Stripe's events to the webhook handler",
    description:
      'Creates the payment (and the subscription, if any) in the fake gateway, delivers the signed events in process to the real webhook receiver, then redirects to the success URL. A checkout no longer open → 422.',
    request: { params: IdParam },
    responses: {
      303: { description: 'Redirect to the success URL (after the events were delivered)' },
      404: errors[404],
      422: errors[422],
    },
  }),
  async (c) => {
    const id = c.req.valid('param').id;
    const db = gwDb(c);
    const session = await getCheckoutSession(db, id);
    if (!session) throw AppError.notFound('checkout');
    if (session.status !== 'open') throw AppError.validation({ checkout: [`is ${session.status}`] });
    await payCheckoutSession(db, id, Date.now());
    await deliverTestGatewayEvents(await billingDeps(c));
    return c.redirect(redirectTo(session.success_url, id), 303);
  },
);

testGatewayRouter.openapi(
  createRoute({
    method: 'post',
    path: '/billing/test-checkout/{id}/decline',
    tags,
    summary: 'Decline: no payment; back to the cancel URL (the session stays open until it expires)',
    description: 'Nothing is charged and no event is sent.',
    request: { params: IdParam },
    responses: { 303: { description: 'Redirect to the cancel URL' }, 404: errors[404] },
  }),
  async (c) => {
    const session = await getCheckoutSession(gwDb(c), c.req.valid('param').id);
    if (!session) throw AppError.notFound('checkout');
    return c.redirect(redirectTo(session.cancel_url, session.id), 303);
  },
);

const CustomerParam = z.object({
  customer: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'customer', in: 'path', description: 'Gateway customer id.' } }),
});

testGatewayRouter.openapi(
  createRoute({
    method: 'get',
    path: '/billing/test-portal/{customer}',
    tags,
    summary: "Test customer portal: the customer's subscriptions, cancel or resume",
    description: 'What `POST /api/billing/portal` points to with GATEWAY=test.',
    request: { params: CustomerParam },
    responses: { 200: { description: 'HTML page', content: html }, 404: errors[404] },
  }),
  async (c) => {
    const db = gwDb(c);
    const customer = c.req.valid('param').customer;
    if (!(await getObject(db, customer))) throw AppError.notFound('customer');
    const subs = (await subscriptionsOf(db, customer)).filter((s) => s.status !== 'canceled');
    const action = `/billing/test-portal/${encodeURIComponent(customer)}`;
    const rows = subs
      .map((s) => {
        const end = new Date(s.items.data[0]!.current_period_end * 1000).toISOString().slice(0, 10);
        const button = s.cancel_at_period_end
          ? `<form method="post" action="${action}/resume"><button>Resume</button></form>`
          : `<form method="post" action="${action}/cancel"><button>Cancel at period end</button></form>`;
        return `<p>${escapeHtml(s.id)}: <strong>${escapeHtml(s.status)}</strong>, period ends ${end}${s.cancel_at_period_end ? ' (cancels then)' : ''}</p>${button}`;
      })
      .join('');
    return c.html(page('Folio test billing portal', rows || '<p>No active subscription.</p>'), 200);
  },
);

for (const [action, cancel] of [
  ['cancel', true],
  ['resume', false],
] as const) {
  testGatewayRouter.openapi(
    createRoute({
      method: 'post',
      path: `/billing/test-portal/{customer}/${action}`,
      tags,
      summary: cancel ? 'Portal: cancel at period end' : 'Portal: resume',
      description: 'Updates the subscription in the fake gateway and delivers `customer.subscription.updated`.',
      request: { params: CustomerParam },
      responses: { 303: { description: 'Back to the portal page' }, 404: errors[404] },
    }),
    async (c) => {
      const db = gwDb(c);
      const customer = c.req.valid('param').customer;
      const sub = (await subscriptionsOf(db, customer)).find((s) => s.status !== 'canceled');
      if (!sub) throw AppError.notFound('subscription');
      await setCancelAtPeriodEnd(db, sub.id, cancel, Date.now());
      await deliverTestGatewayEvents(await billingDeps(c));
      return c.redirect(`/billing/test-portal/${encodeURIComponent(customer)}`, 303);
    },
  );
}

testGatewayRouter.openapi(
  createRoute({
    method: 'post',
    path: '/billing/test-gateway/advance',
    tags,
    summary: 'Move gateway time forward: renewals, failed payments and retries, cancellations at period end',
    description:
      'Runs what falls due, in time order, and delivers the resulting events. Renewals fail while `failNextRenewal` is on (retried every 3 days, canceled after 4 attempts).',
    request: { body: { required: true, content: { 'application/json': { schema: AdvanceBody } } } },
    responses: {
      200: jsonResponse(AdvanceResponse, 'Gateway time after the move, subscriptions processed and events delivered'),
      422: errors[422],
    },
  }),
  async (c) => {
    const { days, failNextRenewal } = c.req.valid('json');
    const db = gwDb(c);
    if (failNextRenewal !== undefined) await setSettingStatement(db, 'fail_renewals', failNextRenewal ? '1' : '0');
    const failing = (await getSetting(db, 'fail_renewals')) === '1';
    const result = await advanceClock(db, days, failing, Date.now());
    const delivered = await deliverTestGatewayEvents(await billingDeps(c));
    return c.json({ ...result, delivered, failNextRenewal: failing }, 200);
  },
);

testGatewayRouter.openapi(
  createRoute({
    method: 'get',
    path: '/billing/test-gateway/clock',
    tags,
    summary: 'Current gateway time',
    description: 'Real time plus all advances so far.',
    responses: { 200: jsonResponse(ClockResponse, 'Gateway time') },
  }),
  async (c) => c.json({ now: new Date(await gatewayNow(gwDb(c), Date.now())).toISOString() }, 200),
);
