import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isUniqueViolation } from './db/errors';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { logError } from './lib/log';

/** Error body of the RealWorld contract: `{"errors": {"<field>": ["message"]}}`. */
export type ErrorFields = Record<string, string[]>;

/**
 * The one application error. Thrown anywhere below the router; the root `onError` turns it into the
 * JSON error shape with its status and headers (e.g. `Retry-After`, `WWW-Authenticate`).
 */
export class AppError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly errors: ErrorFields,
    readonly headers: Record<string, string> = {},
  ) {
    super(
      Object.entries(errors)
        .map(([k, v]) => `${k} ${v.join(', ')}`)
        .join('; '),
    );
    this.name = 'AppError';
  }

  static badRequest(field: string, message: string): AppError {
    return new AppError(400, { [field]: [message] });
  }

  static validation(errors: ErrorFields): AppError {
    return new AppError(422, errors);
  }

  /** Missing, malformed, forged, expired or revoked credentials all answer the same. */
  static unauthorized(field = 'token', message = 'is missing'): AppError {
    return new AppError(401, { [field]: [message] }, { 'WWW-Authenticate': 'Token realm="folio"' });
  }

  static forbidden(resource: string): AppError {
    return new AppError(403, { [resource]: ['forbidden'] });
  }

  static notFound(resource: string): AppError {
    return new AppError(404, { [resource]: ['not found'] });
  }

  static conflict(errors: ErrorFields): AppError {
    return new AppError(409, errors);
  }

  static tooManyRequests(retryAfterSeconds: number, field = 'rate'): AppError {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    return new AppError(429, { [field]: ['too many requests, try again later'] }, { 'Retry-After': String(seconds) });
  }
}

/** Raised when required configuration (e.g. a production secret) is missing or invalid. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The only `onError`: maps every thrown value to the JSON error contract, never leaking internals. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof AppError) {
    return c.json({ errors: err.errors }, err.status, err.headers);
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    if (status === 413) return c.json({ errors: { body: ['is too large'] } }, 413);
    if (status === 400) return c.json({ errors: { body: ['is not valid JSON'] } }, 400);
    if (status === 415) return c.json({ errors: { body: ['must be sent as application/json'] } }, 415);
    return c.json({ errors: { request: [err.message || 'failed'] } }, status);
  }
  // Two requests with one Idempotency-Key raced into the same effect: the loser's batch rolled back.
  // middleware/idempotency.ts turns this into a replay of the winner's response when it can.
  if (isUniqueViolation(err, 'idempotency_keys')) {
    return c.json({ errors: { idempotencyKey: ['is being used by another request'] } }, 409);
  }
  const requestId = c.get('requestId') as string | undefined;
  logError(err instanceof ConfigError ? 'configuration error' : 'unhandled error', {
    requestId,
    error: err.name,
    // Messages only (D1 errors name the constraint, never bound values); stacks stay out of logs.
    detail: err.message.slice(0, 300),
  });
  return c.json({ errors: { server: [`internal error (request id ${requestId ?? 'unknown'})`] } }, 500);
}
