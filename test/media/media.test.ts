import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { registerUser } from '../helpers/factories';
import { call } from '../helpers/request';

const enc = (s: string) => Array.from(s, (ch) => ch.charCodeAt(0));
function bytes(head: number[], size = 64): Uint8Array {
  const out = new Uint8Array(Math.max(size, head.length));
  out.set(head);
  for (let i = head.length; i < out.length; i++) out[i] = i % 251;
  return out;
}

const SAMPLES: Record<string, Uint8Array> = {
  'image/jpeg': bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, ...enc('JFIF')]),
  'image/png': bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, ...enc('IHDR')]),
  'image/gif': bytes(enc('GIF89a')),
  'image/webp': bytes([...enc('RIFF'), 0x40, 0, 0, 0, ...enc('WEBPVP8 ')]),
  'image/avif': bytes([0, 0, 0, 0x1c, ...enc('ftypavif'), 0, 0, 0, 0, ...enc('avifmif1miaf')]),
};

const upload = (token: string | undefined, body: Uint8Array, contentType = 'application/octet-stream', vars = {}) =>
  call('POST', '/api/media', { token, bytes: body, headers: { 'Content-Type': contentType }, env: vars });

describe('POST /api/media', () => {
  for (const [type, sample] of Object.entries(SAMPLES)) {
    it(`stores a ${type} found by its bytes, and serves it with immutable cache headers`, async () => {
      const user = await registerUser();
      const res = await upload(user.token, sample);
      expect(res.status).toBe(201);
      expect(res.body.media).toMatchObject({ contentType: type, size: sample.byteLength });
      const url = new URL(res.body.media.url);
      expect(url.pathname).toMatch(/^\/media\/[A-Za-z0-9_-]{32}\.(jpg|png|gif|webp|avif)$/);
      const served = await call('GET', url.pathname);
      expect(served.status).toBe(200);
      expect(served.headers.get('Content-Type')).toBe(type);
      expect(served.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
      expect(served.headers.get('X-Content-Type-Options')).toBe('nosniff');
      expect(served.bytes).toEqual(sample);
    });
  }

  it('goes by content, not by the declared type or name: a PNG sent as JPEG is stored as PNG', async () => {
    const user = await registerUser();
    const res = await call('POST', '/api/media', {
      token: user.token,
      bytes: SAMPLES['image/png'],
      headers: { 'Content-Type': 'image/jpeg', 'Content-Disposition': 'attachment; filename="photo.jpg"' },
    });
    expect(res.body.media.contentType).toBe('image/png');
    expect(res.body.media.url).toMatch(/\.png$/);
  });

  it('refuses HTML sent as image/png (415) and stores nothing', async () => {
    const user = await registerUser();
    const html = new TextEncoder().encode('<html><script>alert(1)</script></html>');
    const res = await upload(user.token, html, 'image/png');
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ errors: { file: ['must be a JPEG, PNG, GIF, WebP or AVIF image'] } });
    const listed = await env.MEDIA.list();
    const rows = await env.DB.prepare(
      'SELECT count(*) AS n FROM media m JOIN users u ON u.id = m.owner_id WHERE u.username = ?',
    )
      .bind(user.username)
      .first<{ n: number }>();
    expect(rows!.n).toBe(0);
    expect(listed.objects.every((o) => !o.key.endsWith('.html'))).toBe(true);
  });

  it('has its own size cap: bigger than the JSON body limit is fine, bigger than MEDIA_MAX_BYTES is 413', async () => {
    const user = await registerUser();
    const big = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 300_000);
    expect((await upload(user.token, big)).status).toBe(201);
    const res = await upload(user.token, big, 'application/octet-stream', { MEDIA_MAX_BYTES: '200000' });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ errors: { file: ['is too large (maximum is 200000 bytes)'] } });
    // The JSON endpoints keep their small limit.
    const json = await call('POST', '/api/users/login', {
      rawBody: `{"x":"${'a'.repeat(200_000)}"}`,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(json.status).toBe(413);
  });

  it('enforces the per-member quota (413) without counting other members', async () => {
    const [user, other] = await Promise.all([registerUser(), registerUser()]);
    const vars = { MEDIA_QUOTA_BYTES: '150' };
    expect((await upload(user.token, SAMPLES['image/gif']!, undefined, vars)).status).toBe(201);
    expect((await upload(user.token, SAMPLES['image/gif']!, undefined, vars)).status).toBe(201);
    const over = await upload(user.token, SAMPLES['image/gif']!, undefined, vars);
    expect(over.status).toBe(413);
    expect(over.body.errors.file[0]).toMatch(/quota \(128 of 150 bytes used\)/);
    expect((await upload(other.token, SAMPLES['image/gif']!, undefined, vars)).status).toBe(201);
  });

  it('limits uploads per member per hour (429 with Retry-After)', async () => {
    const user = await registerUser();
    for (let i = 0; i < 30; i++) expect((await upload(user.token, SAMPLES['image/gif']!)).status).toBe(201);
    const res = await upload(user.token, SAMPLES['image/gif']!);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
  });

  it('needs a token (401) and a body (422)', async () => {
    expect((await upload(undefined, SAMPLES['image/gif']!)).status).toBe(401);
    const user = await registerUser();
    expect((await upload(user.token, new Uint8Array())).status).toBe(422);
  });
});

describe('DELETE /api/media/:id', () => {
  it("lets the owner delete (then the URL is 404); someone else's id is 404", async () => {
    const [owner, other] = await Promise.all([registerUser(), registerUser()]);
    const { body } = await upload(owner.token, SAMPLES['image/jpeg']!);
    const path = new URL(body.media.url).pathname;
    expect((await call('DELETE', `/api/media/${body.media.id}`, { token: other.token })).status).toBe(404);
    expect((await call('GET', path)).status).toBe(200);
    expect((await call('DELETE', `/api/media/${body.media.id}`, { token: owner.token })).status).toBe(204);
    const gone = await call('GET', path);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ errors: { media: ['not found'] } });
    expect((await call('DELETE', `/api/media/${body.media.id}`, { token: owner.token })).status).toBe(404);
  });

  it('answers 404 for a malformed or unknown key', async () => {
    expect((await call('GET', '/media/../../etc/passwd')).status).toBe(404);
    expect((await call('GET', `/media/${'a'.repeat(32)}.png`)).status).toBe(404);
  });
});

describe('POST /api/media with Idempotency-Key', () => {
  it('replays the first upload for a retry, keeping the bytes intact, and stores one object', async () => {
    const user = await registerUser();
    const headers = { 'Content-Type': 'image/png', 'Idempotency-Key': `upload-${Date.now()}` };
    const sample = SAMPLES['image/webp']!;
    const first = await call('POST', '/api/media', { token: user.token, bytes: sample, headers });
    const retry = await call('POST', '/api/media', { token: user.token, bytes: sample, headers });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
    expect(retry.body.media).toEqual(first.body.media);
    const served = await call('GET', new URL(first.body.media.url).pathname);
    expect(served.bytes).toEqual(sample);
    const other = await call('POST', '/api/media', { token: user.token, bytes: SAMPLES['image/gif']!, headers });
    expect(other.status).toBe(422);
  });
});
