import { createRoute } from '@hono/zod-openapi';
import { conditionalJson } from '../http/conditional-json';
import { edgeCached } from '../http/edge-cache';
import { optionalAuth, requireAuth } from '../sessions/sessions.middleware';
import { createRouter } from '../router';
import { errors, jsonResponse, tokenAuth } from '../openapi';
import { toProfile } from './profiles.present';
import { ProfileResponse, UsernameParam } from './profiles.schemas';
import { followUser, getProfile, unfollowUser } from './profiles.service';

export const profilesRouter = createRouter();
const tags = ['Profile'];

profilesRouter.openapi(
  createRoute({
    method: 'get',
    path: '/profiles/{username}',
    tags,
    summary: 'Get a profile',
    description: 'Authentication optional: `following` is computed for the signed-in viewer.',
    middleware: [edgeCached, optionalAuth] as const,
    security: [{}, ...tokenAuth],
    request: { params: UsernameParam },
    responses: {
      200: jsonResponse(ProfileResponse, 'The profile'),
      304: { description: 'Not modified' },
      404: errors[404],
    },
  }),
  async (c) => {
    const viewerId = c.get('auth')?.userId ?? null;
    const profile = await getProfile(c.get('db'), c.req.valid('param').username, viewerId);
    return conditionalJson(c, { profile: toProfile(profile) }, viewerId);
  },
);

profilesRouter.openapi(
  createRoute({
    method: 'post',
    path: '/profiles/{username}/follow',
    tags,
    summary: 'Follow a user',
    description:
      'Idempotent. Following yourself answers 422. Follows and unfollows together: at most 200 an hour per account (429 with `Retry-After`).',
    middleware: requireAuth,
    security: tokenAuth,
    request: { params: UsernameParam },
    responses: {
      200: jsonResponse(ProfileResponse, 'The followed profile'),
      401: errors[401],
      404: errors[404],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const profile = await followUser(c.get('db'), c.get('auth').userId, c.req.valid('param').username, new Date());
    return c.json({ profile: toProfile(profile) }, 200);
  },
);

profilesRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/profiles/{username}/follow',
    tags,
    summary: 'Unfollow a user',
    description:
      'Idempotent: unfollowing someone you do not follow is not an error. Follows and unfollows together: at most 200 an hour per account (429 with `Retry-After`).',
    middleware: requireAuth,
    security: tokenAuth,
    request: { params: UsernameParam },
    responses: {
      200: jsonResponse(ProfileResponse, 'The unfollowed profile'),
      401: errors[401],
      404: errors[404],
      429: errors[429],
    },
  }),
  async (c) => {
    const profile = await unfollowUser(c.get('db'), c.get('auth').userId, c.req.valid('param').username, new Date());
    return c.json({ profile: toProfile(profile) }, 200);
  },
);
