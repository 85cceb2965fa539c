import { z } from '@hono/zod-openapi';
import { BLANK } from '../lib/validation';
import { UserResponse } from '../accounts/accounts.schemas';

const totpCode = z
  .string({ error: BLANK })
  .trim()
  .regex(/^\d{6}$/, 'must be 6 digits')
  .openapi({ description: 'The 6-digit code the authenticator app shows now.', example: '123456' });
const recoveryCode = z
  .string({ error: BLANK })
  .trim()
  .min(1, BLANK)
  .max(40, 'is too long (maximum is 40 characters)')
  .openapi({
    description: 'One of the ten recovery codes (single use; case and dashes ignored).',
    example: 'k3m9-x2pq-7hrt-0vwa',
  });
const mfaTokenField = z.string().openapi({
  description: 'Single-use handle for POST /api/users/login/mfa, valid 5 minutes. Not an access token.',
  example: 'dGhpcyBpcyBub3QgYSByZWFsIHRva2VuIGJ1dCBhbiBleGFtcGxl',
});

const MfaRequiredResponse = z
  .object({
    mfaRequired: z.literal(true).openapi({ description: 'Always true: the second factor is needed.' }),
    mfaToken: mfaTokenField,
  })
  .openapi('MfaRequiredResponse', {
    description: 'The first factor passed on an account with two-factor on: send a code to POST /api/users/login/mfa.',
    example: { mfaRequired: true, mfaToken: 'dGhpcyBpcyBub3QgYSByZWFsIHRva2VuIGJ1dCBhbiBleGFtcGxl' },
  });

/** What a sign-in answers: the user, or the request for a second factor. */
export const SignInResponse = z.union([UserResponse, MfaRequiredResponse]).openapi('SignInResponse', {
  description: 'Either `{"user"}` (signed in) or `{"mfaRequired": true, "mfaToken"}` (two-factor on: one more step).',
});

/** A second factor: exactly one of a current TOTP code or an unused recovery code. */
const secondFactor = z.object({ code: totpCode.optional(), recoveryCode: recoveryCode.optional() });
const oneFactor = (v: { code?: string; recoveryCode?: string }) =>
  (v.code === undefined) !== (v.recoveryCode === undefined);

export const LoginMfaBody = secondFactor
  .extend({
    mfaToken: z.string({ error: BLANK }).min(1, BLANK).max(200).openapi({ description: 'From the login answer.' }),
  })
  .refine(oneFactor, { message: 'send either code or recoveryCode', path: ['code'] })
  .openapi('LoginMfaRequest', {
    description: 'Completes a sign-in: the `mfaToken` with either a TOTP `code` or a `recoveryCode`.',
    example: { mfaToken: 'dGhpcyBpcyBub3QgYSByZWFsIHRva2VuIGJ1dCBhbiBleGFtcGxl', code: '123456' },
  });

export const TotpVerifyBody = z.object({ code: totpCode }).openapi('TotpVerifyRequest', {
  description: 'The first code from the newly enrolled app.',
  example: { code: '123456' },
});

export const ReauthenticateBody = secondFactor
  .extend({
    password: z
      .string()
      .min(1, BLANK)
      .max(128, 'is too long (maximum is 128 characters)')
      .optional()
      .openapi({ description: 'The account password (accounts without two-factor).' }),
  })
  .refine((v) => v.password !== undefined || v.code !== undefined || v.recoveryCode !== undefined, {
    message: BLANK,
    path: ['password'],
  })
  .openapi('ReauthenticateRequest', {
    description: 'Proof of identity for sensitive actions: `password`, or `code` / `recoveryCode` with two-factor on.',
    example: { password: 'correct horse battery' },
  });

export const TotpEnrolmentResponse = z
  .object({
    secret: z.string().openapi({ description: 'Base32 secret, for typing into an authenticator app.' }),
    uri: z.string().openapi({ description: '`otpauth://` URI: draw it as a QR code.' }),
  })
  .openapi('TotpEnrolmentResponse', {
    description: 'A new TOTP secret, inactive until POST /api/user/mfa/totp/verify confirms a code.',
  });

const recoveryCodes = z
  .array(z.string())
  .openapi({ description: 'Ten single-use recovery codes, shown this once: ask the user to store them.' });

export const RecoveryCodesResponse = z
  .object({ recoveryCodes })
  .openapi('RecoveryCodesResponse', { description: 'New recovery codes; every earlier code no longer works.' });

export const TotpActivatedResponse = UserResponse.extend({ recoveryCodes }).openapi('TotpActivatedResponse', {
  description: 'Two-factor is on: a new token for this (now two-factor) session and the recovery codes.',
  example: {
    user: {
      email: 'jake@jake.jake',
      token: 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJl',
      username: 'jake',
      bio: null,
      image: null,
      emailVerified: true,
    },
    recoveryCodes: ['k3m9-x2pq-7hrt-0vwa'],
  },
});

export const MfaStatusResponse = z
  .object({
    totp: z.boolean().openapi({ description: 'Whether two-factor (TOTP) is on.' }),
    recoveryCodesLeft: z.number().int().openapi({ description: 'Unused recovery codes.' }),
  })
  .openapi('MfaStatusResponse', { description: "The account's two-factor state." });
