// Bench-only floor Worker (never deployed): the cheapest possible JSON answer, served exactly like
// Folio by test/bench/bench.mjs. Folio's GET /api/health is compared with it.
/* global Response */
export default {
  fetch() {
    return Response.json({ status: 'ok' });
  },
};
