/**
 * Weak entity tags for conditional GETs. The tag is a hash of the response body and of who asked,
 * so two viewers never share a tag even when their bodies happen to match.
 */
import { toBase64Url } from './encoding';

/** `W/"<22 base64url chars>"`: the first 128 bits of SHA-256 over `viewer` and `body`. */
export async function weakEtag(viewer: string, body: string): Promise<string> {
  const data = new TextEncoder().encode(`${viewer}\n${body}`);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  return `W/"${toBase64Url(digest.slice(0, 16))}"`;
}

/** Weak comparison (RFC 9110 §13.1.2): true when `If-None-Match` lists `etag` (with or without `W/`) or is `*`. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const opaque = etag.replace(/^W\//, '');
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === opaque;
  });
}
