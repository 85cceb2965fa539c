import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env';
import { validationHook } from './middleware/validate';

/**
 * The app and every feature router are OpenAPIHono instances sharing the one validation hook, so a
 * route declared with `router.openapi(route, handler)` validates and documents itself.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
