import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { fromConfig } from './from-config';

const limitFromConfig = fromConfig((config) =>
  bodyLimit({
    maxSize: config.maxBodyBytes,
    onError: () => {
      throw AppError.payloadTooLarge();
    },
  }),
);

/**
 * Refuses bodies over MAX_BODY_BYTES with 413 `{"errors":{"body":["is too large"]}}`, except on the
 * given paths, which carry their own larger caps. A request without a body passes straight through.
 */
export function bodyLimitExcept(paths: readonly string[]) {
  return createMiddleware<AppEnv>(function bodyLimitExcept(c, next) {
    if (c.req.raw.body === null || paths.includes(c.req.path)) return next();
    return limitFromConfig(c, next);
  });
}
