import { toBase64Url } from './encoding';

/** A random opaque token (256 bits), for refresh, verification and reset tokens. */
export function randomToken(bytes = 32): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A random identifier with a readable prefix, e.g. `usr_3kF...` (128 bits). */
export function newId(prefix: string): string {
  return `${prefix}_${randomToken(16)}`;
}

/**
 * SHA-256 of a token, base64url. Opaque tokens are stored only as this hash, so a leaked database
 * cannot be replayed; a fast hash is enough because the tokens themselves carry 256 bits of entropy.
 */
export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return toBase64Url(new Uint8Array(digest));
}
