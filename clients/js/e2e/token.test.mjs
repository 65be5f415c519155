// SPDX-License-Identifier: MIT
// E2E (issue 17): token refresh through the 401 path, in real Chromium against the real ssecast
// (HS256, no anonymous access). The page's token function keeps its token until the client asks
// for a refresh; the token lives 2 s. After it expired, a proxy cuts the stream: the reconnect
// with the old token gets 401, the client asks for a new token and resumes with Last-Event-ID;
// every event published meanwhile shows exactly once, in order.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { freePort, launchBrowser, publish, sleep, startLoggingProxy, startPageServer, startSsecast, waitFor } from './harness.mjs';

const KEY = 'testkey';
const SECRET = 'e2e-jwt-secret-0123456789abcdef';
const TOKEN_SECONDS = 2;
let hub;
let proxy;
let site;
let tokens;
let browser;
let minted = 0;

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function jwt(claims) {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}

before(async () => {
  site = await startPageServer();
  hub = await startSsecast({
    SSECAST_AUTH_PUBLISH_KEYS: KEY,
    SSECAST_AUTH_JWT_SECRET: SECRET,
    SSECAST_AUTH_ALLOW_ANONYMOUS: 'false',
    SSECAST_HTTP_CORS_ORIGINS: site.origin,
  });
  proxy = await startLoggingProxy(hub.url);
  // The application's token endpoint: a fresh short-lived token per call.
  tokens = createServer((req, res) => {
    minted++;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' });
    res.end(jwt({ sub: 'user-7', exp: Math.floor(Date.now() / 1000) + TOKEN_SECONDS }));
  });
  const port = await freePort();
  await new Promise((r) => tokens.listen(port, '127.0.0.1', r));
  tokens.url = `http://127.0.0.1:${port}/token`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await hub?.stop();
  await site?.stop();
  await new Promise((r) => (tokens ? tokens.close(() => r()) : r()));
});

const readList = (page) => page.$$eval('[data-testid=events] li', (lis) => lis.map((li) => Number(li.dataset.n)));

test('an expired token: 401 on reconnect → the token function is asked again → resume, nothing lost', { timeout: 60_000 }, async () => {
  const { page, consoleLines } = browser;
  const topic = `token-${Date.now()}`;
  await page.goto(`${site.url}/?hub=${encodeURIComponent(proxy.url)}&topic=${topic}&store=tok&tokenUrl=${encodeURIComponent(tokens.url)}`);
  await waitFor('open', async () => (await page.textContent('[data-testid=status]')) === 'open', 15_000).catch((e) => {
    throw new Error(`${e.message}; console: ${consoleLines.join(' | ')}`);
  });
  for (let n = 1; n <= 5; n++) await publish(hub.url, KEY, { topic, type: 'tick', data: { n } });
  await waitFor('5 events', async () => (await readList(page)).length === 5);
  await sleep(TOKEN_SECONDS * 1000 + 1100); // the page's token has expired now
  for (let n = 6; n <= 10; n++) await publish(hub.url, KEY, { topic, type: 'tick', data: { n } });
  await waitFor('10 events', async () => (await readList(page)).length === 10);
  assert.ok(proxy.dropStreams() >= 1, 'the proxy cut the stream');
  for (let n = 11; n <= 20; n++) {
    await publish(hub.url, KEY, { topic, type: 'tick', data: { n } });
    await sleep(20);
  }
  await waitFor('20 events', async () => (await readList(page)).length >= 20, 15_000).catch(async (e) => {
    throw new Error(`${e.message}; shows ${(await readList(page)).join(',')}; log ${JSON.stringify(proxy.log)}`);
  });
  await sleep(300);
  assert.deepEqual(await readList(page), Array.from({ length: 20 }, (_, i) => i + 1), 'each event once, in order');
  const streams = proxy.log.filter((r) => r.method === 'GET' && r.path.startsWith('/events')).map((r) => r.status);
  assert.deepEqual(streams, [200, 401, 200], 'first stream, the reconnect refused with the stale token, the refreshed one');
  assert.equal(await page.getAttribute('body', 'data-token-fetches'), '2', 'the token function fetched twice: start + refresh');
  assert.equal(minted, 2);
  assert.equal(await page.textContent('[data-testid=status]'), 'open');
});

// The hub side of `ssecast.token-expired` (SPEC §GET /events, "Expiry on open streams") is being
// built on another branch. Until it lands this test runs as a TODO: it fails today (the stream
// outlives its token), and passes once the hub ends the stream at `exp`. Then drop `todo`.
test(
  'an open stream whose token expires: ssecast.token-expired → refresh → resume, no 401, nothing lost',
  { timeout: 60_000, todo: 'needs the hub to end streams with ssecast.token-expired at exp' },
  async () => {
    const page = await browser.context.newPage();
    try {
      const topic = `token-expired-${Date.now()}`;
      const before = proxy.log.length;
      const fetchesBefore = minted;
      await page.goto(`${site.url}/?hub=${encodeURIComponent(proxy.url)}&topic=${topic}&store=tokexp&tokenUrl=${encodeURIComponent(tokens.url)}`);
      await waitFor('open', async () => (await page.textContent('[data-testid=status]')) === 'open', 15_000);
      // Publish across the token's expiry (2 s) and well past it.
      for (let n = 1; n <= 16; n++) {
        await publish(hub.url, KEY, { topic, type: 'tick', data: { n } });
        await sleep(250);
      }
      await waitFor('16 events', async () => (await readList(page)).length >= 16, 10_000);
      await sleep(300);
      assert.deepEqual(await readList(page), Array.from({ length: 16 }, (_, i) => i + 1), 'each event once, in order');
      assert.ok(minted - fetchesBefore >= 2, `the token was refreshed (${minted - fetchesBefore} fetched)`);
      const streams = proxy.log.slice(before).filter((r) => r.method === 'GET' && r.path.startsWith('/events')).map((r) => r.status);
      assert.ok(streams.length >= 2 && streams.every((s) => s === 200), `streams ${streams}: refreshed before any 401`);
    } finally {
      await page.close();
    }
  },
);
