// SPDX-License-Identifier: MIT
// E2E (issue 6): a 429 from ssecast's rate limiter leads to a delayed retry, not a hot loop.
// Real Chromium runs the useSSE page against the real ssecast with `sse:user_or_ip:1/3`, through a
// logging proxy (the server-side record of every GET /events and its answer). The proxy cuts the
// stream; the client's reconnect lands inside the 3 s window and gets 429 + Retry-After; the next
// attempt must come no sooner than Retry-After, and the page must then receive events again.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  artifactsDir,
  launchBrowser,
  metricValue,
  publish,
  sleep,
  startLoggingProxy,
  startPageAndHub,
  waitFor,
} from './harness.mjs';

const KEY = 'testkey';
const WINDOW_S = 3;
let hub;
let proxy;
let site;
let browser;

before(async () => {
  ({ site, hub } = await startPageAndHub(KEY, {
    SSECAST_RATE_LIMIT: `sse:user_or_ip:1/${WINDOW_S}`,
    // The stream's `retry:` is a floor for the client's reconnect delay: keep it well inside the
    // window so the reconnect meets the limiter (the default 3000 ms would just wait it out).
    // With the page's jitter ceilings at 50..200 ms (?backoffMs=50), a client ignoring
    // Retry-After would come back within ~0.5 s, again and again: this test would catch it.
    SSECAST_SSE_RETRY_MS: '300',
  }));
  proxy = await startLoggingProxy(hub.url);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  const exit = await hub?.stop();
  await site?.stop();
  if (process.env.E2E_VERBOSE) console.log('ssecast exit', exit, '\n', hub?.logs.join(''));
});

const readIds = (page) => page.$$eval('[data-testid=events] li', (lis) => lis.map((li) => li.dataset.id));
const status = (page) => page.textContent('[data-testid=status]');
const limited = () => metricValue(hub.url, 'ssecast_rate_limit_requests_total', { endpoint: 'sse', outcome: 'limited' });

test('429 from the rate limiter: the retry waits for Retry-After, then the stream resumes', { timeout: 60_000 }, async () => {
  const { page, consoleLines } = browser;
  const topic = `rl-${Date.now()}`;
  const diag = async () =>
    `status ${await status(page).catch(() => '?')}; errors ${JSON.stringify(
      await page.$$eval('[data-testid=error-log] li', (l) => l.map((x) => x.textContent)).catch(() => []),
    )}; proxy log ${JSON.stringify(proxy.log.map(({ method, path, start, status: s, retryAfter }) => ({ method, path: path.slice(0, 30), start, s, retryAfter })))}; console ${consoleLines.slice(-5).join(' | ')}`;
  const fail = async (e) => {
    await page.screenshot({ path: join(await artifactsDir(), 'ratelimit-failure.png') }).catch(() => undefined);
    throw new Error(`${e.message}; ${await diag()}`);
  };

  const limitedBefore = await limited();
  await page.goto(`${site.url}/?hub=${encodeURIComponent(proxy.url)}&topic=${topic}&backoffMs=50`);
  await waitFor('the page to be open', async () => (await status(page)) === 'open', 15_000).catch(fail);
  const id1 = await publish(hub.url, KEY, { topic, type: 'tick', data: { n: 1 } });
  await waitFor('event 1 on the page', async () => (await readIds(page)).includes(id1), 10_000).catch(fail);

  // Cut the stream: the client reconnects after retry: 300 ms + jitter < 0.4 s, inside the 3 s window → 429.
  const cutAt = Date.now();
  assert.equal(proxy.dropStreams(), 1, 'one SSE stream was open through the proxy');
  await waitFor('the stream to reopen', async () => (await status(page)) === 'open' && Date.now() - cutAt > 200, 20_000).catch(fail);
  const reopenedAfterMs = Date.now() - cutAt;

  // Events flow again, resumed after event 1 (each once).
  const id2 = await publish(hub.url, KEY, { topic, type: 'tick', data: { n: 2 } });
  await waitFor('event 2 on the page', async () => (await readIds(page)).includes(id2), 10_000).catch(fail);
  await sleep(300);
  assert.deepEqual(await readIds(page), [id1, id2], 'each event once, in order');

  // Server-side record: the GET /events attempts after the cut.
  const gets = proxy.log.filter((r) => r.method === 'GET' && r.path.startsWith('/events'));
  assert.equal(gets[0]?.status, 200, 'first connect accepted');
  const after = gets.slice(1);
  const refused = after.filter((r) => r.status === 429);
  const diagText = `${await diag()}; reopened after ${reopenedAfterMs} ms`;
  if (process.env.E2E_VERBOSE) console.log(diagText);
  assert.ok(refused.length >= 1, `the reconnect inside the window was refused with 429: ${diagText}`);
  assert.ok(refused.length <= 2, `no hot loop: at most 2 refused attempts, got ${refused.length}: ${diagText}`);
  assert.equal(after.at(-1)?.status, 200, `the last attempt was accepted: ${diagText}`);
  for (let i = 0; i < after.length - 1; i++) {
    const r = after[i];
    if (r.status !== 429) continue;
    assert.match(String(r.retryAfter), /^\d+$/, `429 carries Retry-After in seconds: ${diagText}`);
    const waited = after[i + 1].start - r.at;
    // The client's wait starts when it has read the answer, which is after the proxy saw it.
    assert.ok(
      waited >= Number(r.retryAfter) * 1000 - 5,
      `next attempt ${waited} ms after a 429 with Retry-After: ${r.retryAfter}: ${diagText}`,
    );
  }
  // The client saw (and reported) the 429.
  const errors = await page.$$eval('[data-testid=error-log] li', (l) => l.map((x) => x.textContent ?? ''));
  assert.ok(errors.some((e) => /\b429\b/.test(e)), `the page reported the 429: ${JSON.stringify(errors)}`);
  // And the hub's own counter agrees with the proxy.
  assert.equal((await limited()) - limitedBefore, refused.length, 'ssecast_rate_limit_requests_total{sse,limited}');
});
