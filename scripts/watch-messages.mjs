#!/usr/bin/env node
// Watches a member's real-time messaging events: gets a single-use ticket with the member's access
// token, opens the WebSocket and prints every event as one JSON line. Reconnects (with a fresh
// ticket) when the connection drops, and stops when the session is revoked (`session.revoked`, close 4001).
//
//   TOKEN=<access token> npm run messages:watch [-- http://localhost:8787]
//
// Needs Node 22+ (global WebSocket); `npm run` uses the project's pinned Node 24.
/* global process, console, fetch, WebSocket, setTimeout, URL */

const base = (process.argv[2] ?? process.env.FOLIO_URL ?? 'http://localhost:8787').replace(/\/$/, '');
const token = process.env.TOKEN;
if (!token) {
  console.error('Set TOKEN to an access token (the "token" of POST /api/users/login).');
  process.exit(2);
}
if (typeof WebSocket !== 'function') {
  console.error('This script needs Node 22+ (global WebSocket). Run it with `npm run messages:watch`.');
  process.exit(2);
}

async function ticket() {
  const res = await fetch(`${base}/api/realtime/ticket`, {
    method: 'POST',
    headers: { Authorization: `Token ${token}` },
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`ticket: ${res.status} ${JSON.stringify(body)}`);
  return body.url;
}

async function connect(attempt = 0) {
  const path = await ticket();
  const url = new URL(path, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url);
  ws.addEventListener('open', () => console.error(`[watch] connected to ${url.origin}`));
  ws.addEventListener('message', (event) => {
    console.log(String(event.data));
    if (String(event.data) === '{"type":"session.revoked"}') process.exit(0);
  });
  ws.addEventListener('close', (event) => {
    console.error(`[watch] closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`);
    if (event.code === 4001) process.exit(0);
    // After a reconnect, catch up with GET /api/conversations/{id}/messages?after=<last id seen>.
    setTimeout(() => connect(attempt + 1).catch(fail), Math.min(30_000, 1000 * 2 ** attempt));
  });
  ws.addEventListener('error', () => {});
}

function fail(err) {
  console.error(`[watch] ${err.message}`);
  process.exit(1);
}

connect().catch(fail);
