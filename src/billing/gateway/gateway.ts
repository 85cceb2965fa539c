/**
 * The payment gateway: the official Stripe SDK, pinned to one API version, on the Workers runtime
 * (fetch HTTP client, SubtleCrypto). With GATEWAY=test its HTTP calls go, through the SDK's
 * custom-fetch hook, to the in-process fake (fake-stripe.ts) instead of api.stripe.com — the same
 * SDK calls, the same code path.
 *
 * The SDK is loaded on first use (dynamic import): it is about 40% of the bundle, and evaluating
 * it at isolate startup would slow every cold start, including those that never touch billing.
 */
import type Stripe from 'stripe';
import type { BillingConfig } from '../../config';
import { createDb } from '../../db/client';
import { fakeStripeFetch } from './fake-stripe';
import { STRIPE_API_VERSION } from './fake-store';

export type Gateway = Stripe;
export type GatewayEvent = Stripe.Event;
export type GatewaySubscription = Stripe.Subscription;
export type GatewayCheckoutSession = Stripe.Checkout.Session;
type CryptoProvider = ReturnType<typeof Stripe.createSubtleCryptoProvider>;

let sdk: Promise<{ Stripe: typeof Stripe; cryptoProvider: CryptoProvider }> | undefined;

/** The SDK class and its WebCrypto provider (webhook signatures: no Node crypto on Workers). */
export function loadStripe() {
  sdk ??= import('stripe').then(({ default: S }) => ({ Stripe: S, cryptoProvider: S.createSubtleCryptoProvider() }));
  return sdk;
}

const live = new Map<string, Stripe>();

/**
 * The SDK client. Real Stripe clients are reused per secret key (the SDK holds no per-request
 * state); the test gateway's is built per call because it binds the request's D1 and origin.
 */
export async function createGateway(config: BillingConfig, d1: D1Database, origin: string): Promise<Gateway> {
  const { Stripe: S } = await loadStripe();
  const options = { apiVersion: STRIPE_API_VERSION, maxNetworkRetries: 2, timeout: 10_000, telemetry: false } as const;
  if (config.gateway === 'test') {
    const fetchFn = fakeStripeFetch({ db: createDb(d1), origin });
    return new S(config.secretKey, { ...options, httpClient: S.createFetchHttpClient(fetchFn) });
  }
  let client = live.get(config.secretKey);
  if (!client) {
    client = new S(config.secretKey, { ...options, httpClient: S.createFetchHttpClient() });
    live.set(config.secretKey, client);
  }
  return client;
}

/** A Stripe-Signature header for `payload`, as Stripe computes it (the test gateway signs its events so). */
export async function signPayload(payload: string, secret: string, timestamp?: number): Promise<string> {
  const { Stripe: S, cryptoProvider } = await loadStripe();
  return S.webhooks.generateTestHeaderStringAsync({ payload, secret, timestamp, cryptoProvider });
}

/** Stripe's error class name for a failed SDK call (`StripeIdempotencyError`, ...), if it is one. */
export function gatewayErrorType(err: unknown): string | undefined {
  const type = (err as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.startsWith('Stripe') ? type : undefined;
}
