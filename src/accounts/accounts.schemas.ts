import { z } from '@hono/zod-openapi';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../lib/password';
import { requiredRawText, requiredText, tooLong } from '../lib/validation';

const usernameSchema = requiredText(40)
  .regex(/^[\p{L}\p{N}_.-]+$/u, 'may contain only letters, digits, "_", "." and "-"')
  .openapi({
    description: 'Letters, digits, `_`, `.` and `-`, 1–40 characters; unique case-insensitively (409 when taken).',
    example: 'jake',
  });

const emailSchema = requiredText(254).pipe(z.email('is invalid')).openapi({
  description: 'Email address, at most 254 characters; unique case-insensitively (409 when taken).',
  format: 'email',
  example: 'jake@jake.jake',
});

const newPasswordSchema = requiredRawText(PASSWORD_MAX_LENGTH)
  .min(PASSWORD_MIN_LENGTH, `is too short (minimum is ${PASSWORD_MIN_LENGTH} characters)`)
  .openapi({
    description: `${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters.`,
    example: 'correct horse battery',
  });

/** Login checks only the bounds that protect the server: any stored password is at most the max. */
const loginPasswordSchema = requiredRawText(PASSWORD_MAX_LENGTH).openapi({
  description: 'The account password.',
  example: 'correct horse battery',
});

/** `""` and null both clear the field (front ends send the whole form back). */
const clearable = (inner: z.ZodType<string>) =>
  z
    .union([inner, z.literal(''), z.null()])
    .transform((v) => (v === '' ? null : v))
    .optional();

const imageUrl = z
  .string()
  .trim()
  .max(2048, tooLong(2048))
  .refine((v) => v === '' || /^https?:\/\/\S+$/i.test(v), 'must be an http(s) URL');

export const RegisterBody = z
  .object({ user: z.object({ username: usernameSchema, email: emailSchema, password: newPasswordSchema }) })
  .openapi('NewUserRequest', {
    description: 'Registration: every field is required. Answers 201 with the signed-in user and its tokens.',
    example: { user: { username: 'jake', email: 'jake@jake.jake', password: 'correct horse battery' } },
  });

export const LoginBody = z
  .object({ user: z.object({ email: emailSchema, password: loginPasswordSchema }) })
  .openapi('LoginUserRequest', {
    description: 'Sign in with email and password. A wrong pair answers 401 `{"errors":{"credentials":["invalid"]}}`.',
    example: { user: { email: 'jake@jake.jake', password: 'correct horse battery' } },
  });

export const UpdateUserBody = z
  .object({
    user: z.object({
      email: emailSchema.optional(),
      username: usernameSchema.optional(),
      password: newPasswordSchema.optional().openapi({
        description: `New password, ${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters. Signs out every other session.`,
      }),
      bio: clearable(z.string().max(2000, tooLong(2000))).openapi({
        description: 'At most 2000 characters; `""` or `null` clears it.',
      }),
      image: clearable(imageUrl).openapi({
        description: 'An http(s) URL of at most 2048 characters; `""` or `null` clears it.',
      }),
    }),
  })
  .openapi('UpdateUserRequest', {
    description:
      'Every field is optional: send only what changes (sending the whole user back is fine). A new email must be confirmed again.',
    example: { user: { bio: 'I like to skateboard', image: 'https://i.stack.imgur.com/xHWG8.jpg' } },
  });

const User = z
  .object({
    email: z.string().openapi({ description: 'Email address.' }),
    token: z
      .string()
      .openapi({ description: 'Access token (JWT); send as `Authorization: Token <jwt>` or `Bearer <jwt>`.' }),
    username: z.string().openapi({ description: 'Public name, also the profile URL part.' }),
    bio: z.string().nullable().openapi({ description: '`null` until set.' }),
    image: z.string().nullable().openapi({ description: 'Avatar URL; `null` until set.' }),
    emailVerified: z.boolean().openapi({ description: 'Folio extension: whether the email address is confirmed.' }),
    refreshToken: z.string().optional().openapi({
      description: 'Folio extension, on register, login and refresh only: exchange at POST /api/users/refresh.',
    }),
  })
  .openapi('User', { description: 'The signed-in user, with the access token to send on later requests.' });

const exampleToken = 'eyJhbGciOiJFZERTQSIsImtpZCI6ImRldi0xIn0.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJl';

export const UserResponse = z.object({ user: User }).openapi('UserResponse', {
  description: 'The signed-in user (register, login, current user, update, refresh).',
  example: {
    user: {
      email: 'jake@jake.jake',
      token: exampleToken,
      username: 'jake',
      bio: null,
      image: null,
      emailVerified: false,
      refreshToken: 'rt_2b7f0c9e4a1d4f3b8e6a5c0d9f1e2a3b',
    },
  },
});

export const VerifyEmailBody = z
  .object({
    token: requiredText(200).openapi({ description: 'The single-use token from the verification email link.' }),
  })
  .openapi('VerifyEmailRequest', { description: 'Confirms the email address the token was sent to.' });
export const PasswordResetBody = z
  .object({ email: emailSchema })
  .openapi('PasswordResetRequest', { description: 'Asks for a password reset email to this address.' });
export const PasswordResetConfirmBody = z
  .object({
    token: requiredText(200).openapi({ description: 'The single-use token from the password reset email link.' }),
    password: newPasswordSchema,
  })
  .openapi('PasswordResetConfirmRequest', { description: 'Sets a new password with a reset token.' });
export const StatusResponse = z
  .object({
    status: z.string().openapi({
      description: 'What happened: `verified`, `accepted` (email queued) or `password_reset`.',
      example: 'accepted',
    }),
  })
  .openapi('StatusResponse', { description: 'Outcome of an account action that returns no object.' });
