import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, vi } from 'vitest';
import worker from '../../src/index';

export interface CallOptions {
  body?: unknown;
  /** Raw body text, sent as is (e.g. malformed JSON). */
  rawBody?: string;
  /** Raw bytes, sent as is (uploads). */
  bytes?: Uint8Array;
  token?: string;
  /** `Token` (RealWorld) by default. */
  scheme?: 'Token' | 'Bearer';
  headers?: Record<string, string>;
  /** Overrides of the Worker's bindings for this one request. */
  env?: Partial<Env>;
  /** Client IP; a fresh random one per call unless given, so per-IP limits never leak between tests. */
  ip?: string;
  /** What Cloudflare would attach as `request.cf` (e.g. `{ country: 'PT' }`). */
  cf?: Record<string, unknown>;
}

export interface CallResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  /** The raw response bytes (for non-JSON responses such as images). */
  bytes: Uint8Array;
  /** Storage round trips the request made before its response, from its structured log line. */
  d1: number;
  kv: number;
  log: Record<string, unknown>;
}

let counter = 0;

/**
 * The host requests are sent to. The edge cache (Cache API, one per Cloudflare location) keys its
 * entries by origin and outlives each test's isolated D1, so every test reads through a host of its
 * own: a location that has cached nothing yet.
 */
let origin = newOrigin();
beforeEach(() => {
  origin = newOrigin();
});

function newOrigin(): string {
  return `http://${crypto.randomUUID().slice(0, 8)}.folio.test`;
}

/**
 * Continues the test as seen from another Cloudflare location, whose edge cache holds nothing: for
 * reads after a write that did not go through the API (a cron job, a direct service call), which a
 * location's cache only notices once its copies expire.
 */
export function readFromAnotherLocation(): void {
  origin = newOrigin();
}

/** The location (origin) requests currently go to, to come back to it with `useLocation`. */
export function currentLocation(): string {
  return origin;
}

export function useLocation(location: string): void {
  origin = location;
}

/** Request log lines by request id, captured from the Worker's structured logging. */
const requestLogs = new Map<string, Record<string, unknown>>();
/** The real console.log, taken before any spy, so captured output can still pass through. */
const realLog = console.log.bind(console);

/** Keeps the Worker's request lines (by request id) and lets every other line through. */
function captureLine(...args: unknown[]): void {
  if (typeof args[0] === 'string' && args[0].startsWith('{')) {
    try {
      const line = JSON.parse(args[0]) as Record<string, unknown>;
      if (line.message === 'request' && typeof line.requestId === 'string') {
        requestLogs.set(line.requestId, line);
        return;
      }
    } catch {
      // not one of ours
    }
  }
  realLog(...args);
}

/**
 * One console.log spy for the whole file, so parallel calls each find their own line. Installed
 * again when another test's spy has replaced or restored console.log since.
 */
function captureRequestLogs(): void {
  const current = console.log;
  if (vi.isMockFunction(current) && current.getMockImplementation() === captureLine) return;
  vi.spyOn(console, 'log').mockImplementation(captureLine);
}

export function randomIp(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

/** Sends a request through the Worker's own fetch handler and waits for its `waitUntil` work. */
export async function call<T = any>(method: string, path: string, options: CallOptions = {}): Promise<CallResult<T>> {
  const headers = new Headers(options.headers);
  const requestId = headers.get('X-Request-Id') ?? `test-${Date.now()}-${++counter}`;
  headers.set('X-Request-Id', requestId);
  if (!headers.has('CF-Connecting-IP')) headers.set('CF-Connecting-IP', options.ip ?? randomIp());
  if (options.token) headers.set('Authorization', `${options.scheme ?? 'Token'} ${options.token}`);
  let body: string | Uint8Array | undefined = options.bytes ?? options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  }
  const request = new Request(`${origin}${path}`, { method, headers, body, cf: options.cf } as RequestInit);

  captureRequestLogs();
  const ctx = createExecutionContext();
  const workerEnv = options.env ? { ...env, ...options.env } : env;
  const response = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, workerEnv, ctx);
  await waitOnExecutionContext(ctx);
  const log = requestLogs.get(requestId) ?? {};
  requestLogs.delete(requestId);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  const isJson = (response.headers.get('Content-Type') ?? 'application/json').includes('json');
  return {
    status: response.status,
    headers: response.headers,
    body: text && isJson ? JSON.parse(text) : null,
    bytes,
    d1: Number(log.d1 ?? NaN),
    kv: Number(log.kv ?? NaN),
    log,
  };
}
