import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_ATTEMPTS } from '../../src/email/outbox.service';
import { registerUser } from '../helpers/factories';
import { EVERY_5_MINUTES, jobResult, runCron } from './cron';

const MINUTE = 60_000;
const EMAIL_API = { EMAIL_API_URL: 'https://email.test/v1/send', EMAIL_API_KEY: 'test-email-key' };

interface OutboxRow {
  id: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  sent_at: number | null;
  lease_until: number | null;
}

const outboxRow = (id: string) => env.DB.prepare('SELECT * FROM outbox WHERE id = ?').bind(id).first<OutboxRow>();

let seq = 0;

async function insertPending(now: number, attempts = 0): Promise<string> {
  const id = `msg_maint_${now.toString(36)}_${++seq}_${Math.floor(Math.random() * 1e9).toString(36)}`;
  await env.DB.prepare(
    `INSERT INTO outbox (id, kind, recipient, subject, body, status, attempts, next_attempt_at, created_at)
     VALUES (?, 'test', 'reader@example.com', 'Hello', 'Body', 'pending', ?, ?, ?)`,
  )
    .bind(id, attempts, now, now)
    .run();
  return id;
}

/** Mocks the email provider: answers `statuses` in turn for message `id` (200 for others) and records every send. */
function mockEmailApi(id: string, statuses: number[]) {
  const sent: string[] = [];
  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (request.url !== EMAIL_API.EMAIL_API_URL) throw new Error(`unexpected fetch ${request.url}`);
    const key = request.headers.get('Idempotency-Key') ?? '';
    sent.push(key);
    return new Response('{}', { status: (key === id ? statuses.shift() : undefined) ?? 200 });
  });
  return { sent, spy };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('*/5 cron: outbox delivery', () => {
  it('delivers an email queued by registration exactly once across two runs', async () => {
    const user = await registerUser();
    const queued = await env.DB.prepare("SELECT id FROM outbox WHERE recipient = ? AND status = 'pending'")
      .bind(user.email)
      .first<{ id: string }>();
    expect(queued).not.toBeNull();
    const at = Date.now() + 1000;

    const first = await runCron(EVERY_5_MINUTES, at);
    const second = await runCron(EVERY_5_MINUTES, at + 5 * MINUTE);

    const deliveries = [...first, ...second].filter(
      (l) => l.message === 'email (development: not sent)' && l.outboxId === queued!.id,
    );
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ to: user.email });
    expect(await outboxRow(queued!.id)).toMatchObject({
      status: 'sent',
      attempts: 1,
      sent_at: at,
      lease_until: null,
      last_error: null,
    });
    expect(jobResult(first, 'deliverEmail')).toMatchObject({ job: 'deliverEmail', cron: EVERY_5_MINUTES });
  });

  it('sends through the email API with the message id as idempotency key and marks it sent', async () => {
    const t0 = Date.parse('2030-01-01T00:00:00.000Z');
    const id = await insertPending(t0);
    const api = mockEmailApi(id, [200]);

    await runCron(EVERY_5_MINUTES, t0, EMAIL_API);

    expect(api.sent.filter((k) => k === id)).toHaveLength(1);
    const [input, init] = api.spy.mock.calls.find(([i, o]) => new Request(i, o).headers.get('Idempotency-Key') === id)!;
    const request = new Request(input, init);
    expect(request.method).toBe('POST');
    expect(request.headers.get('Authorization')).toBe(`Bearer ${EMAIL_API.EMAIL_API_KEY}`);
    expect(await request.json()).toMatchObject({ to: 'reader@example.com', subject: 'Hello', text: 'Body' });
    expect(await outboxRow(id)).toMatchObject({ status: 'sent', attempts: 1, sent_at: t0 });
  });

  it('retries a failed send with exponential backoff, not before it is due', async () => {
    const t0 = Date.parse('2030-01-02T00:00:00.000Z');
    const id = await insertPending(t0);
    const api = mockEmailApi(id, [503, 500, 200]);

    const failed = await runCron(EVERY_5_MINUTES, t0, EMAIL_API);
    expect(await outboxRow(id)).toMatchObject({
      status: 'pending',
      attempts: 1,
      next_attempt_at: t0 + MINUTE,
      last_error: 'email API answered 503',
      lease_until: null,
    });
    expect(failed.find((l) => l.message === 'email delivery failed' && l.outboxId === id)).toMatchObject({
      level: 'error',
      giveUp: false,
    });

    // Not due yet: untouched.
    await runCron(EVERY_5_MINUTES, t0 + 30_000, EMAIL_API);
    expect(api.sent.filter((k) => k === id)).toHaveLength(1);

    await runCron(EVERY_5_MINUTES, t0 + MINUTE, EMAIL_API);
    expect(await outboxRow(id)).toMatchObject({
      status: 'pending',
      attempts: 2,
      next_attempt_at: t0 + MINUTE + 2 * MINUTE,
    });

    await runCron(EVERY_5_MINUTES, t0 + 3 * MINUTE, EMAIL_API);
    expect(await outboxRow(id)).toMatchObject({
      status: 'sent',
      attempts: 3,
      sent_at: t0 + 3 * MINUTE,
      last_error: null,
    });
    // Every attempt carried the same idempotency key, so the provider can drop a duplicate.
    expect(api.sent.filter((k) => k === id)).toHaveLength(3);
  });

  it(`gives up after ${MAX_ATTEMPTS} attempts`, async () => {
    const t0 = Date.parse('2030-01-03T00:00:00.000Z');
    const id = await insertPending(t0, MAX_ATTEMPTS - 1);
    mockEmailApi(id, [500]);

    const logs = await runCron(EVERY_5_MINUTES, t0, EMAIL_API);

    expect(await outboxRow(id)).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS });
    expect(logs.find((l) => l.message === 'email delivery failed' && l.outboxId === id)).toMatchObject({
      giveUp: true,
    });
  });
});
