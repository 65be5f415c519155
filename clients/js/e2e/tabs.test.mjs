// SPDX-License-Identifier: MIT
// E2E (issue 17): shareAcrossTabs in real Chromium against the real ssecast. Tabs of one origin on
// one topic hold one stream (the hub's monitor counts one connection); all show the same events
// in order; closing the leader while publishing loses nothing and shows nothing twice, and the
// monitor is back at one connection within ~2 s; a tab with another topic holds its own stream;
// a reload of every tab at once loses nothing; while the hub is away every tab shows the status
// and the leader's error, and only the leader reconnects.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { artifactsDir, launchBrowser, publish, sleep, startPageAndHub, startSsecast, waitFor } from './harness.mjs';

const KEY = 'testkey';
const ADMIN = 'admin-tabs-token';
let hub;
let site;
let browser;

before(async () => {
  ({ site, hub } = await startPageAndHub(KEY, { SSECAST_AUTH_ADMIN_TOKEN: ADMIN }));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  const exit = await hub?.stop();
  await site?.stop();
  if (process.env.E2E_VERBOSE) console.log('ssecast exit', exit, '\n', hub?.logs.join(''));
});

/** Open streams on the hub, as its monitor reports them. */
async function connections() {
  const r = await fetch(`${hub.url}/api/admin/sse-monitor`, {
    headers: { Authorization: `Bearer ${ADMIN}` },
    signal: AbortSignal.timeout(3000),
  });
  assert.equal(r.status, 200);
  return (await r.json()).local.connections;
}

const readList = (page) =>
  page.$$eval('[data-testid=events] li', (lis) => lis.map((li) => ({ id: li.dataset.id, n: Number(li.dataset.n) })));
const text = (page, id) => page.textContent(`[data-testid=${id}]`);

async function openTabs(n, query) {
  const pages = [];
  for (let i = 0; i < n; i++) {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}/?hub=${encodeURIComponent(hub.url)}&${query}`);
    pages.push(page);
  }
  await waitFor('every tab open', async () => {
    for (const p of pages) if ((await text(p, 'status')) !== 'open') return false;
    return true;
  }, 15_000);
  return pages;
}

async function leaderOf(pages) {
  return waitFor('one leader tab', async () => {
    const roles = await Promise.all(pages.map((p) => text(p, 'role')));
    const leaders = pages.filter((_, i) => roles[i] === 'leader');
    return leaders.length === 1 && roles.filter((r) => r === 'follower').length === pages.length - 1 ? leaders[0] : null;
  }, 5_000);
}

/**
 * From `t0` on, samples the tabs' roles/status and the hub's connection count every ~50 ms
 * until a new leader is open and the monitor says 1 (at most 5 s). Times are ms after t0.
 */
async function watchTakeover(pages, t0) {
  let newLeaderOpenMs;
  let backMs;
  const monitor = [];
  while (Date.now() - t0 < 5000) {
    if (newLeaderOpenMs === undefined) {
      for (const p of pages) {
        if ((await text(p, 'role')) === 'leader' && (await text(p, 'status')) === 'open') newLeaderOpenMs = Date.now() - t0;
      }
    }
    const c = await connections();
    const t = Date.now() - t0;
    if (monitor.at(-1)?.[1] !== c) monitor.push([t, c]);
    if (newLeaderOpenMs !== undefined && c === 1) {
      backMs = t;
      break;
    }
    await sleep(50);
  }
  return { newLeaderOpenMs: newLeaderOpenMs ?? Infinity, backMs: backMs ?? Infinity, monitor };
}

/** Waits until every page shows exactly `want` (numbers, in order); fails on a duplicate or a gap. */
async function expectAll(pages, want, what) {
  try {
    await waitFor(what, async () => {
      for (const p of pages) if ((await readList(p)).length < want.length) return false;
      return true;
    }, 20_000);
  } catch (e) {
    const dir = await artifactsDir();
    await pages[0]?.screenshot({ path: join(dir, 'tabs-failure.png') }).catch(() => undefined);
    const got = await Promise.all(pages.map(async (p) => (await readList(p)).map((x) => x.n).join(',')));
    throw new Error(`${e.message}; pages show ${got.join(' | ')}`);
  }
  await sleep(300); // a late duplicate would show up now
  for (const p of pages) assert.deepEqual((await readList(p)).map((e) => e.n), want, `${what}: each event once, in order`);
}

test('three tabs, one topic: one connection; the leader closes mid-publish; another topic has its own', { timeout: 90_000 }, async () => {
  const topic = `tabs-${Date.now()}`;
  const pages = await openTabs(3, `topic=${topic}&store=tabs1`);
  await waitFor('the monitor to count one connection for three tabs', async () => (await connections()) === 1, 5_000);
  await sleep(500);
  assert.equal(await connections(), 1, 'three tabs of one origin on one topic hold one stream');

  let n = 0;
  for (; n < 10; n++) await publish(hub.url, KEY, { topic, type: 'tick', data: { n: n + 1 } });
  await expectAll(pages, Array.from({ length: 10 }, (_, i) => i + 1), 'three tabs, same events');

  // Close the leader while events keep coming.
  const leader = await leaderOf(pages);
  const rest = pages.filter((p) => p !== leader);
  let closedAt = 0;
  let closing;
  let watching;
  for (; n < 40; n++) {
    await publish(hub.url, KEY, { topic, type: 'tick', data: { n: n + 1 } });
    if (n === 20) {
      closedAt = Date.now();
      closing = leader.close({ runBeforeUnload: false });
      watching = watchTakeover(rest, closedAt);
    }
    await sleep(25);
  }
  await closing;
  const { newLeaderOpenMs, backMs, monitor } = await watching;
  console.log(
    `tabs: leader closed → new leader tab open after ${newLeaderOpenMs} ms, monitor at one connection with it after ` +
      `${backMs} ms; monitor changes (ms:connections) ${monitor.map(([t, c]) => `${t}:${c}`).join(' ')}`,
  );
  await expectAll(rest, Array.from({ length: 40 }, (_, i) => i + 1), 'after the leader closed');
  assert.equal(await connections(), 1);
  assert.ok(newLeaderOpenMs <= 1500, `takeover took ${newLeaderOpenMs} ms (want ~1 s)`);
  assert.ok(backMs <= 2000, `monitor back at one connection after ${backMs} ms (want ≤ 2 s)`);

  // A tab with another topic: its own stream, its own leader; the others are unaffected.
  const [other] = await openTabs(1, `topic=${topic}-other&store=tabs1-other`);
  assert.equal(await text(other, 'role'), 'leader');
  await waitFor('two connections', async () => (await connections()) === 2, 5_000);
  await publish(hub.url, KEY, { topic: `${topic}-other`, type: 'tick', data: { n: 1 } });
  await publish(hub.url, KEY, { topic, type: 'tick', data: { n: 41 } });
  await expectAll([other], [1], 'the other topic');
  await expectAll(rest, Array.from({ length: 41 }, (_, i) => i + 1), 'the shared topic');
  for (const p of [...rest, other]) await p.close();
  await waitFor('no connection left', async () => (await connections()) === 0, 5_000);
});

test('every tab reloads at once while events are published: nothing lost, nothing twice', { timeout: 90_000 }, async () => {
  const topic = `tabs-reload-${Date.now()}`;
  const pages = await openTabs(3, `topic=${topic}&store=tabs2`);
  const TOTAL = 50;
  const reloads = [];
  for (let n = 1; n <= TOTAL; n++) {
    await publish(hub.url, KEY, { topic, type: 'tick', data: { n } });
    if (n === 15 || n === 35) for (const p of pages) reloads.push(p.reload({ waitUntil: 'commit' }));
    await sleep(30);
  }
  await Promise.all(reloads);
  await expectAll(pages, Array.from({ length: TOTAL }, (_, i) => i + 1), 'after reloading every tab twice');
  await leaderOf(pages);
  await waitFor('one connection', async () => (await connections()) === 1, 5_000);
  for (const p of pages) await p.close();
});

test('the hub goes away and comes back: every tab shows it, only the leader reconnects', { timeout: 60_000 }, async () => {
  const topic = `tabs-restart-${Date.now()}`;
  const pages = await openTabs(2, `topic=${topic}&store=tabs3&backoffMs=200`);
  await waitFor('one connection', async () => (await connections()) === 1, 5_000);
  const { port } = hub;
  assert.equal((await hub.stop())?.code, 0);
  await waitFor('both tabs reconnecting, with the leader\'s error', async () => {
    for (const p of pages) {
      if ((await text(p, 'status')) !== 'reconnecting' || !/^SSENetworkError/.test((await text(p, 'error')) ?? '')) return false;
    }
    return true;
  }, 5_000);
  hub = await startSsecast(
    { SSECAST_AUTH_PUBLISH_KEYS: KEY, SSECAST_AUTH_ALLOW_ANONYMOUS: 'true', SSECAST_HTTP_CORS_ORIGINS: site.origin, SSECAST_AUTH_ADMIN_TOKEN: ADMIN },
    { port },
  );
  await waitFor('both tabs open again', async () => {
    for (const p of pages) if ((await text(p, 'status')) !== 'open') return false;
    return true;
  }, 10_000);
  await sleep(500);
  assert.equal(await connections(), 1, 'the followers did not open streams of their own');
  await publish(hub.url, KEY, { topic, type: 'tick', data: { n: 1 } });
  await expectAll(pages, [1], 'after the hub came back');
  for (const p of pages) await p.close();
});
