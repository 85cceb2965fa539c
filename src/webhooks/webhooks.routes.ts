import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getConfig } from '../config';
import type { AppEnv } from '../env';
import { idempotencyClaim, idempotent } from '../middleware/idempotency';
import { errors, IdempotencyHeaders, jsonBody, jsonResponse, tokenAuth } from '../openapi';
import { createRouter } from '../router';
import type { AuditActor } from '../security/audit';
import { requireAuth, requirePermission, type AuthEnv } from '../sessions/sessions.middleware';
import { WEBHOOK_EVENTS } from './webhook-events';
import { fetchWebhookSender } from './webhooks.sender';
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  rotateSecret,
  sendTestEvent,
  updateEndpoint,
  type DeliveryRow,
  type EndpointRow,
} from './webhooks.service';

/** /api/admin/webhooks: every route needs `manage:webhooks`. */
export const webhooksRouter = createRouter();
const tags = ['Admin: webhooks'];
const middleware = [requireAuth, requirePermission('manage:webhooks')] as [
  typeof requireAuth,
  ReturnType<typeof requirePermission>,
];
const denied = { 401: errors[401], 403: errors[403] };

function actorOf(c: Context<AppEnv & AuthEnv>): AuditActor {
  return { actorId: c.get('auth').userId, requestId: c.get('requestId') };
}

const iso = (description: string) => z.string().openapi({ format: 'date-time', description });
const eventList = z
  .array(z.enum(WEBHOOK_EVENTS))
  .openapi({ description: `Event types it receives: ${WEBHOOK_EVENTS.join(', ')}.` });
const Endpoint = z
  .object({
    id: z.string().openapi({ description: 'Endpoint id.' }),
    url: z.string().openapi({ description: 'Where deliveries are POSTed.' }),
    description: z.string().nullable().openapi({ description: 'A note for admins.' }),
    events: eventList,
    enabled: z.boolean().openapi({ description: 'Disabled endpoints receive nothing (and get no new events).' }),
    consecutiveFailures: z.number().int().openapi({ description: 'Failed attempts in a row (10 disables it).' }),
    disabledReason: z.string().nullable().openapi({ description: 'Why it was disabled automatically, if it was.' }),
    createdAt: iso('When it was registered.'),
    updatedAt: iso('When it last changed.'),
    secret: z.string().optional().openapi({ description: 'Only in the answers to create and rotate-secret' }),
  })
  .openapi('WebhookEndpoint', { description: 'A webhook endpoint.' });

function toEndpoint(row: EndpointRow, withSecret = false) {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events as (typeof WEBHOOK_EVENTS)[number][],
    enabled: row.enabled,
    consecutiveFailures: row.consecutiveFailures,
    disabledReason: row.disabledReason,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    ...(withSecret ? { secret: row.secret } : {}),
  };
}

const Delivery = z
  .object({
    id: z.string().openapi({ description: 'Delivery id.' }),
    eventId: z.string().openapi({ description: 'The `webhook-id` header: the same on every retry.' }),
    eventType: z.string().openapi({ description: 'Event type.' }),
    status: z
      .enum(['pending', 'sending', 'delivered', 'failed'])
      .openapi({ description: 'pending (waiting or retrying), sending, delivered, or failed (gave up).' }),
    attempts: z.number().int().openapi({ description: 'Attempts so far (at most 8).' }),
    lastStatus: z.number().int().nullable().openapi({ description: 'HTTP status of the last attempt (0: no answer).' }),
    lastError: z.string().nullable().openapi({ description: 'What went wrong last, if anything.' }),
    nextAttemptAt: iso('When it is tried next (if pending).'),
    createdAt: iso('When the event happened.'),
    deliveredAt: iso('When it was delivered.').nullable(),
  })
  .openapi('WebhookDelivery', { description: 'One event for one endpoint, with its delivery state.' });

function toDelivery(row: DeliveryRow) {
  return {
    id: row.id,
    eventId: row.eventId,
    eventType: row.eventType,
    status: row.status,
    attempts: row.attempts,
    lastStatus: row.lastStatus,
    lastError: row.lastError,
    nextAttemptAt: row.nextAttemptAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    deliveredAt: row.deliveredAt ? row.deliveredAt.toISOString() : null,
  };
}

const events = z
  .array(z.enum(WEBHOOK_EVENTS))
  .min(1, "can't be blank")
  .max(WEBHOOK_EVENTS.length)
  .openapi({ description: `Event types to receive: ${WEBHOOK_EVENTS.join(', ')}.` });
const url = z
  .string()
  .trim()
  .min(1, "can't be blank")
  .max(2048)
  .openapi({ description: 'https URL with a public host name (development also allows http and localhost).' });
const description = z.string().trim().max(500).nullable().openapi({ description: 'A note for admins.' });
const enabled = z.boolean().openapi({ description: 'Whether it receives events (default true).' });
const NewEndpointBody = z
  .object({
    webhook: z
      .object({ url, events, description: description.optional(), enabled: enabled.optional() })
      .openapi({ description: 'The endpoint.' }),
  })
  .openapi('NewWebhookRequest', {
    description: 'Register a webhook endpoint.',
    example: { webhook: { url: 'https://hooks.example.com/folio', events: ['article.published'] } },
  });
const UpdateEndpointBody = z
  .object({
    webhook: z
      .object({
        url: url.optional(),
        events: events.optional(),
        description: description.optional(),
        enabled: enabled.optional(),
      })
      .openapi({ description: 'Fields to change; omitted ones stay.' }),
  })
  .openapi('UpdateWebhookRequest', {
    description: 'Change a webhook endpoint.',
    example: { webhook: { enabled: true } },
  });
const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, description: 'The endpoint id.' }),
});
const EndpointResponse = z
  .object({ webhook: Endpoint })
  .openapi('WebhookResponse', { description: 'One webhook endpoint.' });

webhooksRouter.openapi(
  createRoute({
    method: 'get',
    path: '/admin/webhooks',
    tags,
    summary: 'Webhook endpoints',
    description: 'Permission `manage:webhooks`. Newest first; secrets are never listed.',
    security: tokenAuth,
    middleware,
    responses: {
      200: jsonResponse(
        z
          .object({ webhooks: z.array(Endpoint).openapi({ description: 'Newest first.' }) })
          .openapi('WebhookList', { description: 'The registered endpoints.' }),
        'Endpoints',
      ),
      ...denied,
    },
  }),
  async (c) => c.json({ webhooks: (await listEndpoints(c.get('db'))).map((e) => toEndpoint(e)) }, 200),
);

webhooksRouter.openapi(
  createRoute({
    method: 'post',
    path: '/admin/webhooks',
    tags,
    summary: 'Register an endpoint',
    description:
      'Answers with the signing secret, shown only here and on rotation. In production the URL must be https on the default port with a public host name (no IP literals, no localhost).',
    security: tokenAuth,
    middleware: [...middleware, idempotent] as [...typeof middleware, typeof idempotent],
    request: { headers: IdempotencyHeaders, ...jsonBody(NewEndpointBody) },
    responses: { 201: jsonResponse(EndpointResponse, 'Created'), ...denied, 422: errors[422] },
  }),
  async (c) => {
    const row = await createEndpoint(
      c.get('db'),
      actorOf(c),
      c.req.valid('json').webhook,
      getConfig(c.env).isProduction,
      new Date(),
      idempotencyClaim(c),
    );
    return c.json({ webhook: toEndpoint(row, true) }, 201);
  },
);

webhooksRouter.openapi(
  createRoute({
    method: 'get',
    path: '/admin/webhooks/{id}',
    tags,
    summary: 'One endpoint',
    description: 'Permission `manage:webhooks`. Includes its failure count and why it was disabled, if it was.',
    security: tokenAuth,
    middleware,
    request: { params: IdParam },
    responses: { 200: jsonResponse(EndpointResponse, 'The endpoint'), ...denied, 404: errors[404] },
  }),
  async (c) => c.json({ webhook: toEndpoint(await getEndpoint(c.get('db'), c.req.valid('param').id)) }, 200),
);

webhooksRouter.openapi(
  createRoute({
    method: 'put',
    path: '/admin/webhooks/{id}',
    tags,
    summary: 'Update an endpoint',
    description:
      'Permission `manage:webhooks`. Re-enabling resets its failure count; its pending deliveries resume. Audited.',
    security: tokenAuth,
    middleware,
    request: { params: IdParam, ...jsonBody(UpdateEndpointBody) },
    responses: { 200: jsonResponse(EndpointResponse, 'Updated'), ...denied, 404: errors[404], 422: errors[422] },
  }),
  async (c) => {
    const row = await updateEndpoint(
      c.get('db'),
      actorOf(c),
      c.req.valid('param').id,
      c.req.valid('json').webhook,
      getConfig(c.env).isProduction,
      new Date(),
    );
    return c.json({ webhook: toEndpoint(row) }, 200);
  },
);

webhooksRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/admin/webhooks/{id}',
    tags,
    summary: 'Delete an endpoint and its delivery log',
    description: 'Permission `manage:webhooks`. Pending deliveries are dropped. Audited.',
    security: tokenAuth,
    middleware,
    request: { params: IdParam },
    responses: { 204: { description: 'Deleted' }, ...denied, 404: errors[404] },
  }),
  async (c) => {
    await deleteEndpoint(c.get('db'), actorOf(c), c.req.valid('param').id, new Date());
    return c.body(null, 204);
  },
);

webhooksRouter.openapi(
  createRoute({
    method: 'post',
    path: '/admin/webhooks/{id}/rotate-secret',
    tags,
    summary: 'Rotate the signing secret',
    description: 'Returns the new secret once. For 24 hours every delivery is signed with both secrets.',
    security: tokenAuth,
    middleware,
    request: { params: IdParam },
    responses: { 200: jsonResponse(EndpointResponse, 'New secret'), ...denied, 404: errors[404] },
  }),
  async (c) => {
    const row = await rotateSecret(c.get('db'), actorOf(c), c.req.valid('param').id, new Date());
    return c.json({ webhook: toEndpoint(row, true) }, 200);
  },
);

webhooksRouter.openapi(
  createRoute({
    method: 'post',
    path: '/admin/webhooks/{id}/test',
    tags,
    summary: 'Send a test event now',
    description: 'Delivers a `webhook.test` event to this endpoint at once and answers with the delivery.',
    security: tokenAuth,
    middleware,
    request: { params: IdParam },
    responses: {
      200: jsonResponse(
        z.object({ delivery: Delivery }).openapi('WebhookDeliveryResponse', { description: 'The test delivery.' }),
        'The attempt',
      ),
      ...denied,
      404: errors[404],
    },
  }),
  async (c) => {
    const row = await sendTestEvent(c.get('db'), actorOf(c), c.req.valid('param').id, fetchWebhookSender, new Date());
    return c.json({ delivery: toDelivery(row) }, 200);
  },
);

webhooksRouter.openapi(
  createRoute({
    method: 'get',
    path: '/admin/webhooks/{id}/deliveries',
    tags,
    summary: "An endpoint's delivery log, newest first",
    description: 'Permission `manage:webhooks`. Each delivery with its status, attempts, last HTTP status and error.',
    security: tokenAuth,
    middleware,
    request: {
      params: IdParam,
      query: z.object({
        limit: z.coerce
          .number()
          .int()
          .min(1)
          .max(100)
          .default(20)
          .openapi({ description: 'Page size, 1–100 (default 20).' }),
        cursor: z
          .string()
          .regex(/^[0-9]{1,15}\.[A-Za-z0-9_:-]{1,160}$/, 'is invalid')
          .optional()
          .openapi({ description: '`nextCursor` of the previous page.' }),
      }),
    },
    responses: {
      200: jsonResponse(
        z
          .object({
            deliveries: z.array(Delivery).openapi({ description: 'Newest first.' }),
            nextCursor: z
              .string()
              .nullable()
              .openapi({ description: 'Pass as `cursor` for the next page; null on the last.' }),
          })
          .openapi('WebhookDeliveries', { description: 'A page of an endpoint’s delivery log.' }),
        'Deliveries',
      ),
      ...denied,
      404: errors[404],
      422: errors[422],
    },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const dot = cursor?.indexOf('.') ?? -1;
    const page = await listDeliveries(c.get('db'), c.req.valid('param').id, {
      limit,
      cursor: cursor ? { at: Number(cursor.slice(0, dot)), id: cursor.slice(dot + 1) } : undefined,
    });
    return c.json({ deliveries: page.deliveries.map(toDelivery), nextCursor: page.nextCursor }, 200);
  },
);
