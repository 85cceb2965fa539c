import { createRoute, z } from '@hono/zod-openapi';
import { getConfig } from '../config';
import { createRouter } from '../router';
import { jsonResponse } from '../openapi';
import { publicJwks } from './jwt';

export const jwksRouter = createRouter();

const Jwks = z
  .object({
    keys: z
      .array(z.record(z.string(), z.string()))
      .openapi({ description: 'Public Ed25519 keys (JWK), identified by `kid`.' }),
  })
  .openapi('JWKS', { description: 'JSON Web Key Set (RFC 7517) for verifying access tokens elsewhere.' });

jwksRouter.openapi(
  createRoute({
    method: 'get',
    path: '/.well-known/jwks.json',
    tags: ['Sessions'],
    summary: 'Public keys that verify Folio access tokens (current and not-yet-retired keys)',
    description: 'For other services that verify Folio access tokens themselves. Cached for 5 minutes.',
    responses: { 200: jsonResponse(Jwks, 'JSON Web Key Set') },
  }),
  async (c) => {
    const keys = (await publicJwks(c.env, getConfig(c.env))) as Record<string, string>[];
    c.header('Cache-Control', 'public, max-age=300');
    return c.json({ keys }, 200);
  },
);
