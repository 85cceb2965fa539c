import { createRoute, z } from '@hono/zod-openapi';
import { getConfig } from '../config';
import { listOutbox } from '../email/outbox.service';
import { AppError } from '../errors';
import { createRouter } from '../router';
import { jsonResponse } from '../openapi';

export const systemRouter = createRouter();

systemRouter.openapi(
  createRoute({
    method: 'get',
    path: '/health',
    tags: ['System'],
    summary: 'Liveness check (touches no storage)',
    responses: { 200: jsonResponse(z.object({ status: z.literal('ok') }).openapi('Health'), 'Healthy') },
  }),
  (c) => c.json({ status: 'ok' as const }, 200),
);

const OutboxMessage = z
  .object({
    id: z.string(),
    kind: z.string(),
    to: z.string(),
    subject: z.string(),
    body: z.string(),
    status: z.string(),
    attempts: z.number().int(),
    createdAt: z.string(),
    sentAt: z.string().nullable(),
  })
  .openapi('OutboxMessage');

systemRouter.openapi(
  createRoute({
    method: 'get',
    path: '/dev/outbox',
    tags: ['System'],
    summary: 'Development only: recent outgoing emails (404 unless ENVIRONMENT=development)',
    responses: {
      200: jsonResponse(z.object({ messages: z.array(OutboxMessage) }), 'Newest first'),
      404: { description: 'Not in development' },
    },
  }),
  async (c) => {
    if (getConfig(c.env).environment !== 'development') throw AppError.notFound('route');
    const rows = await listOutbox(c.var.db, 50);
    return c.json(
      {
        messages: rows.map((m) => ({
          id: m.id,
          kind: m.kind,
          to: m.recipient,
          subject: m.subject,
          body: m.body,
          status: m.status,
          attempts: m.attempts,
          createdAt: m.createdAt.toISOString(),
          sentAt: m.sentAt?.toISOString() ?? null,
        })),
      },
      200,
    );
  },
);
