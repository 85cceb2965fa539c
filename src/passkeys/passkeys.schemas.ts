import { z } from '@hono/zod-openapi';

const b64url = z
  .string()
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]*$/, 'must be base64url');

const credentialBase = {
  id: b64url.min(1).max(1024),
  rawId: b64url.min(1).max(1024),
  type: z.literal('public-key'),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
};

/** What `navigator.credentials.create()` returned, JSON-encoded (e.g. by @simplewebauthn/browser). */
export const RegisterPasskeyBody = z
  .object({
    name: z.string().trim().min(1).max(60).optional().openapi({ example: 'MacBook Touch ID' }),
    response: z.object({
      ...credentialBase,
      response: z.object({
        clientDataJSON: b64url,
        attestationObject: b64url,
        transports: z.array(z.string().max(32)).max(10).optional(),
      }),
    }),
  })
  .openapi('RegisterPasskeyRequest');

/** What `navigator.credentials.get()` returned, JSON-encoded. */
export const PasskeyLoginBody = z
  .object({
    response: z.object({
      ...credentialBase,
      response: z.object({
        clientDataJSON: b64url,
        authenticatorData: b64url,
        signature: b64url,
        userHandle: b64url.optional(),
      }),
    }),
  })
  .openapi('PasskeyLoginRequest');

export const WebAuthnOptionsResponse = z.record(z.string(), z.unknown()).openapi('WebAuthnOptions', {
  description: 'PublicKeyCredential creation/request options as JSON: pass to the browser (challenge valid 5 minutes).',
});

const Passkey = z
  .object({ id: z.string(), name: z.string(), createdAt: z.string(), lastUsedAt: z.string().nullable() })
  .openapi('Passkey');

export const PasskeyResponse = z.object({ passkey: Passkey }).openapi('PasskeyResponse');
export const PasskeysResponse = z.object({ passkeys: z.array(Passkey) }).openapi('PasskeysResponse');

export const PasskeyIdParam = z.object({
  id: z
    .string()
    .max(1024)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
