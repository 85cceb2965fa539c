import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { getConfig, type AppConfig } from '../config';
import type { AppEnv } from '../env';

/**
 * A middleware whose options come from configuration: built once per configuration (that is, once
 * per isolate) instead of on every request.
 */
export function fromConfig(build: (config: AppConfig) => MiddlewareHandler) {
  const built = new WeakMap<AppConfig, MiddlewareHandler>();
  return createMiddleware<AppEnv>(async (c, next) => {
    const config = getConfig(c.env);
    let handler = built.get(config);
    if (!handler) {
      handler = build(config);
      built.set(config, handler);
    }
    return handler(c, next);
  });
}
