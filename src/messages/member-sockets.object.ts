import { DurableObject } from 'cloudflare:workers';

/** Kept on each socket (serializeAttachment survives hibernation): which session opened it. */
interface SocketAttachment {
  sessionId: string;
  connectedAt: number;
}

/** WebSocket close code sent when the socket's session is revoked (logout, revocation, password change). */
const SESSION_REVOKED_CLOSE_CODE = 4001;

/**
 * How long the object remembers a revoked session. An upgrade checked against D1 just before the
 * revocation committed can reach the object just after `closeSessions` ran; it arrives within the
 * ticket's lifetime (60 s) or not at all, so a few minutes cover it.
 */
const REVOKED_MEMORY_MS = 5 * 60_000;
const revokedKey = (sessionId: string) => `revoked:${sessionId}`;

/** Durable Object storage takes at most 128 keys per put or delete. */
function chunks<T>(items: T[], size = 128): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * One Durable Object per member (`idFromName(userId)`), holding that member's open WebSockets with
 * the Hibernation API: sockets are accepted with `ctx.acceptWebSocket(ws, [sessionId])`, so the object
 * can be evicted from memory between events without dropping them, and `getWebSockets(sessionId)`
 * finds one session's sockets when it is revoked. The Worker authenticates (single-use ticket) before
 * forwarding the upgrade here; D1 stays the record, this object only fans events out.
 */
export class MemberSockets extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  override async fetch(request: Request): Promise<Response> {
    const sessionId = request.headers.get('X-Folio-Session-Id');
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket' || !sessionId) {
      return new Response(null, { status: 400 });
    }
    // Storage reads close the object's input gate, so a closeSessions call cannot slip in between this
    // check and the accept below.
    if ((await this.ctx.storage.get(revokedKey(sessionId))) !== undefined) {
      return new Response(null, { status: 401 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [sessionId]);
    const attachment: SocketAttachment = { sessionId, connectedAt: Date.now() };
    server.serializeAttachment(attachment);
    server.send(JSON.stringify({ type: 'ready' }));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Pushes one event (already JSON) to every open socket; returns how many were open. */
  async notify(payload: string): Promise<number> {
    const sockets = this.ctx.getWebSockets();
    for (const ws of sockets) {
      try {
        ws.send(payload);
      } catch {
        // A socket closing right now; its close handler cleans up.
      }
    }
    return sockets.length;
  }

  /**
   * Closes the sockets opened by these sessions and refuses new ones for them (an upgrade already
   * past its D1 check when the revocation committed); returns how many were closed.
   */
  async closeSessions(sessionIds: string[]): Promise<number> {
    const until = Date.now() + REVOKED_MEMORY_MS;
    for (const chunk of chunks(sessionIds)) {
      await this.ctx.storage.put(Object.fromEntries(chunk.map((id) => [revokedKey(id), until])));
    }
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(until);
    let closed = 0;
    for (const sessionId of sessionIds) {
      for (const ws of this.ctx.getWebSockets(sessionId)) {
        try {
          // Said in a frame too: a close code can be lost by proxies on the way (seen with wrangler dev).
          ws.send('{"type":"session.revoked"}');
          ws.close(SESSION_REVOKED_CLOSE_CODE, 'session revoked');
          closed++;
        } catch {
          // already closing
        }
      }
    }
    return closed;
  }

  /** How many sockets are open, and for which sessions (from their attachments). */
  async describe(): Promise<{ sockets: number; sessions: string[] }> {
    const sockets = this.ctx.getWebSockets();
    const sessions = sockets.map((ws) => (ws.deserializeAttachment() as SocketAttachment | null)?.sessionId ?? '?');
    return { sockets: sockets.length, sessions };
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // Clients only listen (sends go over HTTP, so D1 stays the record); anything but ping is refused.
    if (typeof message !== 'string' || message.length > 1024) return;
    ws.send(JSON.stringify({ type: 'error', error: 'send messages with POST /api/conversations/:id/messages' }));
  }

  /** Forgets revoked sessions once no upgrade checked before their revocation can still arrive. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const revoked = await this.ctx.storage.list<number>({ prefix: 'revoked:' });
    const expired = [...revoked].filter(([, until]) => until <= now).map(([key]) => key);
    for (const chunk of chunks(expired)) await this.ctx.storage.delete(chunk);
    const next = Math.min(...[...revoked].filter(([, until]) => until > now).map(([, until]) => until));
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(next);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }
}
