// SPDX-License-Identifier: MIT
// E2E (issue 6): a page using useSSE with the cache, in real Chromium against the real ssecast;
// events keep being published while the page reloads twice; every event shows exactly once, in order.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { artifactsDir, launchBrowser, publish, sleep, startPageAndHub, waitFor } from './harness.mjs';

const KEY = 'testkey';
const TOTAL = 60;
let hub;
let site;
let browser;

before(async () => {
  ({ site, hub } = await startPageAndHub(KEY));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  const exit = await hub?.stop();
  await site?.stop();
  if (process.env.E2E_VERBOSE) console.log('ssecast exit', exit, '\n', hub?.logs.join(''));
});

const readList = (page) =>
  page.$$eval('[data-testid=events] li', (lis) => lis.map((li) => ({ id: li.dataset.id, n: Number(li.dataset.n) })));

test('reload mid-stream: every event exactly once, in order', { timeout: 120_000 }, async () => {
  const { page, consoleLines } = browser;
  const topic = `reload-${Date.now()}`;
  const pageUrl = `${site.url}/?hub=${encodeURIComponent(hub.url)}&topic=${topic}`;
  await page.goto(pageUrl);
  await waitFor('the page to be open', async () => (await page.textContent('[data-testid=status]')) === 'open', 15_000).catch(
    async (e) => {
      throw new Error(`${e.message}; page error: ${await page.textContent('[data-testid=error]')}; console: ${consoleLines.join(' | ')}`);
    },
  );

  const ids = [];
  const reloads = [];
  for (let n = 1; n <= TOTAL; n++) {
    ids.push(await publish(hub.url, KEY, { topic, type: 'tick', data: { n } }));
    // Reload without waiting: publishing goes on while the page is away.
    if (n === 15 || n === 40) reloads.push(page.reload({ waitUntil: 'commit' }));
    await sleep(40);
  }
  await Promise.all(reloads);
  for (let i = 1; i < ids.length; i++) {
    assert.ok(ids[i] !== ids[i - 1], `server returned a duplicate id ${ids[i]}`);
  }

  let list = [];
  try {
    await waitFor('all events on the page', async () => (list = await readList(page)).length >= TOTAL, 20_000);
  } catch (e) {
    const dir = await artifactsDir();
    await page.screenshot({ path: join(dir, 'reload-failure.png') }).catch(() => undefined);
    throw new Error(
      `${e.message}: page shows ${list.length}/${TOTAL}, status ${await page.textContent('[data-testid=status]')}, ` +
        `error "${await page.textContent('[data-testid=error]')}"; browser console: ${consoleLines.slice(-5).join(' | ')}`,
    );
  }
  await sleep(500); // a late duplicate would show up now
  list = await readList(page);
  assert.deepEqual(
    list.map((e) => e.n),
    Array.from({ length: TOTAL }, (_, i) => i + 1),
    'each event once, in publish order',
  );
  assert.deepEqual(
    list.map((e) => e.id),
    ids,
    'the ids the page shows are the ids POST /publish returned',
  );

  // And once more after a final reload: hydrated from the cache, nothing lost or doubled.
  await page.reload();
  await waitFor('hydrated list', async () => (await readList(page)).length === TOTAL, 10_000);
  await waitFor('open again', async () => (await page.textContent('[data-testid=status]')) === 'open', 10_000);
  assert.deepEqual((await readList(page)).map((e) => e.id), ids);
});
