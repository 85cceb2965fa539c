import { env } from 'cloudflare:workers';
import { registerUser, type TestUser } from '../helpers/factories';
import { call, type CallOptions } from '../helpers/request';

/** A registered member whose email is confirmed through the real flow (outbox link → POST /api/users/verify). */
export async function member(): Promise<TestUser> {
  const user = await registerUser();
  const mail = await env.DB.prepare(
    "SELECT body FROM outbox WHERE recipient = ? AND kind = 'verify_email' ORDER BY created_at DESC LIMIT 1",
  )
    .bind(user.email)
    .first<{ body: string }>();
  const token = decodeURIComponent(/token=([^\s]+)/.exec(mail!.body)![1]!);
  const res = await call('POST', '/api/users/verify', { body: { token } });
  if (res.status !== 200) throw new Error(`verify failed: ${res.status}`);
  return user;
}

export async function members(n: number): Promise<TestUser[]> {
  const list: TestUser[] = [];
  for (let i = 0; i < n; i++) list.push(await member());
  return list;
}

export function start(
  by: TestUser,
  others: TestUser[],
  extra: Record<string, unknown> = {},
  options: Partial<CallOptions> = {},
) {
  return call('POST', '/api/conversations', {
    token: by.token,
    body: { participants: others.map((o) => o.username), ...extra },
    ...options,
  });
}

/** Starts a conversation and returns its id (fails the test on anything but 200/201). */
export async function conversation(by: TestUser, others: TestUser[], extra: Record<string, unknown> = {}) {
  const res = await start(by, others, extra);
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`start failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.conversation.id as string;
}

export function send(by: TestUser, conversationId: string, body: string, clientId?: string) {
  return call('POST', `/api/conversations/${conversationId}/messages`, {
    token: by.token,
    body: clientId === undefined ? { body } : { body, clientId },
  });
}

/** Sends and returns the message (fails on anything but 201). */
export async function sent(by: TestUser, conversationId: string, body: string) {
  const res = await send(by, conversationId, body);
  if (res.status !== 201) throw new Error(`send failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.message as { id: string; body: string };
}

export function messagesOf(by: TestUser, conversationId: string, query = '') {
  return call('GET', `/api/conversations/${conversationId}/messages${query}`, { token: by.token });
}

export function inbox(by: TestUser, query = '', headers: Record<string, string> = {}) {
  return call('GET', `/api/conversations${query}`, { token: by.token, headers });
}
