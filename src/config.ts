import { z } from 'zod';
import type { Env } from './env';
import { ConfigError } from './errors';

const positiveInt = z.coerce.number().int().positive();

const configSchema = z.object({
  ENVIRONMENT: z.enum(['development', 'production', 'test']),
  JWT_ISSUER: z.string().min(1),
  JWT_AUDIENCE: z.string().min(1),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt,
  REFRESH_TOKEN_TTL_SECONDS: positiveInt,
  CORS_ORIGINS: z.string().default(''),
  MAX_BODY_BYTES: positiveInt,
  APP_URL: z.url(),
  EMAIL_FROM: z.string().min(3),
});

/** Settings parsed once per isolate from wrangler.toml vars (secrets are read where they are used). */
export interface AppConfig {
  environment: 'development' | 'production' | 'test';
  isProduction: boolean;
  jwtIssuer: string;
  jwtAudience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  corsOrigins: string[];
  maxBodyBytes: number;
  appUrl: string;
  emailFrom: string;
}

const cache = new WeakMap<Env, AppConfig>();

export function getConfig(env: Env): AppConfig {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new ConfigError(`invalid or missing vars: ${names}`);
  }
  const v = parsed.data;
  const config: AppConfig = {
    environment: v.ENVIRONMENT,
    isProduction: v.ENVIRONMENT === 'production',
    jwtIssuer: v.JWT_ISSUER,
    jwtAudience: v.JWT_AUDIENCE,
    accessTokenTtlSeconds: v.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: v.REFRESH_TOKEN_TTL_SECONDS,
    corsOrigins: v.CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    maxBodyBytes: v.MAX_BODY_BYTES,
    appUrl: v.APP_URL.replace(/\/$/, ''),
    emailFrom: v.EMAIL_FROM,
  };
  cache.set(env, config);
  return config;
}
