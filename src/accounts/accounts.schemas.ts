import { z } from '@hono/zod-openapi';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../lib/password';

const BLANK = "can't be blank";

const requiredString = (max: number) =>
  z.string({ error: BLANK }).trim().min(1, BLANK).max(max, `is too long (maximum is ${max} characters)`);

export const usernameSchema = requiredString(40)
  .regex(/^[\p{L}\p{N}_.-]+$/u, 'may contain only letters, digits, "_", "." and "-"')
  .openapi({ example: 'jake' });

export const emailSchema = requiredString(254).pipe(z.email('is invalid')).openapi({ example: 'jake@jake.jake' });

export const newPasswordSchema = z
  .string({ error: BLANK })
  .min(1, BLANK)
  .min(PASSWORD_MIN_LENGTH, `is too short (minimum is ${PASSWORD_MIN_LENGTH} characters)`)
  .max(PASSWORD_MAX_LENGTH, `is too long (maximum is ${PASSWORD_MAX_LENGTH} characters)`)
  .openapi({ example: 'correct horse battery' });

/** Login checks only the bounds that protect the server: any stored password is at most the max. */
const loginPasswordSchema = z
  .string({ error: BLANK })
  .min(1, BLANK)
  .max(PASSWORD_MAX_LENGTH, `is too long (maximum is ${PASSWORD_MAX_LENGTH} characters)`);

/** `""` and null both clear the field (front ends send the whole form back). */
const clearable = (inner: z.ZodType<string>) =>
  z
    .union([inner, z.literal(''), z.null()])
    .transform((v) => (v === '' ? null : v))
    .optional();

const imageUrl = z
  .string()
  .trim()
  .max(2048, 'is too long (maximum is 2048 characters)')
  .refine((v) => v === '' || /^https?:\/\/\S+$/i.test(v), 'must be an http(s) URL');

export const RegisterBody = z
  .object({ user: z.object({ username: usernameSchema, email: emailSchema, password: newPasswordSchema }) })
  .openapi('NewUserRequest');

export const LoginBody = z
  .object({ user: z.object({ email: emailSchema, password: loginPasswordSchema }) })
  .openapi('LoginUserRequest');

export const UpdateUserBody = z
  .object({
    user: z.object({
      email: emailSchema.optional(),
      username: usernameSchema.optional(),
      password: newPasswordSchema.optional(),
      bio: clearable(z.string().max(2000, 'is too long (maximum is 2000 characters)')),
      image: clearable(imageUrl),
    }),
  })
  .openapi('UpdateUserRequest');

export const User = z
  .object({
    email: z.string(),
    token: z
      .string()
      .openapi({ description: 'Access token (JWT); send as `Authorization: Token <jwt>` or `Bearer <jwt>`.' }),
    username: z.string(),
    bio: z.string().nullable(),
    image: z.string().nullable(),
    emailVerified: z.boolean().openapi({ description: 'Folio extension: whether the email address is confirmed.' }),
    refreshToken: z.string().optional().openapi({
      description: 'Folio extension, on register, login and refresh only: exchange at POST /api/users/refresh.',
    }),
  })
  .openapi('User');

export const UserResponse = z.object({ user: User }).openapi('UserResponse');

export const VerifyEmailBody = z.object({ token: requiredString(200) }).openapi('VerifyEmailRequest');
export const PasswordResetBody = z.object({ email: emailSchema }).openapi('PasswordResetRequest');
export const PasswordResetConfirmBody = z
  .object({ token: requiredString(200), password: newPasswordSchema })
  .openapi('PasswordResetConfirmRequest');
export const StatusResponse = z.object({ status: z.string() }).openapi('StatusResponse');
