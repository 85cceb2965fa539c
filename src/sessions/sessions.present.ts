import type { listActiveSessions } from './sessions.service';

type SessionRow = Awaited<ReturnType<typeof listActiveSessions>>[number];

/** One entry of `GET /api/user/sessions`; `current` marks the session making the request. */
export function toSession(row: SessionRow, currentSessionId: string) {
  return {
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    lastSeenAt: row.lastSeenAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    userAgent: row.userAgent,
    country: row.country,
    current: row.id === currentSessionId,
  };
}
