// Bench-only floor Worker (never deployed): the cheapest possible JSON answer, served exactly like
// Folio by test/bench/bench.mjs. Folio's GET /api/health is compared with it.
//   /floor/hello      the JSON answer alone
//   /floor/hello-log  the same plus one structured console.log line shaped like Folio's request log
//                     (diagnostic: what one log line costs on this runtime)
/* global Response, URL, console */
export default {
  fetch(request) {
    if (new URL(request.url).pathname === '/floor/hello-log') {
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
