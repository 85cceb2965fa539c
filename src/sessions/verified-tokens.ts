import type { AppConfig } from '../config';
import { verifyAccessToken } from './jwt';

type Claims = NonNullable<Awaited<ReturnType<typeof verifyAccessToken>>>;

/** Verified tokens kept per isolate: the signature check is the costliest step of a signed-in read. */
const verified = new Map<string, { claims: Claims; config: AppConfig; until: number }>();
const MAX_ENTRIES = 5_000;
/** A kept verification is redone at least this often, so a retired signing key stops working soon. */
const MAX_KEEP_MS = 5 * 60 * 1000;

/**
 * `verifyAccessToken`, remembered per isolate for the exact token string until the sooner of its expiry
 * and five minutes. Safe because the same string carries the same signature and claims; expiry is
 * checked again on every use, and revocation is never cached here (the session check follows).
 */
export async function verifyAccessTokenOnce(
  env: Env,
  config: AppConfig,
  token: string,
  now: Date,
): Promise<Claims | null> {
  const kept = verified.get(token);
  if (kept && kept.config === config && now.getTime() < kept.until) return kept.claims;
  const claims = await verifyAccessToken(env, config, token, now);
  if (!claims) {
    verified.delete(token);
    return null;
  }
  if (verified.size >= MAX_ENTRIES) verified.delete(verified.keys().next().value!);
  verified.set(token, {
    claims,
    config,
    until: Math.min(claims.expiresAt * 1000, now.getTime() + MAX_KEEP_MS),
  });
  return claims;
}
