import { createRoute, z } from '@hono/zod-openapi';
import { getConfig } from '../config';
import { listOutbox } from '../email/outbox.service';
import { AppError } from '../errors';
import { createRouter } from '../router';
import { errors, jsonResponse } from '../openapi';
import { toOutboxMessage } from './system.present';

export const systemRouter = createRouter();

systemRouter.openapi(
  createRoute({
    method: 'get',
    path: '/health',
    tags: ['System'],
    summary: 'Liveness check (touches no storage)',
    description: 'Answers `{"status":"ok"}` while the Worker runs; it reads no database, so it says nothing about D1.',
    responses: {
      200: jsonResponse(
        z
          .object({ status: z.literal('ok').openapi({ description: 'Always `ok`.' }) })
          .openapi('Health', { description: 'Liveness answer.' }),
        'Healthy',
      ),
    },
  }),
  (c) => c.json({ status: 'ok' as const }, 200),
);

const OutboxMessage = z
  .object({
    id: z.string().openapi({ description: 'Message id.' }),
    kind: z.string().openapi({ description: 'What the email is for, `verify_email` or `password_reset`.' }),
    to: z.string().openapi({ description: 'Recipient address.' }),
    subject: z.string().openapi({ description: 'Subject line.' }),
    body: z.string().openapi({ description: 'Plain-text body (holds the verification or reset link).' }),
    status: z.string().openapi({ description: '`pending`, `sending`, `sent` or `failed`.' }),
    attempts: z.number().int().openapi({ description: 'Delivery attempts so far.' }),
    createdAt: z.string().openapi({ format: 'date-time', description: 'When it was queued.' }),
    sentAt: z.string().nullable().openapi({ format: 'date-time', description: 'When it was delivered, if it was.' }),
  })
  .openapi('OutboxMessage', { description: 'An email Folio queued (development only).' });

const OutboxResponse = z
  .object({ messages: z.array(OutboxMessage).openapi({ description: 'Newest first, at most 50.' }) })
  .openapi('OutboxResponse', { description: 'Recent outgoing emails (development only).' });

systemRouter.openapi(
  createRoute({
    method: 'get',
    path: '/dev/outbox',
    tags: ['System'],
    summary: 'Development only: recent outgoing emails (404 unless ENVIRONMENT=development)',
    description: 'Read the verification and password reset links of local accounts here instead of an inbox.',
    responses: {
      200: jsonResponse(OutboxResponse, 'Newest first'),
      404: errors[404],
    },
  }),
  async (c) => {
    if (getConfig(c.env).environment !== 'development') throw AppError.notFound('route');
    const rows = await listOutbox(c.get('db'), 50);
    return c.json({ messages: rows.map(toOutboxMessage) }, 200);
  },
);
