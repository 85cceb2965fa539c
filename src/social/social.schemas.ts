import { z } from '@hono/zod-openapi';
import { BLANK } from '../lib/validation';

export const ProviderParam = z.object({
  provider: z
    .string()
    .max(32)
    .openapi({
      param: { name: 'provider', in: 'path', description: 'A provider `id` from GET /api/auth/providers.' },
      example: 'google',
    }),
});

const redirectTo = z.string({ error: BLANK }).min(1, BLANK).max(2048).openapi({
  description: 'Front-end URL to return to; its origin must be listed in AUTH_REDIRECT_ORIGINS.',
  example: 'http://localhost:3000/auth/callback',
});

export const StartQuery = z.object({
  redirectTo: redirectTo.openapi({
    param: {
      name: 'redirectTo',
      in: 'query',
      description: 'Front-end URL to return to; its origin must be listed in AUTH_REDIRECT_ORIGINS.',
    },
  }),
});

export const CallbackQuery = z.object({
  state: z
    .string()
    .max(512)
    .optional()
    .openapi({ param: { name: 'state', in: 'query', description: 'Set by Folio at start, echoed by the provider.' } }),
  code: z
    .string()
    .max(2048)
    .optional()
    .openapi({ param: { name: 'code', in: 'query', description: "The provider's authorization code." } }),
  error: z
    .string()
    .max(256)
    .optional()
    .openapi({ param: { name: 'error', in: 'query', description: 'An OAuth error from the provider.' } }),
});

export const LinkBody = z.object({ redirectTo }).openapi('LinkIdentityRequest', {
  description: 'Where the browser returns after the provider (with `?linked=<provider>` or `?error=`).',
  example: { redirectTo: 'http://localhost:3000/settings' },
});

export const ExchangeBody = z
  .object({
    code: z
      .string({ error: BLANK })
      .min(1, BLANK)
      .max(200)
      .openapi({ description: 'The `code` query parameter the callback redirected to the front end with.' }),
  })
  .openapi('ExchangeCodeRequest', {
    description: 'Trades the one-time code from the social sign-in callback (single use, 2 minutes).',
    example: { code: 'Q2hhbmdlIG1lOiB0aGlzIGlzIGFuIGV4YW1wbGUgY29kZQ' },
  });

export const ProvidersResponse = z
  .object({
    providers: z
      .array(
        z.object({
          id: z.string().openapi({ description: 'Use in /api/auth/{provider}/start.' }),
          name: z.string().openapi({ description: 'Display name for the button.' }),
          type: z.enum(['oidc', 'github']).openapi({ description: 'OpenID Connect issuer or GitHub.' }),
        }),
      )
      .openapi({ description: 'In configuration order.' }),
  })
  .openapi('ProvidersResponse', { description: 'The configured social sign-in providers.' });

export const AuthorizationUrlResponse = z
  .object({
    authorizationUrl: z.string().openapi({ description: 'Send the browser here (a full-page navigation).' }),
  })
  .openapi('AuthorizationUrlResponse', { description: 'The provider URL that starts the link.' });

export const IdentityIdParam = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path', description: 'An identity `id` from GET /api/user/identities.' } }),
});

export const IdentitiesResponse = z
  .object({
    identities: z
      .array(
        z.object({
          id: z.string().openapi({ description: 'Identity id (use it to unlink).' }),
          provider: z.string().openapi({ description: 'Provider id.' }),
          email: z.string().nullable().openapi({ description: 'The email the provider reported, if any.' }),
          createdAt: z.string().openapi({ format: 'date-time', description: 'When it was linked.' }),
          lastUsedAt: z.string().nullable().openapi({ format: 'date-time', description: 'Its last sign-in, if any.' }),
        }),
      )
      .openapi({ description: 'Oldest first.' }),
  })
  .openapi('IdentitiesResponse', { description: 'Social identities linked to the account.' });
