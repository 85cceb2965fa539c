import { z } from '@hono/zod-openapi';

/** The error body every failure answers with. */
const ErrorBody = z
  .object({
    errors: z
      .record(z.string(), z.array(z.string()))
      .openapi({ description: 'Field name → messages; show them next to the field, or as a banner.' }),
  })
  .openapi('GenericErrorModel', {
    description:
      'Every failure: field (or topic) names mapped to messages, e.g. `{"errors":{"email":["has already been taken"]}}`, `{"errors":{"token":["is missing"]}}`.',
    example: { errors: { body: ["can't be blank"] } },
  });

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorBody } },
});

/** Standard error responses, picked per route. */
export const errors = {
  400: errorResponse('Malformed request (e.g. invalid JSON)'),
  401: errorResponse('Missing or invalid credentials'),
  403: errorResponse('Not allowed'),
  404: errorResponse('Not found'),
  409: errorResponse('Conflict'),
  413: errorResponse('Body too large'),
  415: errorResponse('Unsupported media type'),
  422: errorResponse('Validation failed'),
  429: errorResponse('Too many requests; see Retry-After'),
} as const;

/** A required JSON request body: validated (and documented) even when Content-Type is missing. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { body: { required: true, description, content: { 'application/json': { schema } } } } as const;
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** Routes behind `requireAuth` declare this. */
export const tokenAuth: Record<string, string[]>[] = [{ Token: [] }, { Bearer: [] }];

/**
 * Routes behind the `idempotent` middleware document the header here (the middleware checks it: a
 * malformed key is a 422 keyed `idempotencyKey`).
 */
export const IdempotencyHeaders = z.object({
  'idempotency-key': z.string().optional().openapi({
    description:
      'Optional. 1-255 printable characters, e.g. a UUID. The same key with the same request within 24 h replays the first response (`Idempotent-Replayed: true`) without a second effect; with a different request: 422; while the first is in flight: 409.',
    example: '5b0a3b0e-8f7e-4c5e-9a57-0f3c0e1c2d44',
  }),
});
