import { fromBase64Url, toBase64Url } from './encoding';

/**
 * Password hashing with PBKDF2-SHA256. 100,000 iterations is the maximum the Workers runtime allows
 * in production (local workerd does not enforce it, so a test pins this value). Hashes are stored as
 * one self-describing string, `pbkdf2-sha256$<iterations>$<salt>$<hash>`, so parameters can be
 * upgraded on the next successful login.
 */
export const PBKDF2_ITERATIONS = 100_000;
export const PASSWORD_MIN_LENGTH = 8;
/** Enforced on every path that hashes (login included), so long inputs cannot burn CPU. */
export const PASSWORD_MAX_LENGTH = 128;

/**
 * Stored for accounts created by social sign-in, which have no password until one is set through a
 * password reset: it parses as no hash, so no password ever matches it.
 */
export const NO_PASSWORD = '!none';

const ALGORITHM = 'pbkdf2-sha256';
const SALT_BYTES = 16;
const HASH_BITS = 256;

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, HASH_BITS);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, iterations);
  return `${ALGORITHM}$${iterations}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

interface ParsedHash {
  iterations: number;
  salt: Uint8Array;
  hash: Uint8Array;
}

function parse(stored: string): ParsedHash | null {
  const [algorithm, iterations, salt, hash] = stored.split('$');
  if (algorithm !== ALGORITHM || !iterations || !salt || !hash) return null;
  const n = Number(iterations);
  if (!Number.isInteger(n) || n < 1 || n > PBKDF2_ITERATIONS) return null;
  return { iterations: n, salt: fromBase64Url(salt), hash: fromBase64Url(hash) };
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  const candidate = await derive(password, parsed.salt, parsed.iterations);
  return constantTimeEqual(candidate, parsed.hash);
}

/** True when a stored hash uses weaker parameters than today's and should be rehashed. */
export function needsRehash(stored: string): boolean {
  return parse(stored)?.iterations !== PBKDF2_ITERATIONS;
}

/**
 * A well-formed hash of a random password, verified against when an email is unknown so that a
 * failed login costs the same time whether or not the account exists.
 */
export const DUMMY_PASSWORD_HASH =
  'pbkdf2-sha256$100000$3q2-7wAAAAAAAAAAAAAAAA$n9yXo4aQ0ZbVhK3Kk1tq0b6mQk0yq8mV0yq8mV0yq8k';
