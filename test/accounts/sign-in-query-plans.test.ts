import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { SoftwareAuthenticator } from '../passkeys/authenticator';
import { login, registerUser } from '../helpers/factories';
import { call } from '../helpers/request';
import { totpCode } from '../helpers/totp';
import { exchange, socialCall, socialSignIn } from '../social/helpers';

/** A D1 binding (and its sessions) that records every statement (SQL and bound values) the Worker prepares. */
function recordingD1(): { db: D1Database; statements: { sql: string; params: unknown[] }[] } {
  const statements: { sql: string; params: unknown[] }[] = [];
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, prop) {
        if (prop === 'prepare') {
          return (sql: string) => {
            const stmt = (t as unknown as D1Database).prepare(sql);
            const bind = stmt.bind.bind(stmt);
            const entry = { sql, params: [] as unknown[] };
            statements.push(entry);
            stmt.bind = (...params: unknown[]) => {
              entry.params = params;
              return bind(...params);
            };
            return stmt;
          };
        }
        if (prop === 'withSession') {
          return (constraint?: string) => wrap((t as unknown as D1Database).withSession(constraint));
        }
        const value = Reflect.get(t, prop, t);
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
  return { db: wrap(env.DB), statements };
}

const SIGN_IN_TABLES = [
  'users',
  'sessions',
  'refresh_tokens',
  'auth_flows',
  'mfa_totp',
  'mfa_recovery_codes',
  'identities',
  'passkeys',
  'login_lockouts',
];

async function fullScans(statements: { sql: string; params: unknown[] }[]) {
  const scans: string[] = [];
  for (const { sql, params } of statements) {
    if (!/^\s*(select|update|delete|insert)/i.test(sql)) continue;
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    for (const { detail } of results) {
      const table = SIGN_IN_TABLES.find((t) => new RegExp(`^SCAN (${t})\\b`).test(detail));
      if (table && !/USING .*INDEX/.test(detail)) scans.push(`${detail} ← ${sql.slice(0, 160)}`);
    }
  }
  return scans;
}

describe('sign-in query plans', () => {
  it('every statement of the TOTP, social and passkey flows seeks an index (no full scans)', async () => {
    const { db, statements } = recordingD1();
    const viaRecorder = { env: { DB: db } as Partial<Env> };

    // Two-factor: enrol, verify, login, second step with a code and a recovery code, regenerate, status.
    const user = await registerUser();
    const enrol = await call('POST', '/api/user/mfa/totp', { token: user.token, ...viaRecorder });
    const verify = await call('POST', '/api/user/mfa/totp/verify', {
      token: user.token,
      body: { code: totpCode(enrol.body.secret) },
      ...viaRecorder,
    });
    const step = await call('POST', '/api/users/login', {
      body: { user: { email: user.email, password: user.password } },
      ...viaRecorder,
    });
    await call('POST', '/api/users/login/mfa', {
      body: { mfaToken: step.body.mfaToken, code: totpCode(enrol.body.secret, 1) },
      ...viaRecorder,
    });
    const step2 = await login(user.email, user.password);
    await call('POST', '/api/users/login/mfa', {
      body: { mfaToken: step2.body.mfaToken, recoveryCode: verify.body.recoveryCodes[0] },
      ...viaRecorder,
    });
    await call('POST', '/api/user/mfa/recovery-codes', { token: verify.body.user.token, ...viaRecorder });
    await call('GET', '/api/user/mfa', { token: verify.body.user.token, ...viaRecorder });
    await call('POST', '/api/user/reauthenticate', {
      token: verify.body.user.token,
      body: { code: totpCode(enrol.body.secret, -1) },
      ...viaRecorder,
    });

    // Social: sign-in (new account), exchange, identities, unlink refused.
    const back = await socialSignIn({
      sub: `plan-${Date.now()}`,
      email: `plan-${Date.now()}@example.com`,
      email_verified: true,
    });
    const signedIn = await socialCall('POST', '/api/auth/exchange', {
      body: { code: back.searchParams.get('code') },
      env: { DB: db } as Partial<Env>,
    });
    const list = await socialCall('GET', '/api/user/identities', { token: signedIn.body.user.token, ...viaRecorder });
    await socialCall('DELETE', `/api/user/identities/${list.body.identities[0].id}`, {
      token: signedIn.body.user.token,
      ...viaRecorder,
    });
    expect(await exchange('unknown')).toMatchObject({ status: 401 });

    // Passkeys: register, sign in, list, remove.
    const pkUser = await registerUser();
    const authenticator = new SoftwareAuthenticator();
    const regOptions = await call('POST', '/api/user/passkeys/registration-options', {
      token: pkUser.token,
      ...viaRecorder,
    });
    await call('POST', '/api/user/passkeys', {
      token: pkUser.token,
      body: { response: await authenticator.create(regOptions.body) },
      ...viaRecorder,
    });
    const authOptions = await call('POST', '/api/users/passkeys/authentication-options', viaRecorder);
    const pkLogin = await call('POST', '/api/users/login/passkey', {
      body: { response: await authenticator.get(authOptions.body) },
      ...viaRecorder,
    });
    expect(pkLogin.status).toBe(200);
    await call('GET', '/api/user/passkeys', { token: pkUser.token, ...viaRecorder });
    await call('DELETE', `/api/user/passkeys/${authenticator.id}`, { token: pkUser.token, ...viaRecorder });

    expect(statements.length).toBeGreaterThan(30);
    expect(await fullScans(statements)).toEqual([]);
    // The detector itself: a filter on an unindexed column is reported.
    expect(await fullScans([{ sql: 'SELECT id FROM passkeys WHERE name = ?', params: ['x'] }])).toHaveLength(1);
  });
});
