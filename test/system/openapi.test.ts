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
    expect(res.body.components.schemas.NewUserRequest).toBeDefined();
    expect(res.body.components.securitySchemes.Token).toBeDefined();
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
