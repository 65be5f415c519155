// SPDX-License-Identifier: MIT
// E2E (issue 16): useSSE with a token function in real Chromium against the real ssecast; the
// tokens live 3 s, so the hub ends the stream with ssecast.token-expired several times while
// events keep coming; the page asks for a new token each time and resumes: every event
// exactly once, in order.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { freePort, launchBrowser, publish, sleep, startPageAndHub, waitFor } from './harness.mjs';

const KEY = 'testkey';
const SECRET = 'e2e-secret-0123456789abcdef';
const TOTAL = 40;
let hub;
let site;
let browser;
let tokens;

const b64 = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');
function mint(sub, ttlSeconds) {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, exp: Math.floor(Date.now() / 1000) + ttlSeconds })}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

/** The application's token endpoint: a 3-second token per call, CORS for the page. */
async function startTokenServer(origin) {
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Access-Control-Allow-Origin': origin, 'Cache-Control': 'no-store' });
    res.end(mint('e2e-user', 3));
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/token`,
    calls: () => calls,
    stop: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

before(async () => {
  ({ site, hub } = await startPageAndHub(KEY, { SSECAST_AUTH_JWT_SECRET: SECRET, SSECAST_AUTH_ALLOW_ANONYMOUS: 'false' }));
  tokens = await startTokenServer(site.origin);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await tokens?.stop();
  await hub?.stop();
  await site?.stop();
});

const readList = (page) =>
  page.$$eval('[data-testid=events] li', (lis) => lis.map((li) => ({ id: li.dataset.id, n: Number(li.dataset.n) })));

test('expiring tokens: refreshed through the token function, every event exactly once', { timeout: 120_000 }, async () => {
  const { page } = browser;
  const topic = `refresh-${Date.now()}`;
  await page.goto(`${site.url}/?hub=${encodeURIComponent(hub.url)}&topic=${topic}&tokenUrl=${encodeURIComponent(tokens.url)}`);
  await waitFor('the page to be open', async () => (await page.textContent('[data-testid=status]')) === 'open', 15_000);
  const ids = [];
  for (let n = 1; n <= TOTAL; n++) {
    ids.push(await publish(hub.url, KEY, { topic, type: 'tick', data: { n } }));
    await sleep(250); // 10 s in all: the 3 s tokens expire about three times
  }
  let list = [];
  await waitFor('all events on the page', async () => (list = await readList(page)).length >= TOTAL, 20_000).catch(() => {
    throw new Error(`page has ${list.length}/${TOTAL}: ${JSON.stringify(list.map((e) => e.n))}; errors: ${hub.logs.join('').slice(-500)}`);
  });
  await sleep(500);
  list = await readList(page);
  assert.deepEqual(list.map((e) => e.n), ids.map((_, i) => i + 1), 'every event once, in order');
  assert.deepEqual(list.map((e) => e.id), ids);
  assert.ok(tokens.calls() >= 3, `the token function was asked ${tokens.calls()} times`);
  assert.equal(await page.textContent('[data-testid=status]'), 'open');
});
