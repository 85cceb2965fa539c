import { z } from '@hono/zod-openapi';

/** The error body every failure answers with. */
export const ErrorBody = z
  .object({ errors: z.record(z.string(), z.array(z.string())) })
  .openapi('GenericErrorModel', { example: { errors: { body: ["can't be blank"] } } });

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
