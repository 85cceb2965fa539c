import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import Stripe from 'stripe';
import worker from '../../src/index';
import { DEV_WEBHOOK_SECRET } from '../../src/config';
import { call, randomIp } from '../helpers/request';
import { registerUser, unique, type TestUser } from '../helpers/factories';

export const SECRET = DEV_WEBHOOK_SECRET;
const cryptoProvider = Stripe.createSubtleCryptoProvider();

/** A non-JSON request through the Worker (HTML pages, redirects). */
export async function fetchRaw(
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string> } = {},
) {
  const ctx = createExecutionContext();
  const headers = new Headers(init.headers);
  headers.set('CF-Connecting-IP', randomIp());
  const response = await worker.fetch(
    new Request(`http://folio.test${path}`, { method, body: init.body, headers, redirect: 'manual' }) as Request<
      unknown,
      IncomingRequestCfProperties
    >,
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Signs `payload` with the Stripe SDK, as Stripe does. */
export function sign(payload: string, secret = SECRET, timestamp?: number) {
  return Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret, timestamp, cryptoProvider });
}

export function postWebhook(payload: string, signature?: string) {
  return call('POST', '/api/billing/webhooks', {
    rawBody: payload,
    headers: { 'Content-Type': 'application/json', ...(signature ? { 'Stripe-Signature': signature } : {}) },
  });
}

export async function paidArticle(author: TestUser, price: number | null = 300) {
  const res = await call('POST', '/api/articles', {
    token: author.token,
    body: {
      article: {
        title: unique('Paid story '),
        description: 'Only for members and buyers',
        body: 'The secret ending',
        visibility: 'paid',
        ...(price !== null && { price, currency: 'usd' }),
      },
    },
  });
  if (res.status !== 201) throw new Error(`article: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.article as { slug: string; price: number | null; currency: string | null };
}

export async function checkout(user: TestUser, body: unknown, headers: Record<string, string> = {}) {
  return call('POST', '/api/billing/checkout', { token: user.token, body, headers });
}

/** Presses Pay on the test checkout page. */
export async function pay(sessionId: string) {
  const res = await fetchRaw('POST', `/billing/test-checkout/${sessionId}/pay`);
  if (res.status !== 303) throw new Error(`pay: ${res.status} ${res.text}`);
  return res;
}

export async function subscribe(user: TestUser, interval: 'month' | 'year' = 'month') {
  const res = await checkout(user, { tierId: 'tier_supporter', interval });
  if (res.status !== 201) throw new Error(`checkout: ${res.status} ${JSON.stringify(res.body)}`);
  await pay(res.body.id);
  return res.body.id as string;
}

export async function readArticle(slug: string, user?: TestUser) {
  return call('GET', `/api/articles/${slug}`, { token: user?.token });
}

export function advance(days: number, failNextRenewal?: boolean) {
  return call('POST', '/billing/test-gateway/advance', {
    body: { days, ...(failNextRenewal !== undefined && { failNextRenewal }) },
  });
}

export { registerUser };
