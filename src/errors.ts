import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isUniqueViolation } from './db/errors';
import { isRevokedSessionWrite } from './db/write-guard';
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

  /** A request body over MAX_BODY_BYTES (see middleware/body-limit.ts). */
  static payloadTooLarge(): AppError {
    return new AppError(413, { body: ['is too large'] });
  }

  static unsupportedMediaType(): AppError {
    return new AppError(415, { body: ['must be sent as application/json'] });
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

/** A broken internal expectation (a bug, never the client's doing): answered as a generic 500 and logged. */
export class InternalError extends Error {
  override name = 'InternalError';
}

/** The HTTP errors Hono raises itself (malformed JSON, wrong content type), in the contract's shape. */
function fromHttpException(err: HTTPException): AppError {
  if (err.status === 400) return AppError.badRequest('body', 'is not valid JSON');
  if (err.status === 415) return AppError.unsupportedMediaType();
  return new AppError(err.status, { request: [err.message || 'failed'] });
}

/** The only `onError`: maps every thrown value to the JSON error contract, never leaking internals. */
export function handleError(err: Error, c: Context): Response {
  const known = err instanceof HTTPException ? fromHttpException(err) : err;
  if (known instanceof AppError) {
    return c.json({ errors: known.errors }, known.status, known.headers);
  }
  // The session was revoked after its edge copy was read: the write rolled back (db/write-guard.ts), and
  // the caller is told what a revoked session is told anywhere.
  if (isRevokedSessionWrite(err)) {
    const refused = AppError.unauthorized();
    return c.json({ errors: refused.errors }, refused.status, refused.headers);
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
