import type { Role } from '../security/permissions';
/**
 * The edge copy of active sessions in KV. D1 is the record; this copy lets an authenticated request
 * be checked with one KV read. KV is eventually consistent (~60 s across locations), which bounds
 * how long a revoked session can still be accepted elsewhere (see README.md).
 */
export interface SessionCopy {
  userId: string;
  /**
   * The role the account acts with (stored role, or admin by ADMIN_USERNAMES), fixed at sign-in. A
   * role change or ban revokes the account's sessions, so a copy never outlives its role by more
   * than KV's propagation delay. Copies written before roles existed lack it and are re-read from D1.
   */
  role?: Role;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** When this copy was written: the session was in use then, so last-seen need not be recorded again soon. */
  seenAt: number;
}

/** KV refuses TTLs below 60 seconds. */
const KV_MIN_TTL_SECONDS = 60;

export function sessionKey(sessionId: string): string {
  return `session:${sessionId}`;
}

export async function readSessionCopy(kv: KVNamespace, sessionId: string): Promise<SessionCopy | null> {
  return kv.get<SessionCopy>(sessionKey(sessionId), 'json');
}

export async function writeSessionCopy(
  kv: KVNamespace,
  sessionId: string,
  session: { userId: string; role: Role; expiresAt: number },
  now: Date,
): Promise<void> {
  const copy: SessionCopy = { ...session, seenAt: now.getTime() };
  const ttl = Math.max(KV_MIN_TTL_SECONDS, Math.ceil((copy.expiresAt - now.getTime()) / 1000));
  await kv.put(sessionKey(sessionId), JSON.stringify(copy), { expirationTtl: ttl });
}

export async function deleteSessionCopies(kv: KVNamespace, sessionIds: string[]): Promise<void> {
  await Promise.all(sessionIds.map((id) => kv.delete(sessionKey(id))));
}
