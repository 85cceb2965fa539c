import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env';

const SPEC_PATH = '/api/openapi.json';
/** Where Workers static assets serve the renderer from (public/docs/vendor, built by scripts/docs-assets.mjs). */
const VENDOR = '/docs/vendor';

const documentConfig = {
  openapi: '3.1.0',
  info: {
    title: 'Folio API',
    version: '1.0.0',
    description: [
      'RealWorld (Conduit) compatible API with Folio extensions.',
      '',
      '- Errors always look like `{"errors": {"<field>": ["message"]}}`: 401 token missing or invalid, 403 not yours,',
      '  404 not found, 409 already taken, 422 validation, 429 rate limited (with `Retry-After`).',
      '- Authenticate with `Authorization: Token <jwt>` (RealWorld) or `Bearer <jwt>`: the `token` of the user',
      '  returned by register or login. Click **Authorize** and paste `Token <jwt>` (or just the JWT under Bearer).',
      '- Times are ISO 8601 with milliseconds (`2026-11-23T21:50:36.123Z`).',
      '- Typed client: types generated from this document live in `src/client/api.d.ts` (see README).',
    ].join('\n'),
  },
  servers: [{ url: '/', description: 'This server (same origin as the docs)' }],
};

/**
 * /docs loads only same-origin files: the renderer from static assets, its settings from /docs/init.js.
 * Swagger UI sets styles through the DOM (allowed) and draws icons as data: images.
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Folio API reference</title>
<link rel="stylesheet" href="${VENDOR}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"><noscript>The API reference needs JavaScript. The OpenAPI document is at <a href="${SPEC_PATH}">${SPEC_PATH}</a>.</noscript></div>
<script src="${VENDOR}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

/** Swagger UI settings: nothing fetched from elsewhere (no validator badge), try-it-out against this origin. */
const DOCS_INIT = `window.ui = SwaggerUIBundle(${JSON.stringify({
  url: SPEC_PATH,
  dom_id: '#swagger-ui',
  deepLinking: true,
  docExpansion: 'list',
  defaultModelsExpandDepth: 1,
  displayRequestDuration: true,
  filter: true,
  persistAuthorization: true,
  tryItOutEnabled: false,
  validatorUrl: null,
})});
`;

/** Serves the OpenAPI 3.1 document built from the routes' own zod schemas, and the interactive reference. */
export function mountDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'Token', {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description: 'RealWorld style: the header value is `Token <jwt>` (type the word `Token`, a space, then the JWT).',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The same JWT as `Authorization: Bearer <jwt>`.',
  });
  app.doc31(SPEC_PATH, documentConfig);
  app.get('/docs', (c) => {
    c.header('Content-Security-Policy', DOCS_CSP);
    c.header('Cache-Control', 'no-cache');
    return c.html(DOCS_HTML);
  });
  app.get('/docs/init.js', (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    return c.body(DOCS_INIT);
  });
}

/** The document as /api/openapi.json serves it (used to generate the typed client). */
export function openApiDocument(app: OpenAPIHono<AppEnv>) {
  return app.getOpenAPI31Document(documentConfig);
}
