import { createRoute } from '@hono/zod-openapi';
import { errors, jsonBody, jsonResponse, tokenAuth } from '../openapi';
import { toProfile } from '../profiles/profiles.present';
import { UsernameParam } from '../profiles/profiles.schemas';
import { createRouter } from '../router';
import { requireAuth } from '../sessions/sessions.middleware';
import { blockUser, getDmPolicy, listBlocks, setDmPolicy, unblockUser } from './blocks.service';
import { BlockResponse, MessagingSettingsBody, MessagingSettingsResponse, ProfilesResponse } from './messages.schemas';

export const blocksRouter = createRouter();
const tags = ['Messaging'];

blocksRouter.openapi(
  createRoute({
    method: 'post',
    path: '/profiles/{username}/block',
    tags,
    summary: 'Block a member',
    description:
      'Idempotent. Stops new conversations and new messages between you, in either direction, in every shared conversation. History stays readable.',
    security: tokenAuth,
    middleware: requireAuth,
    request: { params: UsernameParam },
    responses: { 200: jsonResponse(BlockResponse, 'Blocked'), 401: errors[401], 404: errors[404], 422: errors[422] },
  }),
  async (c) => {
    const row = await blockUser(c.get('db'), c.get('auth').userId, c.req.valid('param').username, new Date());
    return c.json({ profile: { ...toProfile({ ...row, following: Boolean(row.following) }), blocked: true } }, 200);
  },
);

blocksRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/profiles/{username}/block',
    tags,
    summary: 'Unblock a member',
    description: 'Idempotent.',
    security: tokenAuth,
    middleware: requireAuth,
    request: { params: UsernameParam },
    responses: { 200: jsonResponse(BlockResponse, 'Unblocked'), 401: errors[401], 404: errors[404] },
  }),
  async (c) => {
    const row = await unblockUser(c.get('db'), c.get('auth').userId, c.req.valid('param').username);
    return c.json({ profile: { ...toProfile({ ...row, following: Boolean(row.following) }), blocked: false } }, 200);
  },
);

blocksRouter.openapi(
  createRoute({
    method: 'get',
    path: '/user/blocks',
    tags,
    summary: 'Members you blocked',
    description: 'Newest block first (at most 1000).',
    security: tokenAuth,
    middleware: requireAuth,
    responses: { 200: jsonResponse(ProfilesResponse, 'Blocked members, newest block first'), 401: errors[401] },
  }),
  async (c) => {
    const list = await listBlocks(c.get('db'), c.get('auth').userId);
    c.header('Cache-Control', 'private, no-store');
    return c.json({ profiles: list.map((r) => toProfile({ ...r, following: Boolean(r.following) })) }, 200);
  },
);

blocksRouter.openapi(
  createRoute({
    method: 'get',
    path: '/user/messaging',
    tags,
    summary: 'Your messaging settings',
    description: 'Currently `dmPolicy`: who may start a conversation with you.',
    security: tokenAuth,
    middleware: requireAuth,
    responses: { 200: jsonResponse(MessagingSettingsResponse, 'Settings'), 401: errors[401] },
  }),
  async (c) => {
    c.header('Cache-Control', 'private, no-store');
    return c.json({ messaging: { dmPolicy: await getDmPolicy(c.get('db'), c.get('auth').userId) } }, 200);
  },
);

blocksRouter.openapi(
  createRoute({
    method: 'put',
    path: '/user/messaging',
    tags,
    summary: 'Set who may start conversations with you',
    description:
      '`dmPolicy`: `everyone` (default), `following` (only people you follow) or `nobody`. Existing conversations are not affected (use blocks for that).',
    security: tokenAuth,
    middleware: requireAuth,
    request: jsonBody(MessagingSettingsBody),
    responses: { 200: jsonResponse(MessagingSettingsResponse, 'Saved'), 401: errors[401], 422: errors[422] },
  }),
  async (c) => {
    const { dmPolicy } = c.req.valid('json').messaging;
    return c.json({ messaging: { dmPolicy: await setDmPolicy(c.get('db'), c.get('auth').userId, dmPolicy) } }, 200);
  },
);
