import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env';
import { renderDocsPage } from './system/docs-page';

/** The error body every failure answers with. */
export const ErrorBody = z
  .object({ errors: z.record(z.string(), z.array(z.string())) })
  .openapi('GenericErrorModel', { example: { errors: { body: ["can't be blank"] } } });

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorBody } },
});

/** Standard error responses, picked per route. */
export const errors = {
  400: errorResponse('Malformed request (e.g. invalid JSON)'),
  401: errorResponse('Missing or invalid credentials'),
  403: errorResponse('Not allowed'),
  404: errorResponse('Not found'),
  409: errorResponse('Conflict'),
  413: errorResponse('Body too large'),
  422: errorResponse('Validation failed'),
  429: errorResponse('Too many requests; see Retry-After'),
} as const;

/** A required JSON request body: validated (and documented) even when Content-Type is missing. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { body: { required: true, description, content: { 'application/json': { schema } } } } as const;
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** Routes behind `requireAuth` declare this. */
export const tokenAuth: Record<string, string[]>[] = [{ Token: [] }, { Bearer: [] }];

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
  app.get('/docs', (c) => c.html((page ??= renderDocsPage(app.getOpenAPI31Document(documentConfig), SPEC_PATH))));
}
