import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { ifNoneMatchHits, weakEtag } from '../lib/etag';
import { PUBLIC_READ_CACHE_CONTROL } from './edge-cache';

/**
 * Sends a JSON read with a weak ETag over the body and the viewer, and answers a matching
 * `If-None-Match` with 304 and no body. Responses differ per viewer (favorited, following, locked),
 * hence `Vary: Authorization`; a signed-in viewer's copy is `private`, an anonymous one `public`
 * (and may be kept by the edge cache, `edge-cache.ts`). Both revalidate with the ETag every time.
 */
export async function conditionalJson<E extends AppEnv, T extends object>(
  c: Context<E>,
  payload: T,
  viewerId: string | null,
) {
  const text = JSON.stringify(payload);
  const etag = await weakEtag(viewerId ?? '', text);
  c.header('ETag', etag);
  c.header('Vary', 'Authorization', { append: true });
  c.header('Cache-Control', viewerId === null ? PUBLIC_READ_CACHE_CONTROL : 'private, no-cache');
  if (viewerId === null) c.set('publicReadBody', text);
  if (ifNoneMatchHits(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
  // The body is the very text the tag was computed over (serialized once).
  return c.body(text, 200, { 'Content-Type': 'application/json' });
}
