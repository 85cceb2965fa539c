import { z } from '@hono/zod-openapi';

const BLANK = "can't be blank";

export const ProviderParam = z.object({
  provider: z
    .string()
    .max(32)
    .openapi({ param: { name: 'provider', in: 'path' }, example: 'google' }),
});

export const StartQuery = z.object({
  redirectTo: z
    .string({ error: BLANK })
    .min(1, BLANK)
    .max(2048)
    .openapi({
      param: { name: 'redirectTo', in: 'query' },
      description: 'Front-end URL to return to; its origin must be listed in AUTH_REDIRECT_ORIGINS.',
      example: 'http://localhost:3000/auth/callback',
    }),
});

export const CallbackQuery = z.object({
  state: z
    .string()
    .max(512)
    .optional()
    .openapi({ param: { name: 'state', in: 'query' } }),
  code: z
    .string()
    .max(2048)
    .optional()
    .openapi({ param: { name: 'code', in: 'query' } }),
  error: z
    .string()
    .max(256)
    .optional()
    .openapi({ param: { name: 'error', in: 'query' } }),
});

export const LinkBody = z
  .object({ redirectTo: StartQuery.shape.redirectTo.openapi({ param: undefined }) })
  .openapi('LinkIdentityRequest');

export const ExchangeBody = z
  .object({ code: z.string({ error: BLANK }).min(1, BLANK).max(200) })
  .openapi('ExchangeCodeRequest');

export const ProvidersResponse = z
  .object({ providers: z.array(z.object({ id: z.string(), name: z.string(), type: z.enum(['oidc', 'github']) })) })
  .openapi('ProvidersResponse');

export const AuthorizationUrlResponse = z
  .object({ authorizationUrl: z.string().openapi({ description: 'Send the browser here (a full-page navigation).' }) })
  .openapi('AuthorizationUrlResponse');

export const IdentityIdParam = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export const IdentitiesResponse = z
  .object({
    identities: z.array(
      z.object({
        id: z.string(),
        provider: z.string(),
        email: z.string().nullable(),
        createdAt: z.string(),
        lastUsedAt: z.string().nullable(),
      }),
    ),
  })
  .openapi('IdentitiesResponse');
