import { z } from '@hono/zod-openapi';
import { BLANK } from '../lib/validation';

export const RefreshBody = z
  .object({
    refreshToken: z
      .string({ error: BLANK })
      .min(1, BLANK)
      .max(200, 'is invalid')
      .openapi({ description: 'The `refreshToken` from register, login or the previous refresh (single use).' }),
  })
  .openapi('RefreshRequest', { description: 'Exchanges a refresh token for new tokens.' });

export const SessionIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({
      param: { name: 'id', in: 'path', description: 'A session `id` from GET /api/user/sessions.' },
      example: 'ses_3kFqv0c1',
    }),
});

const Session = z
  .object({
    id: z.string().openapi({ description: 'Session id (use it to revoke this session).' }),
    createdAt: z.string().openapi({ format: 'date-time', description: 'When the user signed in.' }),
    lastSeenAt: z.string().openapi({ format: 'date-time', description: 'Updated at most every 5 minutes.' }),
    expiresAt: z
      .string()
      .openapi({ format: 'date-time', description: 'When the refresh token expires unless used before.' }),
    userAgent: z.string().nullable().openapi({ description: 'The browser or app that signed in, when known.' }),
    country: z.string().nullable().openapi({ description: 'Two-letter country code at sign-in, when known.' }),
    current: z.boolean().openapi({ description: 'True for the session making this request.' }),
  })
  .openapi('Session', { description: 'A signed-in device or browser.' });

export const SessionsResponse = z
  .object({ sessions: z.array(Session).openapi({ description: 'Active sessions, newest first.' }) })
  .openapi('SessionsResponse', { description: "The current user's active sessions." });
export const RevokedResponse = z
  .object({ revoked: z.number().int().openapi({ description: 'How many sessions were revoked.' }) })
  .openapi('RevokedResponse', { description: 'Outcome of a bulk revocation.' });
