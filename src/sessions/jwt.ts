import { importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';
import type { AppConfig } from '../config';
import { ConfigError } from '../errors';
import { DEV_SIGNING_JWK, DEV_SIGNING_KEY_ID } from './dev-signing-key';

/** Only asymmetric algorithms are accepted; verification pins the list, so `none`/HS256 never pass. */
const ALGORITHMS = ['EdDSA', 'ES256'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

const jwkSchema = z.object({ kid: z.string().min(1), alg: z.enum(ALGORITHMS), kty: z.string() }).loose();

interface KeyRing {
  signing: { kid: string; alg: Algorithm; key: CryptoKey };
  /** kid → public key, for the current key and every previous key still trusted. */
  verifying: Map<string, { alg: Algorithm; key: CryptoKey }>;
  /** Public JWKs as published at /.well-known/jwks.json. */
  publicJwks: JWK[];
}

let cached: { source: string; ring: Promise<KeyRing> } | undefined;

function publicPart(jwk: JWK): JWK {
  const { kty, crv, x, y, kid, alg } = jwk;
  return Object.fromEntries(
    Object.entries({ kty, crv, x, y, kid, alg, use: 'sig' }).filter(([, v]) => v !== undefined),
  ) as JWK;
}

function parseJwk(text: string, name: string): JWK {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(`${name} is not valid JSON`);
  }
  const parsed = jwkSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(`${name} must be a JWK with kid and alg (EdDSA or ES256)`);
  return parsed.data as JWK;
}

async function buildKeyRing(env: Env, config: AppConfig): Promise<KeyRing> {
  let privateJwk: JWK;
  if (env.JWT_PRIVATE_KEY) {
    privateJwk = parseJwk(env.JWT_PRIVATE_KEY, 'JWT_PRIVATE_KEY');
  } else if (!config.isProduction) {
    privateJwk = { ...DEV_SIGNING_JWK };
  } else {
    throw new ConfigError('JWT_PRIVATE_KEY secret is required in production');
  }
  if (config.isProduction && privateJwk.kid === DEV_SIGNING_KEY_ID) {
    throw new ConfigError('the development signing key cannot be used in production');
  }
  if (!privateJwk.d) throw new ConfigError('JWT_PRIVATE_KEY must be a private JWK');

  const previous: JWK[] = [];
  if (env.JWT_PREVIOUS_PUBLIC_KEYS) {
    let list: unknown;
    try {
      list = JSON.parse(env.JWT_PREVIOUS_PUBLIC_KEYS);
    } catch {
      throw new ConfigError('JWT_PREVIOUS_PUBLIC_KEYS is not valid JSON');
    }
    if (!Array.isArray(list)) throw new ConfigError('JWT_PREVIOUS_PUBLIC_KEYS must be a JSON array of JWKs');
    for (const item of list) previous.push(publicPart(parseJwk(JSON.stringify(item), 'JWT_PREVIOUS_PUBLIC_KEYS')));
  }

  const alg = privateJwk.alg as Algorithm;
  const kid = privateJwk.kid as string;
  const signingKey = (await importJWK(privateJwk, alg)) as CryptoKey;
  const publicJwks = [publicPart(privateJwk), ...previous.filter((k) => k.kid !== kid)];
  const verifying = new Map<string, { alg: Algorithm; key: CryptoKey }>();
  for (const jwk of publicJwks) {
    const keyAlg = jwk.alg as Algorithm;
    verifying.set(jwk.kid as string, { alg: keyAlg, key: (await importJWK(jwk, keyAlg)) as CryptoKey });
  }
  return { signing: { kid, alg, key: signingKey }, verifying, publicJwks };
}

/** Imports keys once per isolate (and again only if the secrets change). */
function loadKeyRing(env: Env, config: AppConfig): Promise<KeyRing> {
  const source = `${config.environment}\n${env.JWT_PRIVATE_KEY ?? ''}\n${env.JWT_PREVIOUS_PUBLIC_KEYS ?? ''}`;
  if (cached?.source !== source) {
    const ring = buildKeyRing(env, config);
    // A failed import must not be cached: the next request retries (and reports) it.
    ring.catch(() => {
      if (cached?.ring === ring) cached = undefined;
    });
    cached = { source, ring };
  }
  return cached.ring;
}

/** How a session was authenticated, carried in every access token it issues. */
export interface SessionAssurance {
  /** RFC 8176 authentication method references, e.g. `['pwd']`, `['pwd', 'otp', 'mfa']`. */
  amr: string[];
  /** Assurance level: 1 one factor, 2 two factors or a passkey. */
  aal: 1 | 2;
  /** When the user last proved who they are in this session (unix seconds). */
  authTime: number;
}

export interface AccessClaims extends SessionAssurance {
  userId: string;
  sessionId: string;
}

export async function signAccessToken(env: Env, config: AppConfig, claims: AccessClaims, now: Date): Promise<string> {
  const { signing } = await loadKeyRing(env, config);
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ sid: claims.sessionId, amr: claims.amr, aal: claims.aal, auth_time: claims.authTime })
    .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'JWT' })
    .setIssuer(config.jwtIssuer)
    .setAudience(config.jwtAudience)
    .setSubject(claims.userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + config.accessTokenTtlSeconds)
    .sign(signing.key);
}

/** Verifies signature (pinned algorithms, known kid), issuer, audience and expiry. Null if anything fails. */
export async function verifyAccessToken(
  env: Env,
  config: AppConfig,
  token: string,
  now: Date,
): Promise<(AccessClaims & { expiresAt: number }) | null> {
  const ring = await loadKeyRing(env, config);
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const entry = header.kid ? ring.verifying.get(header.kid) : undefined;
        if (!entry || entry.alg !== header.alg) throw new Error('unknown key');
        return entry.key;
      },
      {
        algorithms: [...ALGORITHMS],
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
        requiredClaims: ['sub', 'sid', 'exp', 'iat'],
        currentDate: now,
      },
    );
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || typeof payload.exp !== 'number') {
      return null;
    }
    // Tokens issued before these claims existed were password sign-ins, authenticated when issued.
    const amr = Array.isArray(payload.amr) && payload.amr.every((m) => typeof m === 'string') ? payload.amr : ['pwd'];
    const authTime = typeof payload.auth_time === 'number' ? payload.auth_time : (payload.iat as number);
    return {
      userId: payload.sub,
      sessionId: payload.sid,
      expiresAt: payload.exp,
      amr,
      aal: payload.aal === 2 ? 2 : 1,
      authTime,
    };
  } catch {
    return null;
  }
}

export async function publicJwks(env: Env, config: AppConfig): Promise<JWK[]> {
  return (await loadKeyRing(env, config)).publicJwks;
}
