import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { call } from '../helpers/request';

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3.1 document describing every mounted route', async () => {
    const res = await call('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const documented = new Set<string>();
    for (const [path, operations] of Object.entries(res.body.paths as Record<string, object>)) {
      for (const method of Object.keys(operations)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    const undocumentedAllowed = new Set(['GET /api/openapi.json', 'GET /docs', 'GET /docs/init.js']);
    const mounted = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
      .filter((r) => !undocumentedAllowed.has(r));
    expect(mounted.length).toBeGreaterThan(10);
    expect(mounted.filter((r) => !documented.has(r))).toEqual([]);
  });

  it('documents request bodies and error responses from the same zod schemas', async () => {
    const res = await call('GET', '/api/openapi.json');
    const register = res.body.paths['/api/users'].post;
    expect(register.requestBody.required).toBe(true);
    expect(Object.keys(register.responses)).toEqual(expect.arrayContaining(['201', '409', '422']));
    expect(res.body.components.schemas.NewUserRequest).toMatchObject({
      type: 'object',
      properties: { user: { type: 'object', required: ['username', 'email', 'password'] } },
    });
    expect(res.body.components.securitySchemes.Token).toEqual({
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
      description: expect.stringContaining('`Token <jwt>`'),
    });
  });
});

type Operation = {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: string; description?: string }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema: { $ref?: string } }> }>;
};

async function openApi() {
  const res = await call('GET', '/api/openapi.json');
  const operations: [string, Operation][] = [];
  for (const [path, methods] of Object.entries(res.body.paths as Record<string, Record<string, Operation>>)) {
    for (const [method, op] of Object.entries(methods)) operations.push([`${method.toUpperCase()} ${path}`, op]);
  }
  return { doc: res.body, operations };
}

/** Walks a JSON schema (and the schemas it nests) and reports each object property without a description. */
function undocumentedProperties(schema: any, at: string, out: string[]): string[] {
  if (!schema || typeof schema !== 'object') return out;
  for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, any>)) {
    if (!property.description && !property.$ref && !property.properties && !property.items?.$ref)
      out.push(`${at}.${name}`);
    undocumentedProperties(property, `${at}.${name}`, out);
  }
  if (schema.items) undocumentedProperties(schema.items, `${at}[]`, out);
  for (const key of ['anyOf', 'oneOf', 'allOf']) for (const s of schema[key] ?? []) undocumentedProperties(s, at, out);
  return out;
}

// These rules hold for every route, including routes added later: a new route is documented or this fails.
describe('the OpenAPI document, for front-end developers', () => {
  it('gives every operation a tag, a summary and a description', async () => {
    const { operations } = await openApi();
    const missing = operations
      .filter(([, op]) => !op.tags?.length || !op.summary?.trim() || !op.description?.trim())
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it('describes every parameter and every response', async () => {
    const { operations } = await openApi();
    const missing: string[] = [];
    for (const [name, op] of operations) {
      for (const p of op.parameters ?? []) if (!p.description?.trim()) missing.push(`${name} ${p.in} ${p.name}`);
      for (const [code, r] of Object.entries(op.responses)) if (!r.description?.trim()) missing.push(`${name} ${code}`);
    }
    expect(missing).toEqual([]);
  });

  it('names every JSON request and success body as a component schema (so clients get named types)', async () => {
    const { operations } = await openApi();
    const inline: string[] = [];
    for (const [name, op] of operations) {
      const bodies = [
        ['request', op.requestBody?.content['application/json']?.schema],
        ...Object.entries(op.responses)
          .filter(([code]) => code.startsWith('2'))
          .map(([code, r]) => [code, r.content?.['application/json']?.schema] as const),
      ] as const;
      for (const [which, schema] of bodies) if (schema && !schema.$ref) inline.push(`${name} ${which}`);
    }
    expect(inline).toEqual([]);
  });

  it('gives every component schema a description, and every field of it one too', async () => {
    const { doc } = await openApi();
    const schemas = Object.entries(doc.components.schemas as Record<string, any>);
    expect(schemas.length).toBeGreaterThan(20);
    expect(schemas.filter(([, s]) => !s.description?.trim()).map(([name]) => name)).toEqual([]);
    const fields = schemas.flatMap(([name, s]) => undocumentedProperties(s, name, []));
    expect(fields).toEqual([]);
  });

  it('carries examples for the main request and response bodies', async () => {
    const { doc } = await openApi();
    const withExample = [
      'NewUserRequest',
      'LoginUserRequest',
      'UpdateUserRequest',
      'UserResponse',
      'NewArticleRequest',
      'UpdateArticleRequest',
      'SingleArticleResponse',
      'MultipleArticlesResponse',
      'NewCommentRequest',
      'SingleCommentResponse',
      'MultipleCommentsResponse',
      'ProfileResponse',
      'GenericErrorModel',
    ];
    expect(withExample.filter((name) => doc.components.schemas[name]?.example === undefined)).toEqual([]);
  });

  it('keeps every example valid for the zod schema that validates or shapes that body', async () => {
    const { doc } = await openApi();
    const checked: string[] = [];
    const invalid: string[] = [];
    for (const definition of app.openAPIRegistry.definitions) {
      if (definition.type !== 'route') continue;
      const { route } = definition;
      const op = doc.paths[route.path.replace(/:(\w+)/g, '{$1}')]?.[route.method];
      const bodies: [string, any, any][] = [];
      const request = (route.request?.body as any)?.content?.['application/json'];
      if (request) bodies.push(['request', request.schema, op?.requestBody?.content['application/json']?.schema]);
      for (const [code, response] of Object.entries(route.responses as Record<string, any>)) {
        const json = response.content?.['application/json'];
        if (json) bodies.push([code, json.schema, op?.responses[code]?.content?.['application/json']?.schema]);
      }
      for (const [which, zodSchema, jsonSchema] of bodies) {
        const ref = jsonSchema?.$ref?.split('/').pop();
        const example = ref ? doc.components.schemas[ref].example : jsonSchema?.example;
        if (example === undefined || typeof zodSchema?.safeParse !== 'function') continue;
        const label = `${route.method.toUpperCase()} ${route.path} ${which}`;
        checked.push(label);
        const result = zodSchema.safeParse(example);
        if (!result.success) invalid.push(`${label}: ${JSON.stringify(result.error.issues)}`);
      }
    }
    expect(checked.length).toBeGreaterThan(10);
    expect(invalid).toEqual([]);
  });
});

describe('GET /docs', () => {
  // The page is HTML and JavaScript, which call() does not parse: go through the app directly.
  it('serves the interactive reference, loading only same-origin files under a strict CSP', async () => {
    const response = await app.request('/docs', {}, env);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-');
    const html = await response.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources).toEqual(
      expect.arrayContaining(['/docs/vendor/swagger-ui.css', '/docs/vendor/swagger-ui-bundle.js', '/docs/init.js']),
    );
    // Offline: nothing from another origin, no inline script or style (the CSP would block it).
    expect(sources.filter((s) => !s!.startsWith('/'))).toEqual([]);
    expect(html).not.toMatch(/<script>|<style|style="/);
  });

  it('points the renderer at the OpenAPI document', async () => {
    const response = await app.request('/docs/init.js', {}, env);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('javascript');
    const script = await response.text();
    expect(script).toContain('"url":"/api/openapi.json"');
    expect(script).toContain('"validatorUrl":null');
  });
});
