import { getConfig } from '../config';
import type { Database } from '../db/client';
import type { BillingDeps } from './billing.webhooks';
import { receiveWebhook } from './billing.webhooks';
import { deliverPendingEvents } from './gateway/fake-delivery';
import { createGateway } from './gateway/gateway';

/** The request's billing dependencies: counted D1, the gateway (real or test) and the config. */
export async function billingDeps(c: {
  env: Env;
  get: (key: 'db') => Database;
  req: { url: string };
}): Promise<BillingDeps> {
  const config = getConfig(c.env);
  return { db: c.get('db'), gateway: await createGateway(config.billing, c.env.DB, new URL(c.req.url).origin), config };
}

/**
 * With the test gateway, delivers the events its last action queued to the real webhook receiver
 * before the response is sent (Stripe would deliver them moments later). No-op with real Stripe.
 */
export async function deliverTestGatewayEvents(deps: BillingDeps): Promise<number> {
  if (deps.config.billing.gateway !== 'test') return 0;
  return deliverPendingEvents(deps.db, deps.config.billing.webhookSecrets[0]!, (payload, signature) =>
    receiveWebhook(deps, payload, signature, new Date()),
  );
}

/** Billing dependencies for scheduled jobs (no request: the test gateway's pages are not linked from here). */
export async function jobBillingDeps(db: Database, env: Env): Promise<BillingDeps> {
  const config = getConfig(env);
  return { db, gateway: await createGateway(config.billing, env.DB, config.appUrl), config };
}
