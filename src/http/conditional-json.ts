import type { Context } from 'hono';
import { ifNoneMatchHits, weakEtag } from '../lib/etag';

/**
 * Sends a JSON read with a weak ETag over the body and the viewer, and answers a matching
 * `If-None-Match` with 304 and no body. Responses differ per viewer (favorited, following, locked),
 * hence `Vary: Authorization` and `Cache-Control: private`.
 */
export async function conditionalJson<T extends object>(c: Context, payload: T, viewerId: string | null) {
  const etag = await weakEtag(viewerId ?? '', JSON.stringify(payload));
  c.header('ETag', etag);
  c.header('Vary', 'Authorization', { append: true });
  c.header('Cache-Control', 'private, no-cache');
  if (ifNoneMatchHits(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
  return c.json(payload, 200);
}
