/**
 * The payment gateway: the official Stripe SDK, pinned to one API version, on the Workers runtime
 * (fetch HTTP client, SubtleCrypto). With GATEWAY=test its HTTP calls go, through the SDK's
 * custom-fetch hook, to the in-process fake (fake-stripe.ts) instead of api.stripe.com — the same
 * SDK calls, the same code path.
 */
import Stripe from 'stripe';
import type { BillingConfig } from '../../config';
import { createDb } from '../../db/client';
import { fakeStripeFetch } from './fake-stripe';
import { STRIPE_API_VERSION } from './fake-store';

export type Gateway = Stripe;
export type GatewayEvent = Stripe.Event;
export type GatewaySubscription = Stripe.Subscription;
export type GatewayCheckoutSession = Stripe.Checkout.Session;

/** Webhook signatures are computed and checked with WebCrypto (no Node crypto on Workers). */
export const cryptoProvider = Stripe.createSubtleCryptoProvider();

const live = new Map<string, Stripe>();

/**
 * The SDK client. Real Stripe clients are reused per secret key (the SDK holds no per-request
 * state); the test gateway's is built per call because it binds the request's D1 and origin.
 */
export function createGateway(config: BillingConfig, d1: D1Database, origin: string): Gateway {
  const options = {
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: 2,
    timeout: 10_000,
    telemetry: false,
  } as const;
  if (config.gateway === 'test') {
    const fetchFn = fakeStripeFetch({ db: createDb(d1), origin });
    return new Stripe(config.secretKey, { ...options, httpClient: Stripe.createFetchHttpClient(fetchFn) });
  }
  let client = live.get(config.secretKey);
  if (!client) {
    client = new Stripe(config.secretKey, { ...options, httpClient: Stripe.createFetchHttpClient() });
    live.set(config.secretKey, client);
  }
  return client;
}

/** A Stripe-Signature header for `payload`, as Stripe computes it (used by the test gateway and tests). */
export function signPayload(payload: string, secret: string, timestamp?: number): Promise<string> {
  return Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret, timestamp, cryptoProvider });
}
