/**
 * Anonymous public reads served from the edge cache (the Workers Cache API, one cache per Cloudflare
 * location), without touching D1.
 *
 * Every stored entry is labelled with the location's current *version*, a random token kept in the
 * same cache, and is served only while that version is still current. A write purges its own location
 * at once by replacing the version (so the next read there, by anyone, is fresh: read-your-writes
 * within the location that took the write). Other locations cannot be reached from here: their
 * version expires `PUBLIC_CACHE_SECONDS` after it was made, and with it every entry labelled with it,
 * so no location serves a copy older than that bound.
 *
 * The label is in the entry, not in its key, so a read looks up the version and the entry at the same
 * time: a hit costs one cache round trip of latency, not two in a row.
 *
 * Only requests without an `Authorization` header are looked up or stored; signed-in responses are
 * `private` and never enter a shared cache.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { getConfig } from '../config';
import type { AppEnv } from '../env';
import { ifNoneMatchHits } from '../lib/etag';

const VERSION_PATH = '/__folio/public-reads/version';
/** Tells clients (and tests) whether the edge cache answered. */
const EDGE_CACHE_HEADER = 'Folio-Cache';
/** What a browser or another cache in front of us may do with an anonymous read: revalidate with the ETag. */
export const PUBLIC_READ_CACHE_CONTROL = 'public, max-age=0, must-revalidate';

/** The version entry keeps its token and birth time in headers, so reading it needs no body. */
const VERSION_HEADER = 'Folio-Version';
const VERSION_AT_HEADER = 'Folio-Version-At';

async function replaceVersion(cache: Cache, origin: string, seconds: number): Promise<string> {
  const version = crypto.randomUUID();
  await cache.put(
    origin + VERSION_PATH,
    new Response(null, {
      headers: {
        'Cache-Control': `max-age=${seconds}`,
        [VERSION_HEADER]: version,
        [VERSION_AT_HEADER]: String(Date.now()),
      },
    }),
  );
  return version;
}

/** The location's version, or a new one when it is missing or older than the bound. */
async function currentVersion(cache: Cache, origin: string, seconds: number): Promise<string> {
  const hit = await cache.match(origin + VERSION_PATH);
  const version = hit?.headers.get(VERSION_HEADER);
  if (version && Date.now() - Number(hit!.headers.get(VERSION_AT_HEADER)) < seconds * 1000) return version;
  return replaceVersion(cache, origin, seconds);
}

/** Query parameters sorted, so `?limit=10&offset=0` and `?offset=0&limit=10` share an entry. */
function cacheKey(url: URL): string {
  const params = [...url.searchParams].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${url.origin}/__folio/public-reads${url.pathname}?${new URLSearchParams(params)}`;
}

/**
 * The location's current version and the entry for `url` when it was stored under that version, both
 * looked up at once. An entry of an older version is never served (the caller overwrites it).
 */
export async function lookUpPublicRead(
  cache: Cache,
  url: URL,
  seconds: number,
): Promise<{ key: string; version: string; entry: Response | undefined }> {
  const key = cacheKey(url);
  const [version, stored] = await Promise.all([currentVersion(cache, url.origin, seconds), cache.match(key)]);
  if (stored && stored.headers.get(VERSION_HEADER) === version) return { key, version, entry: stored };
  // A stale entry's body is never read: release it.
  if (stored?.body) void stored.body.cancel();
  return { key, version, entry: undefined };
}

function enabled(c: Context<AppEnv>): number {
  const seconds = getConfig(c.env).publicCacheSeconds;
  return seconds > 0 && typeof caches !== 'undefined' ? seconds : 0;
}

/**
 * Route middleware for public reads (before `optionalAuth`): an anonymous GET is answered from the
 * cache when it can be, else run and, when its answer is a public 200, stored for the next reader.
 */
export const edgeCached = createMiddleware<AppEnv>(async function edgeCached(c, next) {
  const seconds = enabled(c);
  if (!seconds || c.req.header('Authorization') !== undefined) return next();
  const cache = caches.default;
  const url = new URL(c.req.url);
  const { key, version, entry: cached } = await lookUpPublicRead(cache, url, seconds);
  if (cached) {
    const etag = cached.headers.get('ETag') ?? '';
    c.header(EDGE_CACHE_HEADER, 'hit');
    c.header('Cache-Control', PUBLIC_READ_CACHE_CONTROL);
    c.header('Vary', 'Authorization');
    c.header('ETag', etag);
    if (etag && ifNoneMatchHits(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
    return c.body(cached.body!, 200, { 'Content-Type': 'application/json' });
  }
  await next();
  c.header(EDGE_CACHE_HEADER, 'miss');
  if (c.res.status !== 200 || c.res.headers.get('Cache-Control') !== PUBLIC_READ_CACHE_CONTROL) return;
  // Only the body and its tag are kept: request ids, CORS and bookmarks belong to each request.
  const body = c.get('publicReadBody') ?? (await c.res.clone().arrayBuffer());
  const stored = new Response(body, {
    headers: {
      'Cache-Control': `max-age=${seconds}`,
      ETag: c.res.headers.get('ETag') ?? '',
      [VERSION_HEADER]: version,
    },
  });
  c.executionCtx.waitUntil(cache.put(key, stored));
});

/**
 * App middleware for the paths whose writes change what public reads show (articles, comments,
 * favorites, profiles): after a successful write, this location's cached reads are dropped before
 * the response leaves, so the writer's next read, signed in or not, sees the change. A handler whose
 * write changed no public read (creating, editing or deleting a draft or a scheduled article) sets
 * `publicReadsUnchanged`, so an author's autosaves do not empty the location's cache.
 */
export const purgesPublicReads = createMiddleware<AppEnv>(function purgesPublicReads(c, next) {
  const method = c.req.method;
  // Reads pass straight through (no extra await on the read path).
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
  return purgeAfter(c, next);
});

async function purgeAfter(c: Context<AppEnv>, next: () => Promise<void>): Promise<void> {
  await next();
  // A refused write, or one whose handler says anonymous readers see no difference (a draft's edits).
  if (c.res.status >= 400 || c.get('publicReadsUnchanged')) return;
  const seconds = enabled(c);
  if (seconds) await replaceVersion(caches.default, new URL(c.req.url).origin, seconds);
}
