import { generateHOTP } from '@oslojs/otp';

/** RFC 4648 base32 (no padding), as in the otpauth:// URI the API returns. */
function base32Decode(text: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text.replace(/=+$/, '').toUpperCase()) {
    const index = alphabet.indexOf(ch);
    if (index < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

/** The code an authenticator app shows for `secret` at `offsetSteps` 30-second steps from now. */
export function totpCode(secret: string, offsetSteps = 0, at = Date.now()): string {
  const step = Math.floor(at / 1000 / 30) + offsetSteps;
  return generateHOTP(base32Decode(secret), BigInt(step), 6);
}

/** Decodes (without verifying: the API verified it) an access token's claims for assertions. */
export function claimsOf(token: string): Record<string, any> {
  const [, payload] = token.split('.');
  return JSON.parse(atob(payload!.replace(/-/g, '+').replace(/_/g, '/')));
}
