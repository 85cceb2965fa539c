import { z } from 'zod';
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
  IP_RATE_LIMIT: z.enum(['on', 'off']).default('on'),
  PUBLIC_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  ADMIN_USERNAMES: z.string().default(''),
  ONLY_AUTHORS_PUBLISH: z.enum(['true', 'false']).default('false'),
  ARTICLE_CREATE_LIMIT_PER_HOUR: positiveInt.default(30),
  MEDIA_MAX_BYTES: positiveInt.default(10 * 1024 * 1024),
  MEDIA_QUOTA_BYTES: positiveInt.default(100 * 1024 * 1024),
  MESSAGE_MAX_PARTICIPANTS: positiveInt.max(99).default(9),
  MESSAGE_MAX_BODY_CHARS: positiveInt.max(20_000).default(4000),
  MESSAGE_SEND_LIMIT_PER_MINUTE: positiveInt.default(30),
  MESSAGE_DIGEST_DELAY_MINUTES: positiveInt.default(60),
  MESSAGE_DIGEST_PERIOD_HOURS: positiveInt.default(24),
  GATEWAY: z.enum(['test', 'stripe']).default('test'),
  TIP_MIN_AMOUNT: positiveInt.default(100),
  TIP_MAX_AMOUNT: positiveInt.default(50_000),
  TIP_CURRENCY: z
    .string()
    .regex(/^[A-Za-z]{3}$/)
    .default('USD'),
  PLATFORM_FEE_PERCENT: z.coerce.number().min(0).max(50).default(0),
  MEMBERSHIP_GRACE_HOURS: z.coerce.number().int().min(0).default(72),
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  AUTH_PROVIDERS: z.string().default('[]'),
  AUTH_REDIRECT_ORIGINS: z.string().default(''),
  WEBAUTHN_RP_ID: z.string().default('localhost'),
  WEBAUTHN_RP_NAME: z.string().default('Folio'),
  WEBAUTHN_ORIGINS: z.string().default('http://localhost:3000'),
});

const providerSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/),
    type: z.enum(['oidc', 'github']),
    name: z.string().min(1),
    issuer: z.url().optional(),
    clientId: z.string().min(1),
    scopes: z.array(z.string().min(1)).optional(),
  })
  .refine((p) => p.type !== 'oidc' || p.issuer !== undefined, { message: 'an oidc provider needs an issuer' });

/** A social sign-in provider from `AUTH_PROVIDERS` (its client secret is the secret `AUTH_PROVIDER_<ID>_CLIENT_SECRET`). */
export type AuthProviderConfig = z.infer<typeof providerSchema>;

const list = (text: string) =>
  text
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);

function parseProviders(text: string): AuthProviderConfig[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError('AUTH_PROVIDERS is not valid JSON');
  }
  const parsed = z.array(providerSchema).safeParse(value);
  if (!parsed.success)
    throw new ConfigError('AUTH_PROVIDERS must be a JSON array of {id, type, name, issuer?, clientId, scopes?}');
  const ids = new Set(parsed.data.map((p) => p.id));
  if (ids.size !== parsed.data.length) throw new ConfigError('AUTH_PROVIDERS ids must be unique');
  return parsed.data;
}

function parseOrigin(value: string, name: string): string {
  try {
    const url = new URL(value);
    if (url.origin === 'null') throw new Error();
    return url.origin;
  } catch {
    throw new ConfigError(`${name} must list origins such as https://app.example`);
  }
}

/**
 * Development default of the webhook signing secret (GATEWAY=test signs its events with it; the
 * Stripe CLI or SDK can sign with it too). `.dev.vars` may override it; production requires its own.
 */
export const DEV_WEBHOOK_SECRET = 'whsec_folio_development_only_0123456789abcdef';
/**
 * The fake gateway accepts any key. Outside production a missing key is not fatal (the rest of the
 * API keeps working; real Stripe then refuses billing calls, answered 502).
 */
const TEST_SECRET_KEY = 'sk_test_folio_fake_gateway';

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
  /** The per-IP brake on credential endpoints; `off` only outside production (a developer's scripts). */
  ipRateLimit: boolean;
  /** How long an anonymous public read may be served from the edge cache after a write elsewhere; 0 = off. */
  publicCacheSeconds: number;
  /** Lower-cased usernames that act as admins whatever their stored role. */
  adminUsernames: string[];
  /** When true, publishing an article needs the `author` role (permission `publish:article`). */
  onlyAuthorsPublish: boolean;
  /** New articles (drafts included) one account may create per hour. */
  articleCreateLimitPerHour: number;
  /** Largest accepted upload (POST /api/media), separate from maxBodyBytes. */
  mediaMaxBytes: number;
  /** Total bytes of uploads each member may keep. */
  mediaQuotaBytes: number;
  authProviders: AuthProviderConfig[];
  /** Front-end origins a social sign-in may return to. */
  authRedirectOrigins: string[];
  webauthn: { rpId: string; rpName: string; origins: string[] };
  messaging: MessagingConfig;
  billing: BillingConfig;
}

/** Messaging limits and digest timing (wrangler.toml [vars] MESSAGE_*). */
export interface MessagingConfig {
  /** Other members a conversation may have besides its creator. */
  maxParticipants: number;
  maxBodyChars: number;
  /** Messages one member may send per minute. */
  sendLimitPerMinute: number;
  /** How long a message stays unread before it counts for the digest email. */
  digestDelayMs: number;
  /** At most one digest email per member per period. */
  digestPeriodMs: number;
}

export interface BillingConfig {
  /** `test`: the in-process fake Stripe (refused in production); `stripe`: the real API. */
  gateway: 'test' | 'stripe';
  secretKey: string;
  /** Webhook signing secrets; several (comma-separated) are all accepted while one is rotated. */
  webhookSecrets: string[];
  tipMin: number;
  tipMax: number;
  tipCurrency: string;
  /** Percent kept by the platform on tips and article sales (0 by default). */
  platformFeePercent: number;
  /** How long past its period end a membership keeps access if the gateway's final event is lost. */
  membershipGraceMs: number;
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
  if (v.ENVIRONMENT === 'production' && v.IP_RATE_LIMIT === 'off') {
    throw new ConfigError('IP_RATE_LIMIT=off is refused in production');
  }
  const isProduction = v.ENVIRONMENT === 'production';
  if (isProduction && v.GATEWAY === 'test') throw new ConfigError('GATEWAY=test is refused in production');
  if (isProduction && (!v.STRIPE_SECRET_KEY || !v.STRIPE_WEBHOOK_SECRET))
    throw new ConfigError('production requires STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET');
  if (v.GATEWAY === 'stripe' && !v.STRIPE_SECRET_KEY)
    throw new ConfigError('GATEWAY=stripe requires STRIPE_SECRET_KEY');
  if (v.TIP_MIN_AMOUNT > v.TIP_MAX_AMOUNT) throw new ConfigError('TIP_MIN_AMOUNT is above TIP_MAX_AMOUNT');
  const config: AppConfig = {
    environment: v.ENVIRONMENT,
    isProduction,
    jwtIssuer: v.JWT_ISSUER,
    jwtAudience: v.JWT_AUDIENCE,
    accessTokenTtlSeconds: v.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: v.REFRESH_TOKEN_TTL_SECONDS,
    corsOrigins: list(v.CORS_ORIGINS),
    maxBodyBytes: v.MAX_BODY_BYTES,
    appUrl: v.APP_URL.replace(/\/$/, ''),
    emailFrom: v.EMAIL_FROM,
    ipRateLimit: v.IP_RATE_LIMIT === 'on',
    publicCacheSeconds: v.PUBLIC_CACHE_SECONDS,
    adminUsernames: v.ADMIN_USERNAMES.split(',')
      .map((u) => u.trim().toLowerCase())
      .filter(Boolean),
    onlyAuthorsPublish: v.ONLY_AUTHORS_PUBLISH === 'true',
    articleCreateLimitPerHour: v.ARTICLE_CREATE_LIMIT_PER_HOUR,
    mediaMaxBytes: v.MEDIA_MAX_BYTES,
    mediaQuotaBytes: v.MEDIA_QUOTA_BYTES,
    messaging: {
      maxParticipants: v.MESSAGE_MAX_PARTICIPANTS,
      maxBodyChars: v.MESSAGE_MAX_BODY_CHARS,
      sendLimitPerMinute: v.MESSAGE_SEND_LIMIT_PER_MINUTE,
      digestDelayMs: v.MESSAGE_DIGEST_DELAY_MINUTES * 60_000,
      digestPeriodMs: v.MESSAGE_DIGEST_PERIOD_HOURS * 3_600_000,
    },
    authProviders: parseProviders(v.AUTH_PROVIDERS),
    authRedirectOrigins: list(v.AUTH_REDIRECT_ORIGINS).map((o) => parseOrigin(o, 'AUTH_REDIRECT_ORIGINS')),
    webauthn: {
      rpId: v.WEBAUTHN_RP_ID,
      rpName: v.WEBAUTHN_RP_NAME,
      origins: list(v.WEBAUTHN_ORIGINS).map((o) => parseOrigin(o, 'WEBAUTHN_ORIGINS')),
    },
    billing: {
      gateway: v.GATEWAY,
      secretKey: v.STRIPE_SECRET_KEY || TEST_SECRET_KEY,
      webhookSecrets: (v.STRIPE_WEBHOOK_SECRET || DEV_WEBHOOK_SECRET)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      tipMin: v.TIP_MIN_AMOUNT,
      tipMax: v.TIP_MAX_AMOUNT,
      tipCurrency: v.TIP_CURRENCY.toUpperCase(),
      platformFeePercent: v.PLATFORM_FEE_PERCENT,
      membershipGraceMs: v.MEMBERSHIP_GRACE_HOURS * 3_600_000,
    },
  };
  if (config.isProduction && config.authProviders.some((p) => p.issuer && isLoopback(p.issuer))) {
    throw new ConfigError('AUTH_PROVIDERS: loopback issuers are refused in production');
  }
  // Two-factor is open to every member: production refuses to start without its own key, rather than
  // failing the first enrolment.
  if (config.isProduction) checkedMfaKey(env.MFA_ENCRYPTION_KEY, true);
  cache.set(env, config);
  return config;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

/** Development-only TOTP encryption key (the 32 ASCII bytes `dev-only-mfa-key-not-for-product`); refused in production. */
const DEV_MFA_ENCRYPTION_KEY = 'ZGV2LW9ubHktbWZhLWtleS1ub3QtZm9yLXByb2R1Y3Q';

/**
 * The AES-256-GCM key that encrypts TOTP secrets at rest: the secret `MFA_ENCRYPTION_KEY` (32 bytes,
 * base64url). Outside production a development default applies; production refuses to run without it.
 */
export function mfaEncryptionKey(env: Env): string {
  return checkedMfaKey(env.MFA_ENCRYPTION_KEY, getConfig(env).isProduction);
}

function checkedMfaKey(key: string | undefined, isProduction: boolean): string {
  if (key) {
    if (!/^[A-Za-z0-9_-]{43}$/.test(key)) throw new ConfigError('MFA_ENCRYPTION_KEY must be 32 bytes, base64url');
    if (isProduction && key === DEV_MFA_ENCRYPTION_KEY) {
      throw new ConfigError('the development MFA key cannot be used in production');
    }
    return key;
  }
  if (isProduction) throw new ConfigError('MFA_ENCRYPTION_KEY secret is required in production');
  return DEV_MFA_ENCRYPTION_KEY;
}

/** The client secret of a social sign-in provider: `AUTH_PROVIDER_<ID>_CLIENT_SECRET`. */
export function providerClientSecret(env: Env, id: string): string | undefined {
  const name = `AUTH_PROVIDER_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_CLIENT_SECRET`;
  const value = (env as unknown as Record<string, unknown>)[name];
  return typeof value === 'string' && value ? value : undefined;
}
