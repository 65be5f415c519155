// SPDX-License-Identifier: MIT
// E2E (issue 5): ssecast serves web/admin/dist at /admin; in real Chromium, sign in with the admin
// token, see the instance id and the connection count follow a test subscriber; a wrong token is refused.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { artifactsDir, launchBrowser, repoRoot, run, startSsecast, waitFor } from './harness.mjs';

const ADMIN = 'admin-e2e-token';
const adminDir = join(repoRoot, 'web', 'admin');
let hub;
let browser;

before(async () => {
  if (!existsSync(join(adminDir, 'dist', 'index.html'))) {
    if (!existsSync(join(adminDir, 'node_modules'))) await run('npm', ['ci', '--no-audit', '--no-fund'], adminDir);
    await run('npm', ['run', 'build'], adminDir);
  }
  hub = await startSsecast({
    SSECAST_AUTH_ADMIN_TOKEN: ADMIN,
    SSECAST_AUTH_ALLOW_ANONYMOUS: 'true',
    SSECAST_HTTP_ADMIN_DIR: join(adminDir, 'dist'),
  });
  browser = await launchBrowser();
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

test('/admin: sign in, live figures, wrong token', { timeout: 120_000 }, async () => {
  const { page, consoleLines } = browser;
  const res = await page.goto(`${hub.url}/admin`);
  assert.equal(res?.status(), 200, '/admin serves the UI');
  await page.waitForSelector('[data-testid=login-form]');

  // Wrong token first.
  await page.fill('[data-testid=token-input]', 'not-the-token');
  await page.click('[data-testid=login-form] button[type=submit]');
  await page.waitForSelector('[data-testid=error-unauthorized]');
  assert.match((await page.textContent('[data-testid=error-unauthorized]')) ?? '', /401/);

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
  const dir = await artifactsDir();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(dir, 'admin-laptop.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(dir, 'admin-phone.png'), fullPage: true });
  for (const close of closers) close();
  await waitFor('connections back down', async () => (await count()) === base, 10_000);
});
