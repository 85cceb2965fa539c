// Bench-only floor Worker (never deployed): the cheapest possible JSON answer, served exactly like
// Folio by test/bench/bench.mjs. Folio's GET /api/health is compared with it.
//   /floor/hello      the JSON answer alone
//   /floor/hello-log  the same plus one structured console.log line shaped like Folio's request log
//                     (diagnostic: what one log line costs on this runtime)
//   /floor/hello-cache  the JSON answer from the Cache API after two lookups made at once, as an
//                     edge-cache hit needs them (the location's version and the entry; diagnostic: what
//                     the cache itself costs on this runtime, locally Miniflare's cache service)
//   /floor/hello-cache1  the same from one Cache API lookup (diagnostic: the least any design that answers
//                     from the Cache API pays, whatever it keeps in the isolate)
/* global Response, URL, console, caches */
const VERSION_KEY = 'http://floor.bench/__version';
const ENTRY_KEY = 'http://floor.bench/__entry';

async function cachedHello() {
  const cache = caches.default;
  // Both lookups at once, as Folio's edge cache makes them.
  let [version, entry] = await Promise.all([cache.match(VERSION_KEY), cache.match(ENTRY_KEY)]);
  if (!version) {
    await cache.put(VERSION_KEY, new Response(null, { headers: { 'Cache-Control': 'max-age=3600', 'X-V': '1' } }));
    version = await cache.match(VERSION_KEY);
  }
  if (!entry) {
    await cache.put(ENTRY_KEY, Response.json({ status: 'ok' }, { headers: { 'Cache-Control': 'max-age=3600' } }));
    entry = await cache.match(ENTRY_KEY);
  }
  return new Response(entry.body, {
    headers: { 'Content-Type': 'application/json', 'X-V': version.headers.get('X-V') },
  });
}

async function cachedHelloOneLookup() {
  const cache = caches.default;
  let entry = await cache.match(ENTRY_KEY);
  if (!entry) {
    await cache.put(ENTRY_KEY, Response.json({ status: 'ok' }, { headers: { 'Cache-Control': 'max-age=3600' } }));
    entry = await cache.match(ENTRY_KEY);
  }
  return new Response(entry.body, { headers: { 'Content-Type': 'application/json' } });
}

export default {
  fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === '/floor/hello-cache') return cachedHello();
    if (pathname === '/floor/hello-cache1') return cachedHelloOneLookup();
    if (pathname === '/floor/hello-log') {
      console.log(
        JSON.stringify({
          level: 'info',
          message: 'request',
          requestId: request.headers.get('X-Request-Id') ?? 'none',
          method: request.method,
          route: '/floor/hello-log',
          status: 200,
          durationMs: 0,
          d1: 0,
          kv: 0,
        }),
      );
    }
    return Response.json({ status: 'ok' });
  },
};
