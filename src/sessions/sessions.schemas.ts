import { z } from '@hono/zod-openapi';

export const RefreshBody = z
  .object({ refreshToken: z.string({ error: "can't be blank" }).min(1, "can't be blank").max(200, 'is invalid') })
  .openapi('RefreshRequest');

export const SessionIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'ses_3kFqv0c1' }),
});

export const Session = z
  .object({
    id: z.string(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    lastSeenAt: z.string().openapi({ format: 'date-time', description: 'Updated at most every 5 minutes.' }),
    expiresAt: z.string().openapi({ format: 'date-time' }),
    userAgent: z.string().nullable(),
    country: z.string().nullable(),
    current: z.boolean().openapi({ description: 'True for the session making this request.' }),
  })
  .openapi('Session');

export const SessionsResponse = z.object({ sessions: z.array(Session) }).openapi('SessionsResponse');
export const RevokedResponse = z.object({ revoked: z.number().int() }).openapi('RevokedResponse');
