import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env';
import { renderDocsPage } from './docs-page';

const SPEC_PATH = '/api/openapi.json';

const documentConfig = {
  openapi: '3.1.0',
  info: {
    title: 'Folio API',
    version: '1.0.0',
    description:
      'RealWorld (Conduit) compatible API with Folio extensions. Errors: {"errors": {"field": ["message"]}}.',
  },
  servers: [{ url: '/' }],
};

/** Serves the OpenAPI 3.1 document and a human docs page, built from the routes' own zod schemas. */
export function mountDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'Token', {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description: 'RealWorld style: `Token <jwt>`',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  app.doc31(SPEC_PATH, documentConfig);
  let page: string | undefined;
  app.get('/docs', (c) => {
    // The page styles itself inline and loads nothing else.
    c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    return c.html((page ??= renderDocsPage(app.getOpenAPI31Document(documentConfig), SPEC_PATH)));
  });
}
