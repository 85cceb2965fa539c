import { describe, expect, it } from 'vitest';
import { registerUser } from './helpers/factories';
import { call } from './helpers/request';
import { PRODUCTION_SECRETS } from './helpers/production';

/** The error contract every front end relies on: JSON `{"errors": {...}}` with the right status. */
describe('error responses', () => {
  it('unknown routes answer 404 JSON', async () => {
    const res = await call('GET', '/api/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.body).toEqual({ errors: { route: ['not found'] } });
  });

  it('malformed JSON answers 400', async () => {
    const user = await registerUser();
    const res = await call('PUT', '/api/user', {
      token: user.token,
      rawBody: '{not json',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: { body: ['is not valid JSON'] } });
  });

  it('a body that is not JSON answers 415, never reaching the handler', async () => {
    const res = await call('POST', '/api/users/login', {
      rawBody: 'email=a',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ errors: { body: ['must be sent as application/json'] } });
  });

  it('a missing body answers 422 with the fields it needs', async () => {
    const res = await call('POST', '/api/users/login');
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual({ user: ["can't be blank"] });
  });

  it('bodies over the configured size answer 413', async () => {
    const res = await call('POST', '/api/users', {
      rawBody: JSON.stringify({ user: { username: 'x', email: 'x@example.com', password: 'x'.repeat(200_000) } }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ errors: { body: ['is too large'] } });
  });

  it('validation errors answer 422 keyed by field', async () => {
    const res = await call('POST', '/api/users', {
      body: { user: { username: 'ok', email: 'bad', password: 'password123' } },
    });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ errors: { email: ['is invalid'] } });
  });

  it('unexpected failures answer a generic 500 with the request id, never internals', async () => {
    // A production Worker without its signing key cannot issue tokens: a server error, reported generically.
    const res = await call('POST', '/api/users', {
      env: { ENVIRONMENT: 'production', ...PRODUCTION_SECRETS },
      headers: { 'X-Request-Id': 'req-config-check' },
      body: { user: { username: 'prodcheck', email: 'prodcheck@example.com', password: 'password123' } },
    });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ errors: { server: ['internal error (request id req-config-check)'] } });
    expect(JSON.stringify(res.body)).not.toMatch(/JWT_PRIVATE_KEY|at |stack/i);
  });
});

describe('validation messages', () => {
  it('a missing or null field is "can\'t be blank"; a present value of the wrong type says what is expected', async () => {
    const { registerUser } = await import('./helpers/factories');
    const { call } = await import('./helpers/request');
    const user = await registerUser();
    const bad = await call('POST', '/api/articles', {
      token: user.token,
      body: { article: { title: 42, description: null, tagList: ['ok'] } },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.description).toEqual(["can't be blank"]);
    expect(bad.body.errors.body).toEqual(["can't be blank"]);
    expect(bad.body.errors.title).toEqual(['must be a string']);
  });
});
