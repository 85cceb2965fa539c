import { and, eq, isNotNull } from 'drizzle-orm';
import type { Database } from '../db/client';
import { mfaTotp } from '../db/schema';
import { AppError } from '../errors';
import type { SessionAssurance } from './jwt';

/**
 * Sensitive actions (changing email or password, turning two-factor on or off, regenerating recovery
 * codes, adding or removing a sign-in method) need a *recent* proof of identity in this session:
 * signed in or re-authenticated (POST /api/user/reauthenticate) within this window. For an account
 * with two-factor on, that proof must have included the second factor (assurance level 2). A fresh
 * login counts, so RealWorld clients changing their profile right after logging in are unaffected.
 */
const REAUTH_WINDOW_SECONDS = 10 * 60;

/** One indexed read: whether the account has an active TOTP authenticator. */
export async function hasSecondFactor(db: Database, userId: string): Promise<boolean> {
  const row = await db
    .select({ userId: mfaTotp.userId })
    .from(mfaTotp)
    .where(and(eq(mfaTotp.userId, userId), isNotNull(mfaTotp.enabledAt)))
    .limit(1);
  return row.length > 0;
}

/** Throws 403 (with an RFC 9470 step-up challenge) unless the session is fresh and strong enough. */
export function assertStepUp(auth: SessionAssurance, secondFactorOn: boolean, now: Date): void {
  const challenge = (message: string) =>
    new AppError(
      403,
      { reauthentication: [message] },
      { 'WWW-Authenticate': `Token error="insufficient_user_authentication", max_age=${REAUTH_WINDOW_SECONDS}` },
    );
  if (secondFactorOn && auth.aal < 2) throw challenge('requires your second factor');
  if (now.getTime() / 1000 - auth.authTime > REAUTH_WINDOW_SECONDS) throw challenge('requires a recent sign-in');
}
