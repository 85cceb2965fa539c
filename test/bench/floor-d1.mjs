// Bench-only floor Worker (never deployed): plain D1 reads on the same seeded state Folio reads,
// served exactly like Folio by test/bench/bench.mjs. No framework, no validation, no auth, no log
// line: one prepared statement and Response.json. Folio's reads are compared with it.
//   /floor/d1/one?id=N      one article row by primary key (with its body)
//   /floor/d1/page?offset=N a 20-row page of articles, newest id first (no body)
//   /floor/d1/one-kv?id=N   one KV read (a session key, as a signed-in request's check does) and
//                           then the one-row read (diagnostic: what the KV read costs on this runtime)
//   /floor/d1/page-kv?offset=N  the same KV read, then the 20-row page (diagnostic, for signed-in lists)
// Each answer reports D1's rows_read for its one query in `X-Floor-Rows-Read`.
/* global Response, URL */
const ONE =
  'SELECT id, slug, title, description, body, author_id, tag_list, favorites_count, created_at, updated_at ' +
  'FROM articles WHERE id = ?';
const PAGE =
  'SELECT id, slug, title, description, author_id, tag_list, favorites_count, created_at, updated_at ' +
  'FROM articles ORDER BY id DESC LIMIT 20 OFFSET ?';

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/floor/d1/one-kv' || url.pathname === '/floor/d1/page-kv') {
      await env.SESSIONS.get(`session:floor-${url.searchParams.get('id') ?? url.searchParams.get('offset')}`);
    }
    if (url.pathname === '/floor/d1/one' || url.pathname === '/floor/d1/one-kv') {
      const { results, meta } = await env.DB.prepare(ONE)
        .bind(Number(url.searchParams.get('id') ?? 1))
        .all();
      if (results.length === 0) return Response.json({ errors: { article: ['not found'] } }, { status: 404 });
      return Response.json({ article: results[0] }, { headers: { 'X-Floor-Rows-Read': String(meta.rows_read) } });
    }
    if (url.pathname === '/floor/d1/page' || url.pathname === '/floor/d1/page-kv') {
      const { results, meta } = await env.DB.prepare(PAGE)
        .bind(Number(url.searchParams.get('offset') ?? 0))
        .all();
      return Response.json(
        { articles: results, articlesCount: results.length },
        { headers: { 'X-Floor-Rows-Read': String(meta.rows_read) } },
      );
    }
    return Response.json({ errors: { route: ['not found'] } }, { status: 404 });
  },
};
