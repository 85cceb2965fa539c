import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { vi } from 'vitest';
import worker from '../../src/index';

export const EVERY_5_MINUTES = '*/5 * * * *';
export const DAILY = '17 3 * * *';

export type LogLine = Record<string, unknown> & { level?: string; message?: string };

/**
 * Fires one cron trigger through the Worker's real `scheduled` handler, waits for its `waitUntil`
 * work and returns the structured log lines it wrote (console.log/warn/error, parsed).
 */
export async function runCron(
  cron: string,
  scheduledTime: Date | number,
  envOverrides: Partial<Env> = {},
): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  const capture = (...args: unknown[]) => {
    try {
      lines.push(JSON.parse(String(args[0])) as LogLine);
    } catch {
      lines.push({ message: String(args[0]) });
    }
  };
  const spies = [
    vi.spyOn(console, 'log').mockImplementation(capture),
    vi.spyOn(console, 'warn').mockImplementation(capture),
    vi.spyOn(console, 'error').mockImplementation(capture),
  ];
  try {
    const controller = createScheduledController({ scheduledTime: new Date(scheduledTime), cron });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, { ...env, ...envOverrides }, ctx);
    await waitOnExecutionContext(ctx);
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines;
}

/** The `job finished` line of one job. */
export function jobResult(lines: LogLine[], job: string): LogLine | undefined {
  return lines.find((l) => l.message === 'job finished' && l.job === job);
}

let seq = 0;

/** Inserts a user row directly (no password hashing: maintenance tests never log in). Returns its id. */
export async function insertUser(now = Date.now()): Promise<string> {
  const id = `usr_maint_${now.toString(36)}_${++seq}_${Math.floor(Math.random() * 1e9).toString(36)}`;
  await env.DB.prepare(
    'INSERT INTO users (id, email, username, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
  )
    .bind(id, `${id}@example.com`, id, 'pbkdf2-sha256$1$x$y', now, now)
    .run();
  return id;
}
