import { describe, expect, it } from 'vitest';
import { DEV_SIGNING_JWK } from '../../src/sessions/dev-signing-key';
import { registerUser } from '../helpers/factories';
import { call } from '../helpers/request';
import { PRODUCTION_SECRETS } from '../helpers/production';

describe('GET /api/health', () => {
  it('answers ok without touching storage', async () => {
    const res = await call('GET', '/api/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.d1).toBe(0);
    expect(res.kv).toBe(0);
  });
});

describe('every response', () => {
  it('echoes the request id, or creates one', async () => {
    const given = await call('GET', '/api/health', { headers: { 'X-Request-Id': 'abc-123' } });
    expect(given.headers.get('X-Request-Id')).toBe('abc-123');
  });

  it('carries secure headers', async () => {
    const res = await call('GET', '/api/health');
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(res.headers.get('Strict-Transport-Security')).toBe('max-age=31536000; includeSubDomains');
    expect(res.headers.get('X-Frame-Options')).toBe('DENY');
    expect(res.headers.get('Content-Security-Policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers.get('Cache-Control')).toBe('no-store');
  });

  it('is logged as one structured line with route pattern, status, duration and storage counts', async () => {
    const user = await registerUser();
    const res = await call('GET', '/api/user', { token: user.token });
    expect(res.log).toMatchObject({
      level: 'info',
      message: 'request',
      method: 'GET',
      route: '/api/user',
      status: 200,
      d1: 1,
      kv: 1,
    });
    expect(res.log.durationMs).toEqual(expect.any(Number));
    expect(JSON.stringify(res.log)).not.toContain(user.token);
  });

  it('logs the pattern of the route that answered, even when a parameterised route also matches', async () => {
    const user = await registerUser();
    expect((await call('GET', '/api/articles/feed', { token: user.token })).log.route).toBe('/api/articles/feed');
    expect((await call('GET', '/api/articles/some-slug')).log.route).toBe('/api/articles/:slug');
    expect((await call('GET', '/api/nope')).log.route).toBe('unmatched');
  });
});

describe('CORS', () => {
  const preflight = (origin: string, env?: Record<string, string>) =>
    call('OPTIONS', '/api/user', {
      env,
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });

  it('answers preflights from a localhost front end in development before any auth check', async () => {
    const res = await preflight('http://localhost:4200');
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('http://localhost:4200');
    expect(res.headers.get('Access-Control-Allow-Methods')).toContain('PUT');
    const allowed = res.headers.get('Access-Control-Allow-Headers')!.toLowerCase();
    expect(allowed).toContain('authorization');
    expect(allowed).toContain('content-type');
  });

  it('allows only configured origins', async () => {
    const env = { ENVIRONMENT: 'production', ...PRODUCTION_SECRETS, CORS_ORIGINS: 'https://app.folio.example' };
    expect((await preflight('https://app.folio.example', env)).headers.get('Access-Control-Allow-Origin')).toBe(
      'https://app.folio.example',
    );
    expect((await preflight('http://localhost:4200', env)).headers.get('Access-Control-Allow-Origin')).toBeNull();
    expect((await preflight('https://evil.example', env)).headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('keeps CORS headers on error responses so browsers can read them', async () => {
    const res = await call('GET', '/api/user', { headers: { Origin: 'http://localhost:3000' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('http://localhost:3000');
  });
});

describe('development-only routes', () => {
  it('GET /api/dev/outbox does not exist outside development', async () => {
    const res = await call('GET', '/api/dev/outbox', {
      env: {
        ENVIRONMENT: 'production',
        ...PRODUCTION_SECRETS,
        JWT_PRIVATE_KEY: JSON.stringify({ ...DEV_SIGNING_JWK, kid: 'prod-test' }),
      },
    });
    expect(res.status).toBe(404);
  });
});

describe('production configuration', () => {
  it('refuses the development signing key', async () => {
    const res = await call('GET', '/.well-known/jwks.json', {
      env: { ENVIRONMENT: 'production', ...PRODUCTION_SECRETS, JWT_PRIVATE_KEY: JSON.stringify(DEV_SIGNING_JWK) },
    });
    expect(res.status).toBe(500);
  });

  it('works with a real key configured', async () => {
    const res = await call('GET', '/.well-known/jwks.json', {
      env: {
        ENVIRONMENT: 'production',
        ...PRODUCTION_SECRETS,
        JWT_PRIVATE_KEY: JSON.stringify({ ...DEV_SIGNING_JWK, kid: 'prod-test' }),
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.keys[0].kid).toBe('prod-test');
  });
});
