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
    const undocumentedAllowed = new Set(['GET /api/openapi.json', 'GET /docs']);
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
    expect(res.body.components.schemas.NewUserRequest).toBeDefined();
    expect(res.body.components.securitySchemes.Token).toBeDefined();
  });
});

describe('GET /docs', () => {
  it('serves a human-readable API page', async () => {
    // The page is HTML, which call() does not parse: go through the app directly.
    const response = await app.request('/docs', {}, env);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('/api/openapi.json');
    expect(html).toContain('<code>/api/articles/{slug}/comments</code>');
    // Self-contained: usable offline, nothing loaded from elsewhere.
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!localhost)[^"]*\.(js|css)/);
  });
});
