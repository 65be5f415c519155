// SPDX-License-Identifier: MIT
// E2E (issue 5): ssecast serves web/admin/dist at /admin; in real Chromium, sign in with the admin
// token, see the instance id and the connection count follow a test subscriber; a wrong token is refused;
// when the hub goes away the page says so within seconds, and it recovers when the hub is back.
// Screenshots of each state at laptop (1280x800) and phone (390x844) widths go to e2e/artifacts.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { artifactsDir, launchBrowser, repoRoot, run, startSsecast, waitFor } from './harness.mjs';

const ADMIN = 'admin-e2e-token';
const adminDir = join(repoRoot, 'web', 'admin');
let hub;
let browser;

/** Newest mtime (ms) of the files under `dir`, recursively. */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** dist/ is missing, or older than the sources it is built from (the UI or the client package). */
function distStale() {
  const index = join(adminDir, 'dist', 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return [join(adminDir, 'src'), join(adminDir, 'index.html'), join(repoRoot, 'clients', 'js', 'src')].some((p) =>
    statSync(p).isDirectory() ? newest(p) > built : statSync(p).mtimeMs > built,
  );
}

const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** Full-page screenshots of the current state at both widths: admin-<name>-laptop/phone.png. */
async function shoot(page, name) {
  const dir = await artifactsDir();
  for (const [label, size] of [['laptop', LAPTOP], ['phone', PHONE]]) {
    await page.setViewportSize(size);
    // Nothing may stick out sideways at either width.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${name} @${label}: page is ${overflow}px wider than the viewport`);
    await page.screenshot({ path: join(dir, `admin-${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(LAPTOP);
}

before(async () => {
  if (distStale()) {
    if (!existsSync(join(adminDir, 'node_modules'))) await run('npm', ['ci', '--no-audit', '--no-fund'], adminDir);
    await run('npm', ['run', 'build'], adminDir);
  }
  hub = await startSsecast({
    SSECAST_AUTH_ADMIN_TOKEN: ADMIN,
    SSECAST_AUTH_ALLOW_ANONYMOUS: 'true',
    SSECAST_HTTP_ADMIN_DIR: join(adminDir, 'dist'),
  });
  browser = await launchBrowser();
  await browser.page.setViewportSize(LAPTOP);
});

after(async () => {
  await browser?.close();
  await hub?.stop();
});

/** Holds an anonymous /events stream open until abort() (a "test client"). */
async function subscriber(url, topic) {
  const ac = new AbortController();
  const res = await fetch(`${url}/events?topic=${topic}`, { signal: ac.signal });
  assert.equal(res.status, 200, `GET /events answered ${res.status}`);
  const reader = res.body.getReader();
  void (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      /* aborted */
    }
  })();
  return () => ac.abort();
}

test('/admin: wrong token, sign in, live figures, hub unreachable and back', { timeout: 120_000 }, async () => {
  const { page, consoleLines } = browser;
  const res = await page.goto(`${hub.url}/admin`);
  assert.equal(res?.status(), 200, '/admin serves the UI');
  await page.waitForSelector('[data-testid=login-form]');

  // Wrong token first.
  await page.fill('[data-testid=token-input]', 'not-the-token');
  await page.click('[data-testid=login-form] button[type=submit]');
  await page.waitForSelector('[data-testid=error-unauthorized]');
  assert.match((await page.textContent('[data-testid=error-unauthorized]')) ?? '', /401/);
  assert.equal((await page.textContent('[data-testid=feed-state]'))?.trim(), 'Wrong token');
  await page.waitForSelector('[data-testid=login-form]'); // asked again
  assert.equal(await page.$('[data-testid=auto-refresh]'), null, 'no dashboard actions without a valid token');
  await shoot(page, 'wrong-token');

  // The right one.
  await page.fill('[data-testid=token-input]', ADMIN);
  await page.click('[data-testid=login-form] button[type=submit]');
  await page.waitForSelector('[data-testid=instance-id]', { timeout: 15_000 }).catch((e) => {
    throw new Error(`${e.message}; console: ${consoleLines.join(' | ')}`);
  });
  const instanceId = (await page.textContent('[data-testid=instance-id]'))?.trim();
  assert.ok(instanceId, 'instance id shown');
  const stats = await (await fetch(`${hub.url}/api/admin/sse-monitor`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json();
  assert.equal(instanceId, stats.instanceId);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('ssecast.adminToken')), ADMIN);
  assert.equal(await page.evaluate(() => localStorage.getItem('ssecast.adminToken')), null);

  const count = async () => Number((await page.textContent('[data-testid=local-connections]'))?.replace(/,/g, ''));
  const base = await count();
  const closers = [await subscriber(hub.url, 'admin-e2e'), await subscriber(hub.url, 'admin-e2e')];
  await waitFor('connections +2 on the page', async () => (await count()) === base + 2, 10_000);
  assert.match((await page.textContent('[data-testid=feed-state]')) ?? '', /^Live/);
  await shoot(page, 'live');
  for (const close of closers) close();
  await waitFor('connections back down', async () => (await count()) === base, 10_000);

  // The hub goes away: the page says so within a few seconds (and keeps the last figures, marked stale).
  const { port } = hub;
  const stoppedAt = Date.now();
  const exit = await hub.stop();
  assert.equal(exit?.code, 0, `ssecast exits 0 on SIGTERM (${JSON.stringify(exit)})`);
  await page.waitForSelector('[data-testid=error-unreachable]', { timeout: 8_000 });
  const noticedMs = Date.now() - stoppedAt;
  assert.ok(noticedMs < 8_000, `unreachable shown after ${noticedMs} ms`);
  assert.equal((await page.textContent('[data-testid=feed-state]'))?.trim(), 'Hub unreachable');
  assert.match((await page.textContent('[data-testid=error-unreachable]')) ?? '', /Cannot reach the hub.*stale/s);
  assert.ok(await page.$('[data-testid=figures].ssm-stale'), 'the last figures are kept, marked stale');
  await shoot(page, 'unreachable');

  // A hub is back on the same port (a new instance): the page goes live again by itself.
  hub = await startSsecast(
    { SSECAST_AUTH_ADMIN_TOKEN: ADMIN, SSECAST_AUTH_ALLOW_ANONYMOUS: 'true', SSECAST_HTTP_ADMIN_DIR: join(adminDir, 'dist') },
    { port },
  );
  const { instanceId: newId } = await (
    await fetch(`${hub.url}/api/admin/sse-monitor`, { headers: { Authorization: `Bearer ${ADMIN}` } })
  ).json();
  await waitFor(
    'the page to show the new instance, live',
    async () =>
      (await page.textContent('[data-testid=instance-id]'))?.trim() === newId &&
      /^Live/.test((await page.textContent('[data-testid=feed-state]')) ?? '') &&
      (await page.$('[data-testid=error-unreachable]')) === null &&
      (await page.$('[data-testid=figures].ssm-stale')) === null,
    15_000,
  );
  await waitFor('the stats stream back', async () => (await page.textContent('[data-testid=feed-state]')) === 'Live (stream)', 15_000);
});

test('/admin on a default hub (no admin token configured): a loopback visitor signs in without typing', { timeout: 60_000 }, async () => {
  // As `scripts/run.sh` starts it: no auth settings at all.
  const fresh = await startSsecast({ SSECAST_HTTP_ADMIN_DIR: join(adminDir, 'dist') });
  const page = await browser.context.newPage();
  try {
    const marker = 'admin token for this run is ';
    const logged = await waitFor('the generated admin token in the log', () => {
      const all = fresh.logs.join('');
      const at = all.indexOf(marker);
      return at >= 0 && all.slice(at + marker.length).split(/\s/)[0];
    });
    await page.goto(`${fresh.url}/admin`);
    await page.waitForSelector('[data-testid=login-form]');
    assert.equal(await page.inputValue('[data-testid=token-input]'), logged, 'the form is filled in with the logged token');
    await page.click('[data-testid=login-form] button[type=submit]'); // no typing
    await page.waitForSelector('[data-testid=local-connections]', { timeout: 15_000 });
    const count = async () => Number((await page.textContent('[data-testid=local-connections]'))?.replace(/,/g, ''));
    const base = await count();
    const close = await subscriber(fresh.url, 'first-visit');
    await waitFor('the live connection count to follow', async () => (await count()) === base + 1, 10_000);
    assert.match((await page.textContent('[data-testid=feed-state]')) ?? '', /^Live/);
    const dir = await artifactsDir();
    await page.screenshot({ path: join(dir, 'admin-first-visit.png'), fullPage: true });
    close();
  } finally {
    await page.close();
    await fresh.stop();
  }
});
