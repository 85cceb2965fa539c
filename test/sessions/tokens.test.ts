import { exportJWK, generateKeyPair, importJWK, jwtVerify, createLocalJWKSet, SignJWT, type JWK } from 'jose';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { getConfig } from '../../src/config';
import { DEV_SIGNING_JWK } from '../../src/sessions/dev-signing-key';
import { signAccessToken } from '../../src/sessions/jwt';
import { verifyAccessTokenOnce } from '../../src/sessions/verified-tokens';
import { registerUser } from '../helpers/factories';
import { call } from '../helpers/request';

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const decode = (part: string) => JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));

async function claimsOf(token: string) {
  const [header, payload] = token.split('.');
  return { header: decode(header!), payload: decode(payload!) };
}

async function signWith(key: CryptoKey, header: Record<string, unknown>, payload: Record<string, unknown>) {
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key);
}

const devKey = () => importJWK(DEV_SIGNING_JWK, 'EdDSA') as Promise<CryptoKey>;

describe('access tokens', () => {
  it('are EdDSA JWTs with kid, iss, aud, sub, sid, iat and exp (24 hours by default)', async () => {
    const user = await registerUser();
    const { header, payload } = await claimsOf(user.token);
    expect(header).toMatchObject({ alg: 'EdDSA', kid: DEV_SIGNING_JWK.kid, typ: 'JWT' });
    expect(payload).toMatchObject({
      iss: env.JWT_ISSUER,
      aud: env.JWT_AUDIENCE,
      sub: expect.stringMatching(/^usr_/),
      sid: expect.stringMatching(/^ses_/),
    });
    expect(payload.exp - payload.iat).toBe(86_400);
  });

  it('verify against the published JWKS, which holds no private material', async () => {
    const user = await registerUser();
    const res = await call('GET', '/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.body.keys).toHaveLength(1);
    expect(res.body.keys[0]).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      kid: DEV_SIGNING_JWK.kid,
      alg: 'EdDSA',
      use: 'sig',
    });
    expect(res.body.keys[0].d).toBeUndefined();
    const { payload } = await jwtVerify(user.token, createLocalJWKSet(res.body), {
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
    });
    expect(payload.sid).toEqual(expect.any(String));
  });

  describe('forged or stale tokens are refused with 401', () => {
    const refused = async (token: string) => {
      const res = await call('GET', '/api/user', { token });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ errors: { token: ['is missing'] } });
    };

    it('alg "none"', async () => {
      const user = await registerUser();
      const { payload } = await claimsOf(user.token);
      await refused(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`);
    });

    it('signed by another key under the same kid', async () => {
      const user = await registerUser();
      const { payload } = await claimsOf(user.token);
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      await refused(await signWith(privateKey, { alg: 'EdDSA', kid: DEV_SIGNING_JWK.kid }, payload));
    });

    it('HS256 signed with the public key as the secret', async () => {
      const user = await registerUser();
      const { payload } = await claimsOf(user.token);
      const secret = new TextEncoder().encode(JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: DEV_SIGNING_JWK.x }));
      const token = await new SignJWT(payload)
        .setProtectedHeader({ alg: 'HS256', kid: DEV_SIGNING_JWK.kid })
        .sign(secret);
      await refused(token);
    });

    it('expired', async () => {
      const user = await registerUser();
      const { payload } = await claimsOf(user.token);
      const past = Math.floor(Date.now() / 1000) - 7200;
      await refused(
        await signWith(
          await devKey(),
          { alg: 'EdDSA', kid: DEV_SIGNING_JWK.kid },
          { ...payload, iat: past - 60, exp: past },
        ),
      );
    });

    it('wrong audience', async () => {
      const user = await registerUser();
      const { payload } = await claimsOf(user.token);
      await refused(
        await signWith(await devKey(), { alg: 'EdDSA', kid: DEV_SIGNING_JWK.kid }, { ...payload, aud: 'someone-else' }),
      );
    });

    it('wrong issuer', async () => {
      const user = await registerUser();
      const { payload } = await claimsOf(user.token);
      await refused(
        await signWith(
          await devKey(),
          { alg: 'EdDSA', kid: DEV_SIGNING_JWK.kid },
          { ...payload, iss: 'https://evil.example' },
        ),
      );
    });

    it('without exp', async () => {
      const user = await registerUser();
      const { payload } = await claimsOf(user.token);
      const { exp: _exp, ...rest } = payload;
      await refused(await signWith(await devKey(), { alg: 'EdDSA', kid: DEV_SIGNING_JWK.kid }, rest));
    });

    it('tampered payload (another user id)', async () => {
      const [a, b] = [await registerUser(), await registerUser()];
      const [header, , signature] = a.token.split('.');
      const { payload } = await claimsOf(b.token);
      await refused(`${header}.${b64url({ ...(await claimsOf(a.token)).payload, sub: payload.sub })}.${signature}`);
    });

    it('valid signature but a session that belongs to another user', async () => {
      const [a, b] = [await registerUser(), await registerUser()];
      const pa = (await claimsOf(a.token)).payload;
      const pb = (await claimsOf(b.token)).payload;
      await refused(await signWith(await devKey(), { alg: 'EdDSA', kid: DEV_SIGNING_JWK.kid }, { ...pa, sid: pb.sid }));
    });

    it('unknown kid', async () => {
      const user = await registerUser();
      const { payload } = await claimsOf(user.token);
      await refused(await signWith(await devKey(), { alg: 'EdDSA', kid: 'retired-key' }, payload));
    });
  });

  it('a token accepted before is refused once it has expired (verifications kept per isolate expire with it)', async () => {
    const user = await registerUser();
    expect((await call('GET', '/api/user', { token: user.token })).status).toBe(200);
    const { payload } = await claimsOf(user.token);
    vi.useFakeTimers({ toFake: ['Date'], now: payload.exp * 1000 + 1000 });
    try {
      expect((await call('GET', '/api/user', { token: user.token })).status).toBe(401);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a kept verification never outlives the token: a 60-second token is refused after 61 seconds', async () => {
    const shortEnv = { ...env, ACCESS_TOKEN_TTL_SECONDS: '60' };
    const config = getConfig(shortEnv);
    const now = new Date();
    const claims = {
      userId: 'usr_x',
      sessionId: 'ses_x',
      amr: ['pwd'],
      aal: 1 as const,
      authTime: now.getTime() / 1000,
    };
    const token = await signAccessToken(shortEnv, config, claims, now);
    expect(await verifyAccessTokenOnce(shortEnv, config, token, now)).toMatchObject({ userId: 'usr_x' });
    expect(await verifyAccessTokenOnce(shortEnv, config, token, new Date(now.getTime() + 59_000))).not.toBeNull();
    expect(await verifyAccessTokenOnce(shortEnv, config, token, new Date(now.getTime() + 61_000))).toBeNull();
  });

  it('a token accepted before is refused once its session is revoked', async () => {
    const user = await registerUser();
    expect((await call('GET', '/api/user', { token: user.token })).status).toBe(200);
    expect((await call('POST', '/api/users/logout', { token: user.token })).status).toBe(204);
    expect((await call('GET', '/api/user', { token: user.token })).status).toBe(401);
  });

  it('keep verifying after key rotation while the old public key is still configured', async () => {
    const user = await registerUser();
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const newJwk: JWK = { ...(await exportJWK(privateKey)), kid: 'key-2027', alg: 'EdDSA' };
    const { d: _d, ...oldPublic } = DEV_SIGNING_JWK;
    const rotated = {
      JWT_PRIVATE_KEY: JSON.stringify(newJwk),
      JWT_PREVIOUS_PUBLIC_KEYS: JSON.stringify([oldPublic]),
    };
    expect((await call('GET', '/api/user', { token: user.token, env: rotated })).status).toBe(200);

    const fresh = await call('POST', '/api/users/login', {
      env: rotated,
      body: { user: { email: user.email, password: user.password } },
    });
    expect((await claimsOf(fresh.body.user.token)).header.kid).toBe('key-2027');
    expect((await call('GET', '/api/user', { token: fresh.body.user.token, env: rotated })).status).toBe(200);

    const jwks = await call('GET', '/.well-known/jwks.json', { env: rotated });
    expect(jwks.body.keys.map((k: JWK) => k.kid)).toEqual(['key-2027', DEV_SIGNING_JWK.kid]);
    expect(JSON.stringify(jwks.body)).not.toContain(newJwk.d);

    // Once the old key is removed from config, its tokens stop verifying.
    const retired = { JWT_PRIVATE_KEY: JSON.stringify(newJwk), JWT_PREVIOUS_PUBLIC_KEYS: '' };
    expect((await call('GET', '/api/user', { token: user.token, env: retired })).status).toBe(401);
  });
});
