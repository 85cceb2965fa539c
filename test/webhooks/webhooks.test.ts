import { env } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DISABLE_AFTER_FAILURES, MAX_ATTEMPTS } from '../../src/webhooks/webhooks.service';
import { endpointUrlProblem } from '../../src/webhooks/webhooks.url';
import { createArticle } from '../helpers/content';
import { registerUser, unique } from '../helpers/factories';
import { call } from '../helpers/request';
import { auditRows, userWithRole } from '../helpers/roles';
import { EVERY_5_MINUTES, jobResult, runCron } from '../maintenance/cron';

interface Received {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A receiver behind the Worker's outbound fetch: records requests, answers `status(url)`. */
function receiver(status: (url: string) => number = () => 200) {
  const received: Received[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    received.push({
      url: request.url,
      headers: Object.fromEntries(request.headers.entries()),
      body: await request.text(),
    });
    return new Response('ok', { status: status(request.url) });
  });
  return received;
}

afterEach(() => {
  vi.restoreAllMocks();
});

async function endpoint(token: string, events: string[], extra: Record<string, unknown> = {}) {
  const url = `https://hooks.example.com/${unique('h')}`;
  const res = await call('POST', '/api/admin/webhooks', { token, body: { webhook: { url, events, ...extra } } });
  expect(res.status).toBe(201);
  return res.body.webhook as { id: string; url: string; secret: string };
}

const deliveriesOf = async (endpointId: string) =>
  (
    await env.DB.prepare('SELECT * FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY created_at, id')
      .bind(endpointId)
      .all<Record<string, any>>()
  ).results;

/** Other tests of this file share its storage: park their due deliveries so a cron run serves only ours. */
const parkOtherDeliveries = (endpointId: string) =>
  env.DB.prepare(
    "UPDATE webhook_deliveries SET status = 'failed' WHERE status IN ('pending', 'sending') AND endpoint_id <> ?",
  )
    .bind(endpointId)
    .run();

const newArticle = { article: { title: 'Webhooked', description: 'd', body: 'b', tagList: ['x'] } };

describe('endpoint URLs (SSRF)', () => {
  it.each([
    ['http://hooks.example.com/x', 'must use https'],
    ['https://127.0.0.1/x', 'must not be an IP address'],
    ['https://10.0.0.8/x', 'must not be an IP address'],
    ['https://2130706433/x', 'must not be an IP address'],
    ['https://0x7f.1/x', 'must not be an IP address'],
    ['https://[::1]/x', 'must not be an IP address'],
    ['https://[::ffff:169.254.169.254]/x', 'must not be an IP address'],
    ['https://localhost/x', 'must be a public host name'],
    ['https://api.localhost/x', 'must be a public host name'],
    ['https://metadata.internal/x', 'must be a public host name'],
    ['https://printer.local/x', 'must be a public host name'],
    ['https://intranet/x', 'must be a public host name'],
    ['https://hooks.example.com:8443/x', 'must use the default https port'],
    ['https://user:pw@hooks.example.com/x', 'must not contain credentials'],
    ['not a url', 'must be a valid URL'],
  ])('refuses %s in production (%s)', (url, problem) => {
    expect(endpointUrlProblem(url, true)).toBe(problem);
  });

  it('accepts a public https URL in production, and http://localhost only in development', () => {
    expect(endpointUrlProblem('https://hooks.example.com/folio?x=1', true)).toBeNull();
    expect(endpointUrlProblem('http://localhost:9000/hook', true)).not.toBeNull();
    expect(endpointUrlProblem('http://localhost:9000/hook', false)).toBeNull();
    expect(endpointUrlProblem('ftp://example.com/', false)).toBe('must be an http(s) URL');
  });

  it('answers 422 url through the API', async () => {
    const admin = await userWithRole('admin');
    const res = await call('POST', '/api/admin/webhooks', {
      token: admin.token,
      body: { webhook: { url: 'ftp://x.example.com', events: ['article.published'] } },
    });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ errors: { url: ['must be an http(s) URL'] } });
    const unknownEvent = await call('POST', '/api/admin/webhooks', {
      token: admin.token,
      body: { webhook: { url: 'https://x.example.com', events: ['article.exploded'] } },
    });
    expect(unknownEvent.status).toBe(422);
  });
});

describe('events are written in the same batch as the change', () => {
  it('publishing writes article.published for each subscribed, enabled endpoint only', async () => {
    const admin = await userWithRole('admin');
    const [subscribed, other, disabled] = [
      await endpoint(admin.token, ['article.published']),
      await endpoint(admin.token, ['comment.created']),
      await endpoint(admin.token, ['article.published'], { enabled: false }),
    ];
    const writer = await registerUser();
    const res = await call('POST', '/api/articles', { token: writer.token, body: newArticle });
    const draft = await call('POST', '/api/articles', {
      token: writer.token,
      body: { article: { ...newArticle.article, status: 'draft' } },
    });
    expect(draft.status).toBe(201);
    const rows = await deliveriesOf(subscribed.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event_type: 'article.published', status: 'pending', attempts: 0 });
    expect(JSON.parse(rows[0]!.payload)).toEqual({
      type: 'article.published',
      timestamp: expect.any(String),
      data: expect.objectContaining({
        slug: res.body.article.slug,
        title: 'Webhooked',
        author: writer.username,
        status: 'published',
        tagList: ['x'],
        publishedAt: res.body.article.publishedAt ?? expect.any(String),
      }),
    });
    expect(await deliveriesOf(other.id)).toHaveLength(0);
    expect(await deliveriesOf(disabled.id)).toHaveLength(0);
  });

  it('updates, publication of a draft, deletion, comments and registrations each write their event', async () => {
    const admin = await userWithRole('admin');
    const hook = await endpoint(admin.token, [
      'article.published',
      'article.updated',
      'article.deleted',
      'comment.created',
      'member.created',
    ]);
    const writer = await registerUser();
    const draft = await call('POST', '/api/articles', {
      token: writer.token,
      body: { article: { ...newArticle.article, status: 'draft' } },
    });
    const slug = draft.body.article.slug;
    await call('PUT', `/api/articles/${slug}`, { token: writer.token, body: { article: { status: 'published' } } });
    await call('PUT', `/api/articles/${slug}`, { token: writer.token, body: { article: { description: 'new' } } });
    const commented = await call('POST', `/api/articles/${slug}/comments`, {
      token: writer.token,
      body: { comment: { body: 'first!' } },
    });
    await call('DELETE', `/api/articles/${slug}`, { token: writer.token });
    const types = (await deliveriesOf(hook.id)).map((r) => [r.event_type, JSON.parse(r.payload).data]);
    expect(types.map(([t]) => t)).toEqual([
      'member.created',
      'article.published',
      'article.updated',
      'comment.created',
      'article.deleted',
    ]);
    expect(types[0]![1]).toMatchObject({ username: writer.username });
    expect(types[2]![1]).toMatchObject({ slug, description: 'new' });
    expect(types[3]![1]).toMatchObject({ id: commented.body.comment.id, article: slug, body: 'first!' });
    expect(types[4]![1]).toMatchObject({ slug });
  });

  it('a refused write writes no event (a comment over the rate limit)', async () => {
    const admin = await userWithRole('admin');
    const hook = await endpoint(admin.token, ['comment.created']);
    const writer = await registerUser();
    const article = await createArticle(writer);
    const statuses = [];
    for (let i = 0; i < 11; i++) {
      const res = await call('POST', `/api/articles/${article.slug}/comments`, {
        token: writer.token,
        body: { comment: { body: `c${i}` } },
      });
      statuses.push(res.status);
    }
    // One event per stored comment, none for refused ones (a minute boundary may let an 11th in).
    const stored = await env.DB.prepare('SELECT count(*) AS n FROM comments WHERE article_id = ?')
      .bind(article.id)
      .first<{ n: number }>();
    expect(stored!.n).toBe(statuses.filter((s) => s === 201).length);
    expect(await deliveriesOf(hook.id)).toHaveLength(stored!.n);
    expect(stored!.n).toBeLessThan(11 + 1);
  });
});

describe('delivery by cron', () => {
  it('signs with Standard Webhooks (verified by the library itself) and marks the delivery delivered', async () => {
    const admin = await userWithRole('admin');
    const hook = await endpoint(admin.token, ['member.created']);
    const member = await registerUser();
    await parkOtherDeliveries(hook.id);
    const received = receiver();
    const logs = await runCron(EVERY_5_MINUTES, Date.now());
    expect(jobResult(logs, 'deliverWebhooks')).toMatchObject({ claimed: 1, delivered: 1 });
    const mine = received.filter((r) => r.url === hook.url);
    expect(mine).toHaveLength(1);
    const payload = new Webhook(hook.secret).verify(mine[0]!.body, mine[0]!.headers) as any;
    expect(payload).toMatchObject({ type: 'member.created', data: { username: member.username } });
    expect(mine[0]!.headers['webhook-id']).toMatch(/^evt_/);
    // A wrong secret or a tampered body does not verify.
    const other = `whsec_${btoa('x'.repeat(32))}`;
    expect(() => new Webhook(other).verify(mine[0]!.body, mine[0]!.headers)).toThrow();
    expect(() =>
      new Webhook(hook.secret).verify(mine[0]!.body.replace(member.username, 'x'), mine[0]!.headers),
    ).toThrow();
    const [row] = await deliveriesOf(hook.id);
    expect(row).toMatchObject({ status: 'delivered', attempts: 1, last_status: 200 });
    // Delivered once: a second run sends nothing more to it.
    await runCron(EVERY_5_MINUTES, Date.now());
    expect(received.filter((r) => r.url === hook.url)).toHaveLength(1);
  });

  it('retries failures with exponential backoff and gives up after MAX_ATTEMPTS', async () => {
    const admin = await userWithRole('admin');
    const hook = await endpoint(admin.token, ['member.created']);
    await registerUser();
    await parkOtherDeliveries(hook.id);
    const received = receiver((url) => (url === hook.url ? 503 : 200));
    let t = Date.now();
    await runCron(EVERY_5_MINUTES, t);
    let [row] = await deliveriesOf(hook.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status: 503, last_error: 'answered 503' });
    expect(row!.next_attempt_at).toBe(t + 60_000);
    // Not due yet: nothing is sent.
    await runCron(EVERY_5_MINUTES, t + 30_000);
    expect(received.filter((r) => r.url === hook.url)).toHaveLength(1);
    const gaps: number[] = [];
    for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
      t = row!.next_attempt_at;
      await runCron(EVERY_5_MINUTES, t);
      [row] = await deliveriesOf(hook.id);
      gaps.push(row!.next_attempt_at - t);
    }
    expect(gaps.slice(0, 3)).toEqual([120_000, 240_000, 480_000]);
    expect(row).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS });
    expect(received.filter((r) => r.url === hook.url)).toHaveLength(MAX_ATTEMPTS);
  });

  it(`disables an endpoint after ${DISABLE_AFTER_FAILURES} consecutive failures; re-enabling resets it`, async () => {
    const admin = await userWithRole('admin');
    const hook = await endpoint(admin.token, ['member.created']);
    await env.DB.prepare('UPDATE webhook_endpoints SET consecutive_failures = ? WHERE id = ?')
      .bind(DISABLE_AFTER_FAILURES - 1, hook.id)
      .run();
    await registerUser();
    await parkOtherDeliveries(hook.id);
    receiver((url) => (url === hook.url ? 500 : 200));
    await runCron(EVERY_5_MINUTES, Date.now());
    const shown = await call('GET', `/api/admin/webhooks/${hook.id}`, { token: admin.token });
    expect(shown.body.webhook).toMatchObject({
      enabled: false,
      consecutiveFailures: DISABLE_AFTER_FAILURES,
      disabledReason: `${DISABLE_AFTER_FAILURES} consecutive failed deliveries`,
    });
    expect(shown.body.webhook.secret).toBeUndefined();
    // While disabled nothing is attempted, and new events are not even queued.
    await registerUser();
    await runCron(EVERY_5_MINUTES, Date.now() + 10 * 60_000);
    expect((await deliveriesOf(hook.id)).map((d) => d.attempts)).toEqual([1]);
    const enabled = await call('PUT', `/api/admin/webhooks/${hook.id}`, {
      token: admin.token,
      body: { webhook: { enabled: true } },
    });
    expect(enabled.body.webhook).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledReason: null });
  });
});

describe('admin actions', () => {
  it('sends a test event at once, lists the delivery log, rotates the secret (both sign for a day), all audited', async () => {
    const admin = await userWithRole('admin');
    const hook = await endpoint(admin.token, ['article.deleted']);
    const received = receiver();
    const test = await call('POST', `/api/admin/webhooks/${hook.id}/test`, { token: admin.token });
    expect(test.status).toBe(200);
    expect(test.body.delivery).toMatchObject({
      eventType: 'webhook.test',
      status: 'delivered',
      attempts: 1,
      lastStatus: 200,
    });
    expect(new Webhook(hook.secret).verify(received[0]!.body, received[0]!.headers)).toMatchObject({
      type: 'webhook.test',
    });

    const rotated = await call('POST', `/api/admin/webhooks/${hook.id}/rotate-secret`, { token: admin.token });
    expect(rotated.body.webhook.secret).toMatch(/^whsec_/);
    expect(rotated.body.webhook.secret).not.toBe(hook.secret);
    await call('POST', `/api/admin/webhooks/${hook.id}/test`, { token: admin.token });
    const last = received[received.length - 1]!;
    expect(last.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => new Webhook(rotated.body.webhook.secret).verify(last.body, last.headers)).not.toThrow();
    expect(() => new Webhook(hook.secret).verify(last.body, last.headers)).not.toThrow();

    const log = await call('GET', `/api/admin/webhooks/${hook.id}/deliveries?limit=1`, { token: admin.token });
    expect(log.body.deliveries).toHaveLength(1);
    const rest = await call('GET', `/api/admin/webhooks/${hook.id}/deliveries?cursor=${log.body.nextCursor}`, {
      token: admin.token,
    });
    expect(rest.body.deliveries).toHaveLength(1);
    expect(rest.body.nextCursor).toBeNull();

    const listed = await call('GET', '/api/admin/webhooks', { token: admin.token });
    expect(listed.body.webhooks.map((w: any) => w.id)).toContain(hook.id);
    expect(listed.body.webhooks.every((w: any) => w.secret === undefined)).toBe(true);

    expect((await call('DELETE', `/api/admin/webhooks/${hook.id}`, { token: admin.token })).status).toBe(204);
    expect((await call('GET', `/api/admin/webhooks/${hook.id}`, { token: admin.token })).status).toBe(404);
    expect(await deliveriesOf(hook.id)).toHaveLength(0);
    expect((await auditRows(hook.id, 'webhook')).map((a) => a.action)).toEqual([
      'webhook.create',
      'webhook.test',
      'webhook.rotate_secret',
      'webhook.test',
      'webhook.delete',
    ]);
    expect(JSON.stringify(await auditRows(hook.id, 'webhook'))).not.toContain('whsec_');
  });

  it('answers 404 for unknown endpoints', async () => {
    const admin = await userWithRole('admin');
    for (const [method, path] of [
      ['GET', '/api/admin/webhooks/whe_nope'],
      ['DELETE', '/api/admin/webhooks/whe_nope'],
      ['POST', '/api/admin/webhooks/whe_nope/test'],
      ['POST', '/api/admin/webhooks/whe_nope/rotate-secret'],
      ['GET', '/api/admin/webhooks/whe_nope/deliveries'],
    ] as const) {
      expect((await call(method, path, { token: admin.token })).status).toBe(404);
    }
  });
});

describe('scheduled publication', () => {
  it('the cron that publishes due articles writes article.published for each, in its batch', async () => {
    const admin = await userWithRole('admin');
    const hook = await endpoint(admin.token, ['article.published']);
    const writer = await registerUser();
    const publishAt = new Date(Date.now() + 60_000).toISOString();
    const created = await call('POST', '/api/articles', {
      token: writer.token,
      body: { article: { ...newArticle.article, status: 'scheduled', publishAt } },
    });
    expect(created.status).toBe(201);
    expect(await deliveriesOf(hook.id)).toHaveLength(0);
    receiver();
    await runCron(EVERY_5_MINUTES, Date.now() + 120_000);
    const rows = await deliveriesOf(hook.id);
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]!.payload)).toMatchObject({
      type: 'article.published',
      data: {
        slug: created.body.article.slug,
        status: 'published',
        publishedAt: publishAt,
      },
    });
  });
});

describe('POST /api/admin/webhooks with Idempotency-Key', () => {
  it('creates one endpoint for a retried request', async () => {
    const admin = await userWithRole('admin');
    const body = { webhook: { url: `https://hooks.example.com/${unique('idem')}`, events: ['member.created'] } };
    const headers = { 'Idempotency-Key': unique('key') };
    const first = await call('POST', '/api/admin/webhooks', { token: admin.token, body, headers });
    const retry = await call('POST', '/api/admin/webhooks', { token: admin.token, body, headers });
    expect(first.status).toBe(201);
    expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
    expect(retry.body.webhook.id).toBe(first.body.webhook.id);
    const { results } = await env.DB.prepare('SELECT id FROM webhook_endpoints WHERE url = ?')
      .bind(body.webhook.url)
      .all();
    expect(results).toHaveLength(1);
  });
});
