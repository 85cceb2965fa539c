import { logError } from '../lib/log';

/** The events pushed to members' sockets (small JSON; D1 stays the record). */
export type RealtimeEvent =
  | { type: 'message.created'; conversationId: string; message: unknown }
  | { type: 'message.deleted'; conversationId: string; messageId: string }
  | { type: 'conversation.read'; conversationId: string; username: string; upTo: string }
  | { type: 'conversation.updated'; conversationId: string; reason: 'created' | 'title' | 'left' | 'joined' };

function memberSockets(env: Env, userId: string) {
  return env.MEMBER_SOCKETS.get(env.MEMBER_SOCKETS.idFromName(userId));
}

/** Pushes an event to each member's object (call after the batch committed, inside waitUntil). */
export async function notifyMembers(env: Env, userIds: string[], event: RealtimeEvent): Promise<void> {
  const payload = JSON.stringify(event);
  await Promise.all(
    [...new Set(userIds)].map((id) =>
      memberSockets(env, id)
        .notify(payload)
        .catch((err: unknown) =>
          logError('realtime notify failed', { event: event.type, error: err instanceof Error ? err.name : 'unknown' }),
        ),
    ),
  );
}

/**
 * Closes the WebSockets opened by revoked sessions. The one hook the session-revoking paths (logout,
 * session revocation, password change and reset, refresh-token reuse) call, inside waitUntil.
 */
export async function closeRealtimeSessions(env: Env, userId: string, sessionIds: string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  try {
    await memberSockets(env, userId).closeSessions(sessionIds);
  } catch (err) {
    logError('realtime close failed', { error: err instanceof Error ? err.name : 'unknown' });
  }
}

/** Forwards an authenticated upgrade to the member's object, which accepts the socket. */
export function connectMemberSocket(env: Env, userId: string, sessionId: string): Promise<Response> {
  return memberSockets(env, userId).fetch('https://member-sockets/connect', {
    headers: { Upgrade: 'websocket', 'X-Folio-Session-Id': sessionId },
  });
}
