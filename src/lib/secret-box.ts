import { fromBase64Url, toBase64Url } from './encoding';

/**
 * AES-256-GCM encryption of small secrets at rest (TOTP seeds). The output is `v1.<iv>.<ciphertext>`
 * (base64url); `context` (e.g. the user id) is bound as additional data, so a ciphertext copied to
 * another row does not decrypt.
 */
const keys = new Map<string, Promise<CryptoKey>>();

function importKey(keyText: string): Promise<CryptoKey> {
  let key = keys.get(keyText);
  if (!key) {
    key = crypto.subtle.importKey('raw', fromBase64Url(keyText), 'AES-GCM', false, ['encrypt', 'decrypt']);
    keys.set(keyText, key);
  }
  return key;
}

export async function sealSecret(keyText: string, plaintext: Uint8Array, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(context) },
    await importKey(keyText),
    plaintext,
  );
  return `v1.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(ciphertext))}`;
}

/** Throws when the ciphertext was tampered with, belongs to another context or another key. */
export async function openSecret(keyText: string, sealed: string, context: string): Promise<Uint8Array> {
  const [version, iv, ciphertext] = sealed.split('.');
  if (version !== 'v1' || !iv || !ciphertext) throw new Error('unknown secret format');
  const plaintext = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: fromBase64Url(iv), additionalData: new TextEncoder().encode(context) },
    await importKey(keyText),
    fromBase64Url(ciphertext),
  );
  return new Uint8Array(plaintext);
}
