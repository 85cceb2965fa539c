import { env, exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import type { MemberSockets } from '../../src/messages/member-sockets.object';
import type { TestUser } from '../helpers/factories';
import { call } from '../helpers/request';

/** A real WebSocket opened through the Worker, with its events queued for the test to await. */
export interface Socket {
  ws: WebSocket;
  /** Resolves with the next event (JSON) of this type. */
  next(type: string, timeoutMs?: number): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
  /** The close event, or a rejection when the socket is still open after `timeoutMs`. */
  closedWithin(timeoutMs?: number): Promise<{ code: number; reason: string }>;
}

/** The Worker's own entry (`exports.default`), as a fetcher. */
export const worker = (exports as unknown as { default: Fetcher }).default;

export async function ticket(user: TestUser): Promise<string> {
  const res = await call('POST', '/api/realtime/ticket', { token: user.token });
  expect(res.status).toBe(201);
  return res.body.ticket;
}

/** Opens a real WebSocket through the Worker's own fetch handler. */
export async function connect(t: string): Promise<Response> {
  return worker.fetch(`http://folio.test/api/realtime?ticket=${encodeURIComponent(t)}`, {
    headers: { Upgrade: 'websocket' },
  });
}

/** Gets a ticket with the user's token, opens the socket, and waits for its `ready` event. */
export async function open(user: TestUser): Promise<Socket> {
  const res = await connect(await ticket(user));
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const events: any[] = [];
  const waiters: Array<() => void> = [];
  ws.accept();
  ws.addEventListener('message', (e) => {
    events.push(JSON.parse(e.data as string));
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason })),
  );
  const socket: Socket = {
    ws,
    closed,
    async next(type, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = events.findIndex((e) => e.type === type);
        if (i >= 0) return events.splice(i, 1)[0];
        if (Date.now() > deadline) throw new Error(`no ${type} event within ${timeoutMs} ms`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), new Promise((r) => setTimeout(r, 50))]);
      }
    },
    closedWithin(timeoutMs = 3000) {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
      });
      return Promise.race([closed, timeout]).finally(() => clearTimeout(timer));
    },
  };
  await socket.next('ready');
  return socket;
}

export function stubOf(userId: string) {
  const namespace = env.MEMBER_SOCKETS as unknown as DurableObjectNamespace<MemberSockets>;
  return namespace.get(namespace.idFromName(userId));
}

export async function userIdOf(user: TestUser): Promise<string> {
  return (await env.DB.prepare('SELECT id FROM users WHERE username = ?').bind(user.username).first<string>('id'))!;
}
