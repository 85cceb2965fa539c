import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { registerUser } from '../helpers/factories';
import { call } from '../helpers/request';
import { totpCode } from '../helpers/totp';

const rows = async (table: string, userId: string) =>
  (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE user_id = ?`).bind(userId).first<{ n: number }>())!.n;

describe('data rights and sign-in methods', () => {
  it('the export lists sign-in methods without secrets, and deleting the account removes every one of them', async () => {
    await registerUser(); // the database's first account is its admin, who may not leave
    const user = await registerUser();
    const { id: userId } = (await env.DB.prepare('SELECT id FROM users WHERE username = ?')
      .bind(user.username)
      .first<{ id: string }>())!;
    const enrol = await call('POST', '/api/user/mfa/totp', { token: user.token });
    expect(enrol.status).toBe(200);
    const verify = await call('POST', '/api/user/mfa/totp/verify', {
      token: user.token,
      body: { code: totpCode(enrol.body.secret) },
    });
    expect(verify.status).toBe(200);
    const token = verify.body.user.token as string;

    const exported = await call('GET', '/api/user/export', { token });
    expect(exported.status).toBe(200);
    const methods = exported.body.signInMethods ?? exported.body.sections?.signInMethods;
    expect(methods.twoFactor.enabled).toBe(true);
    expect(methods.recoveryCodesLeft).toBe(10);
    expect(methods.identities).toEqual([]);
    expect(methods.passkeys).toEqual([]);
    expect(JSON.stringify(exported.body)).not.toContain(enrol.body.secret);

    expect(await rows('mfa_totp', userId)).toBe(1);
    expect(await rows('mfa_recovery_codes', userId)).toBe(10);
    const deleted = await call('DELETE', '/api/user', { token, body: { password: user.password } });
    expect(deleted.status).toBe(204);
    expect(await rows('mfa_totp', userId)).toBe(0);
    expect(await rows('mfa_recovery_codes', userId)).toBe(0);
    expect(await rows('identities', userId)).toBe(0);
    expect(await rows('passkeys', userId)).toBe(0);
  });
});
