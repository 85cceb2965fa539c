import { createRoute, z } from '@hono/zod-openapi';
import { getConfig } from '../config';
import { createRouter } from '../router';
import { jsonResponse } from '../openapi';
import { publicJwks } from './jwt';

export const jwksRouter = createRouter();

const Jwks = z.object({ keys: z.array(z.record(z.string(), z.string())) }).openapi('JWKS');

jwksRouter.openapi(
  createRoute({
    method: 'get',
    path: '/.well-known/jwks.json',
    tags: ['Sessions'],
    summary: 'Public keys that verify Folio access tokens (current and not-yet-retired keys)',
    responses: { 200: jsonResponse(Jwks, 'JSON Web Key Set') },
  }),
  async (c) => {
    const keys = (await publicJwks(c.env, getConfig(c.env))) as Record<string, string>[];
    c.header('Cache-Control', 'public, max-age=300');
    return c.json({ keys }, 200);
  },
);
