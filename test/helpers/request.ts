import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { vi } from 'vitest';
import worker from '../../src/index';
import type { Env } from '../../src/env';

export interface CallOptions {
  body?: unknown;
  /** Raw body text, sent as is (e.g. malformed JSON). */
  rawBody?: string;
  token?: string;
  /** `Token` (RealWorld) by default. */
  scheme?: 'Token' | 'Bearer';
  headers?: Record<string, string>;
  /** Overrides of the Worker's bindings for this one request. */
  env?: Partial<Env>;
  /** Client IP; a fresh random one per call unless given, so per-IP limits never leak between tests. */
  ip?: string;
}

export interface CallResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  /** Storage round trips the request made before its response, from its structured log line. */
  d1: number;
  kv: number;
  log: Record<string, unknown>;
}

let counter = 0;

export function randomIp(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

/** Sends a request through the Worker's own fetch handler and waits for its `waitUntil` work. */
export async function call<T = any>(method: string, path: string, options: CallOptions = {}): Promise<CallResult<T>> {
  const requestId = `test-${Date.now()}-${++counter}`;
  const headers = new Headers(options.headers);
  headers.set('X-Request-Id', requestId);
  if (!headers.has('CF-Connecting-IP')) headers.set('CF-Connecting-IP', options.ip ?? randomIp());
  if (options.token) headers.set('Authorization', `${options.scheme ?? 'Token'} ${options.token}`);
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  }
  const request = new Request(`http://folio.test${path}`, { method, headers, body });

  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(String(args[0]));
  });
  const ctx = createExecutionContext();
  let response: Response;
  try {
    const workerEnv = options.env ? { ...env, ...options.env } : env;
    response = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, workerEnv, ctx);
  } finally {
    spy.mockRestore();
  }
  await waitOnExecutionContext(ctx);

  const log =
    lines
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      })
      .find((l) => l.message === 'request' && l.requestId === requestId) ?? {};
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
    d1: Number(log.d1 ?? NaN),
    kv: Number(log.kv ?? NaN),
    log,
  };
}
