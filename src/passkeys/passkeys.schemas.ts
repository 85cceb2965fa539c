import { z } from '@hono/zod-openapi';

const b64url = z
  .string()
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]*$/, 'must be base64url');
const field = (description: string) => b64url.openapi({ description });

const credentialBase = {
  id: b64url.min(1).max(1024).openapi({ description: 'Credential id, base64url.' }),
  rawId: b64url.min(1).max(1024).openapi({ description: 'Credential id, base64url (same as `id`).' }),
  type: z.literal('public-key').openapi({ description: 'Always `public-key`.' }),
  clientExtensionResults: z
    .record(z.string(), z.unknown())
    .default({})
    .openapi({ description: 'Extension outputs from the browser.' }),
  authenticatorAttachment: z
    .enum(['platform', 'cross-platform'])
    .optional()
    .openapi({ description: 'Built-in or roaming authenticator.' }),
};

/** What `navigator.credentials.create()` returned, JSON-encoded (e.g. by @simplewebauthn/browser). */
export const RegisterPasskeyBody = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(60)
      .optional()
      .openapi({ description: 'A label for the list (default "Passkey").', example: 'MacBook Touch ID' }),
    response: z.object({
      ...credentialBase,
      response: z.object({
        clientDataJSON: field('Client data, base64url.'),
        attestationObject: field('Attestation object (CBOR), base64url.'),
        transports: z
          .array(z.string().max(32))
          .max(10)
          .optional()
          .openapi({ description: 'How the authenticator can be reached (usb, nfc, ble, internal, hybrid).' }),
      }),
    }),
  })
  .openapi('RegisterPasskeyRequest', {
    description: 'The JSON of what `navigator.credentials.create()` returned, with an optional name.',
  });

/** What `navigator.credentials.get()` returned, JSON-encoded. */
export const PasskeyLoginBody = z
  .object({
    response: z.object({
      ...credentialBase,
      response: z.object({
        clientDataJSON: field('Client data, base64url.'),
        authenticatorData: field('Authenticator data, base64url.'),
        signature: field('Assertion signature, base64url.'),
        userHandle: field('The user handle stored in the passkey, base64url.').optional(),
      }),
    }),
  })
  .openapi('PasskeyLoginRequest', { description: 'The JSON of what `navigator.credentials.get()` returned.' });

export const WebAuthnOptionsResponse = z.record(z.string(), z.unknown()).openapi('WebAuthnOptions', {
  description: 'PublicKeyCredential creation/request options as JSON: pass to the browser (challenge valid 5 minutes).',
});

const Passkey = z
  .object({
    id: z.string().openapi({ description: 'Credential id (use it to remove the passkey).' }),
    name: z.string().openapi({ description: 'Its label.' }),
    createdAt: z.string().openapi({ format: 'date-time', description: 'When it was registered.' }),
    lastUsedAt: z.string().nullable().openapi({ format: 'date-time', description: 'Its last sign-in, if any.' }),
  })
  .openapi('Passkey', { description: 'A registered passkey.' });

export const PasskeyResponse = z
  .object({ passkey: Passkey })
  .openapi('PasskeyResponse', { description: 'The passkey just registered.' });
export const PasskeysResponse = z
  .object({ passkeys: z.array(Passkey) })
  .openapi('PasskeysResponse', { description: "The account's passkeys." });

export const PasskeyIdParam = z.object({
  id: z
    .string()
    .max(1024)
    .openapi({ param: { name: 'id', in: 'path', description: 'A passkey `id` from GET /api/user/passkeys.' } }),
});
