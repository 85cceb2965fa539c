import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/request';
import { EVERY_5_MINUTES, jobResult, runCron } from '../maintenance/cron';
import { conversation, members, sent } from './helpers';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The next UTC midnight: digest periods (24 h) start there, so runs after it never straddle one by chance. */
const nextPeriod = () => Math.ceil(Date.now() / (24 * HOUR)) * 24 * HOUR;

async function digestsTo(email: string) {
  const { results } = await env.DB.prepare(
    "SELECT subject, body, status FROM outbox WHERE recipient = ? AND kind = 'message_digest' ORDER BY created_at",
  )
    .bind(email)
    .all<{ subject: string; body: string; status: string }>();
  return results;
}

describe('unread-messages digest (*/5 cron)', () => {
  it('sends one digest per member per period for messages unread after the delay, never one per message', async () => {
    const [ann, bob, cid] = await members(3);
    const one = await conversation(ann!, [bob!]);
    const two = await conversation(cid!, [bob!]);
    for (let i = 0; i < 4; i++) await sent(ann!, one, `ann ${i}`);
    await sent(cid!, two, 'cid');
    const t0 = Date.now();

    // Before the delay (60 min): nothing.
    await runCron(EVERY_5_MINUTES, t0 + 30 * MINUTE);
    expect(await digestsTo(bob!.email)).toEqual([]);

    const p = nextPeriod();
    const lines = await runCron(EVERY_5_MINUTES, p + 2 * HOUR);
    expect(jobResult(lines, 'messageDigest')).toMatchObject({ queued: expect.any(Number) });
    const digests = await digestsTo(bob!.email);
    expect(digests).toHaveLength(1);
    expect(digests[0]!.subject).toBe('You have 5 unread messages on Folio');
    expect(digests[0]!.body).toContain('in 2 conversations');
    expect(digests[0]!.body).not.toContain('ann 0'); // bodies stay out of email
    // The same cron run delivered it (digest runs before delivery).
    expect(digests[0]!.status).toBe('sent');
    // Senders who read everything get none.
    expect(await digestsTo(ann!.email)).toEqual([]);

    // Later runs in the same period, even with new unread messages: still one.
    await sent(ann!, one, 'more');
    await runCron(EVERY_5_MINUTES, p + 3 * HOUR);
    await runCron(EVERY_5_MINUTES, p + 20 * HOUR);
    expect(await digestsTo(bob!.email)).toHaveLength(1);

    // Next period: the message not yet announced produces one more digest; then nothing more to announce.
    await runCron(EVERY_5_MINUTES, p + 26 * HOUR);
    expect(await digestsTo(bob!.email)).toHaveLength(2);
    await runCron(EVERY_5_MINUTES, p + 50 * HOUR);
    expect(await digestsTo(bob!.email)).toHaveLength(2);
  });

  it('no digest when the member read in time; overlapping runs queue it once', async () => {
    const [ann, bob, cid] = await members(3);
    const one = await conversation(ann!, [bob!]);
    const m = await sent(ann!, one, 'read me');
    await call('POST', `/api/conversations/${one}/read`, { token: bob!.token, body: { upTo: m.id } });
    const p = nextPeriod();
    await runCron(EVERY_5_MINUTES, p + 2 * HOUR);
    expect(await digestsTo(bob!.email)).toEqual([]);

    const two = await conversation(ann!, [cid!]);
    await sent(ann!, two, 'unread');
    await Promise.all([
      runCron(EVERY_5_MINUTES, p + 3 * HOUR),
      runCron(EVERY_5_MINUTES, p + 3 * HOUR),
      runCron(EVERY_5_MINUTES, p + 4 * HOUR),
    ]);
    expect(await digestsTo(cid!.email)).toHaveLength(1);
  });
});
