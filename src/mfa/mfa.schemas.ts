import { z } from '@hono/zod-openapi';

const BLANK = "can't be blank";

const totpCode = z
  .string({ error: BLANK })
  .trim()
  .regex(/^\d{6}$/, 'must be 6 digits')
  .openapi({ example: '123456' });
const recoveryCode = z
  .string({ error: BLANK })
  .trim()
  .min(1, BLANK)
  .max(40, 'is too long (maximum is 40 characters)')
  .openapi({ example: 'k3m9-x2pq-7hrt-0vwa' });

export const MfaRequiredResponse = z
  .object({
    mfaRequired: z.literal(true),
    mfaToken: z.string().openapi({
      description: 'Single-use handle for POST /api/users/login/mfa, valid 5 minutes. Not an access token.',
    }),
  })
  .openapi('MfaRequiredResponse');

/** A second factor: exactly one of a current TOTP code or an unused recovery code. */
const secondFactor = z.object({ code: totpCode.optional(), recoveryCode: recoveryCode.optional() });
const oneFactor = (v: { code?: string; recoveryCode?: string }) =>
  (v.code === undefined) !== (v.recoveryCode === undefined);

export const LoginMfaBody = secondFactor
  .extend({ mfaToken: z.string({ error: BLANK }).min(1, BLANK).max(200) })
  .refine(oneFactor, { message: 'send either code or recoveryCode', path: ['code'] })
  .openapi('LoginMfaRequest');

export const TotpVerifyBody = z.object({ code: totpCode }).openapi('TotpVerifyRequest');

export const ReauthenticateBody = secondFactor
  .extend({
    password: z.string().min(1, BLANK).max(128, 'is too long (maximum is 128 characters)').optional(),
  })
  .refine((v) => v.password !== undefined || v.code !== undefined || v.recoveryCode !== undefined, {
    message: BLANK,
    path: ['password'],
  })
  .openapi('ReauthenticateRequest');

export const TotpEnrolmentResponse = z
  .object({
    secret: z.string().openapi({ description: 'Base32 secret, for typing into an authenticator app.' }),
    uri: z.string().openapi({ description: '`otpauth://` URI: draw it as a QR code.' }),
  })
  .openapi('TotpEnrolmentResponse');

export const RecoveryCodesResponse = z
  .object({
    recoveryCodes: z.array(z.string()).openapi({ description: 'Ten single-use codes, shown this once.' }),
  })
  .openapi('RecoveryCodesResponse');

export const MfaStatusResponse = z
  .object({ totp: z.boolean(), recoveryCodesLeft: z.number().int() })
  .openapi('MfaStatusResponse');
