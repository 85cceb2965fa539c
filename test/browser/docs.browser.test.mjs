// Browser test of the interactive API reference (`npm run test:browser`, run by .ci/run): Debian's
// Chromium (never a downloaded browser) driven by playwright-core opens /docs on the built Worker,
// finds the register operation, reads its request fields and sends it with "Try it out".
// Not part of `npm test` (vitest picks up test/**/*.test.ts only).
/* global process */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startBuiltWorker } from './built-worker.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let worker;
let context;
let profileDir;
/** Requests the page tried to send anywhere but the Worker (must stay empty: the docs work offline). */
const foreign = [];
/** Content-Security-Policy violations and page errors reported by the browser. */
const problems = [];

before(
  async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install -y chromium`);
    worker = await startBuiltWorker();
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      timeout: 30_000,
    });
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(worker.url) || url.startsWith('data:')) return route.continue();
      foreign.push(url);
      return route.abort();
    });
  },
  { timeout: 90_000 },
);

after(async () => {
  await context?.close();
  await worker?.close();
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
});

test(
  'GET /docs shows the register operation with its request fields, and "Try it out" registers',
  { timeout: 60_000 },
  async () => {
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
    });
    page.on('pageerror', (err) => problems.push(String(err)));

    const response = await page.goto(`${worker.url}/docs`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'], /script-src 'self'/);

    // The register operation: POST /api/users.
    const register = page.locator('.opblock-post', {
      has: page.locator('.opblock-summary-path[data-path="/api/users"]'),
    });
    await register.locator('.opblock-summary').first().click();
    const body = register.locator('.opblock-section-request-body');
    await body.waitFor({ timeout: 20_000 });

    // Example value: every field of the request, with the documented example.
    const example = await body.locator('.body-param__example, .highlight-code').first().innerText();
    for (const field of ['"username"', '"email"', '"password"'])
      assert.ok(example.includes(field), `${field} in ${example}`);

    // Schema tab: the fields with their constraints.
    await body.locator('[data-name="model"]').click();
    const model = body.locator('.model-box');
    for (let i = 0; i < 4; i++) {
      const expand = model.getByRole('button', { name: 'Expand all' });
      if ((await expand.count()) === 0) break;
      // Swagger UI re-renders the model while expanding: a button counted a moment ago may be gone, which
      // only means there is nothing left to expand. The assertions below check what is shown.
      await expand
        .first()
        .click({ timeout: 5_000 })
        .catch(() => {});
    }
    await model.getByText('password', { exact: false }).first().waitFor({ timeout: 20_000 });
    const schema = await model.innerText();
    for (const field of ['username', 'email', 'password']) assert.match(schema, new RegExp(`^${field}`, 'm'));
    // Limits a front end validates against are shown with the fields.
    assert.match(schema, /^password.*\[8, 128\] characters/m);

    // Try it out against the same origin: the example body registers a user.
    await register.locator('.try-out__btn').click();
    await register.locator('.execute').click();
    const status = register.locator('.live-responses-table tr.response .response-col_status').first();
    await status.waitFor({ timeout: 20_000 });
    assert.equal((await status.innerText()).trim(), '201');

    assert.deepEqual(foreign, [], 'requests to anything but the Worker');
    assert.deepEqual(problems, [], 'CSP violations or page errors');
    await page.close();
  },
);
