// SPDX-License-Identifier: MIT
// E2E (issue 17): examples/react-dashboard as a user gets it: @ssecast/client packed with
// `npm pack` and installed from the tarball (npm ci), built with Vite, served with its GET /token
// route, against the real ssecast with JWT auth. In Chromium, a published order shows up live;
// a screenshot is taken and the event's text is checked to be inside the captured area.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { after, before, test } from 'node:test';
import { artifactsDir, freePort, launchBrowser, publish, repoRoot, run, startSsecast, waitFor } from './harness.mjs';

const exampleDir = join(repoRoot, 'examples', 'react-dashboard');
const KEY = 'example-key';
const SECRET = 'example-e2e-secret-0123456789abcdef';
let hub;
let site;
let browser;

const b64url = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
function jwt(claims) {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}

/** dist/ of the example plus its GET /token route, as the app's backend would serve it. */
async function serveExample() {
  const dist = join(exampleDir, 'dist');
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/token') {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
      res.end(jwt({ sub: 'demo-user', exp: Math.floor(Date.now() / 1000) + 60, subscribe: ['orders', 'metrics'] }));
      return;
    }
    const file = normalize(join(dist, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dist)) return void res.writeHead(404).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${port}`, stop: () => new Promise((r) => (server.closeAllConnections?.(), server.close(() => r()))) };
}

before(async () => {
  const { packClient } = await import(join(exampleDir, 'start.mjs'));
  packClient();
  await run('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], exampleDir);
  await run('npm', ['run', '--silent', 'build'], exampleDir); // tsc --noEmit && vite build
  site = await serveExample();
  hub = await startSsecast({
    SSECAST_AUTH_PUBLISH_KEYS: KEY,
    SSECAST_AUTH_JWT_SECRET: SECRET,
    SSECAST_AUTH_ALLOW_ANONYMOUS: 'false',
    SSECAST_HTTP_CORS_ORIGINS: site.origin,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await hub?.stop();
  await site?.stop();
});

test('the example dashboard, installed from the npm pack tarball, shows live events', { timeout: 120_000 }, async () => {
  const { page, consoleLines } = browser;
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${site.origin}/?hub=${encodeURIComponent(hub.url)}`);
  await waitFor('the dashboard to be open', async () => (await page.textContent('[data-testid=status]')) === 'open', 15_000).catch((e) => {
    throw new Error(`${e.message}; console: ${consoleLines.join(' | ')}`);
  });
  assert.equal(await page.textContent('[data-testid=token-fetches]'), '1×', 'the token came from GET /token');
  const customer = `Ada Lovelace ${Date.now() % 10000}`;
  await publish(hub.url, KEY, { topic: 'orders', type: 'order.created', data: { id: 'A-42', customer, total: 12.5 } });
  await publish(hub.url, KEY, { topic: 'orders', type: 'order.updated', data: { id: 'A-42', status: 'shipped' } });
  await publish(hub.url, KEY, { topic: 'metrics', type: 'metric', data: { name: 'carts.open', value: 7 } });
  const row = page.locator('[data-testid=orders] tr', { hasText: customer });
  await row.waitFor({ timeout: 10_000 });
  await waitFor('the order to be shipped', async () => /shipped/.test((await row.textContent()) ?? ''), 5_000);
  assert.match((await page.textContent('[data-testid=events]')) ?? '', new RegExp(`Order A-42 from ${customer}: 12\\.50 €`));
  const shot = join(await artifactsDir(), 'example-dashboard.png');
  const png = await page.screenshot({ path: shot });
  assert.ok(png.length > 10_000, 'a real screenshot');
  // The event's text is on screen: its row lies inside the captured viewport and is visible.
  const box = await row.boundingBox();
  assert.ok(box && box.y >= 0 && box.y + box.height <= 800 && box.width > 0, `row at ${JSON.stringify(box)}`);
  assert.ok(await row.isVisible());
  assert.equal(await page.textContent('[data-testid=role]'), 'this tab holds the stream for every tab');
});
