// SPDX-License-Identifier: MIT
// E2E harness: the real ssecast binary, a static page server, and Debian's Chromium driven by
// playwright-core. Every process is started here and killed by PID; every wait is bounded.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

export const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..', '..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The server binary; the e2e suite fails (it never skips) when SSECAST_BIN is unset. */
export function ssecastBin() {
  const bin = process.env.SSECAST_BIN;
  if (!bin) {
    throw new Error(
      'SSECAST_BIN is not set: point it at the ssecast server binary, e.g. SSECAST_BIN=../../build/release/ssecast npm run e2e',
    );
  }
  return bin;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(what, fn, timeoutMs = 10_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
}

/**
 * Starts `${SSECAST_BIN} serve --listen 127.0.0.1:<port>` (memory mode) with extra env, waits for
 * /healthz, and returns { url, port, proc, logs, stop }. `port`: a given one (to bring a hub back
 * where it was), default a free one. stop() sends SIGTERM to that PID, then SIGKILL after 5 s.
 */
export async function startSsecast(env = {}, { port: wantedPort } = {}) {
  const bin = ssecastBin();
  const port = wantedPort ?? (await freePort());
  const logs = [];
  // ssecast refuses unknown SSECAST_* variables, and SSECAST_BIN itself is one: pass none of
  // ours through, only the ones this test sets.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SSECAST_')));
  const proc = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d) => logs.push(String(d)));
  proc.stderr.on('data', (d) => logs.push(String(d)));
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  let dead = null;
  void exited.then((r) => (dead = r));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (dead || proc.pid === undefined) return dead;
    process.kill(proc.pid, 'SIGTERM');
    const r = await Promise.race([exited, sleep(5000).then(() => null)]);
    if (r) return r;
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    return Promise.race([exited, sleep(2000).then(() => ({ code: null, signal: 'SIGKILL' }))]);
  };
  try {
    await waitFor(
      `ssecast /healthz on ${url}`,
      async () => {
        if (dead) return true;
        const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
        return r.ok;
      },
      15_000,
    );
    if (dead) throw new Error(`ssecast exited early ${JSON.stringify(dead)}: ${logs.join('').slice(-2000)}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, port, proc, logs, stop };
}

/** POST /publish with a publish key; returns the server-assigned id. */
export async function publish(hubUrl, key, event) {
  const r = await fetch(`${hubUrl}/publish`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(event),
    signal: AbortSignal.timeout(5000),
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`POST /publish answered ${r.status}: ${text}`);
  const body = JSON.parse(text);
  if (typeof body.id !== 'string') throw new Error(`POST /publish: no "id" in ${text}`);
  return body.id;
}

/** Bundles e2e/page/main.tsx (with the package source and React) and serves it on a free port. */
export async function startPageServer() {
  const result = await build({
    entryPoints: [join(here, 'page', 'main.tsx')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    write: false,
    minify: false,
    define: { 'process.env.NODE_ENV': '"development"' },
    logLevel: 'silent',
  });
  const js = result.outputFiles[0].text;
  const html =
    '<!doctype html><meta charset="utf-8"><title>e2e</title><div id="root"></div><script type="module" src="/page.js"></script>';
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/page.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' });
      res.end(js);
    } else if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(html);
    } else {
      res.writeHead(404).end();
    }
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Debian Chromium, headless, with a fresh profile directory that close() removes. */
export async function launchBrowser() {
  const profile = await mkdtemp(join(tmpdir(), 'ssecast-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  return {
    context,
    page,
    consoleLines,
    close: async () => {
      await Promise.race([context.close().catch(() => undefined), sleep(10_000)]);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function artifactsDir() {
  const dir = join(here, 'artifacts');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Runs a command (bounded), used to build web/admin when its dist/ is missing. */
export function run(cmd, args, cwd, timeoutMs = 180_000) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, stdio: 'inherit' });
    const t = setTimeout(() => {
      if (p.pid) process.kill(p.pid, 'SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out`));
    }, timeoutMs);
    p.once('exit', (code) => {
      clearTimeout(t);
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`));
    });
  });
}

/**
 * A transparent HTTP proxy in front of `targetUrl` that logs every request it forwards:
 * { method, path, start, at (ms, when the upstream answer arrived), status, retryAfter }.
 * Responses are piped unbuffered (SSE streams pass through live). `dropStreams()` cuts every
 * open response (as a network blip would), so the client has to reconnect.
 */
export async function startLoggingProxy(targetUrl) {
  const target = new URL(targetUrl);
  const log = [];
  const open = new Set();
  const server = createServer((req, res) => {
    const entry = { method: req.method, path: req.url ?? '/', start: Date.now(), at: 0, status: 0, retryAfter: null };
    log.push(entry);
    const up = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        entry.at = Date.now();
        entry.status = upRes.statusCode ?? 0;
        entry.retryAfter = upRes.headers['retry-after'] ?? null;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        res.flushHeaders();
        open.add(res);
        res.once('close', () => open.delete(res));
        upRes.pipe(res);
        upRes.once('error', () => res.destroy());
      },
    );
    up.once('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    res.once('close', () => up.destroy());
    req.pipe(up);
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    dropStreams: () => {
      const n = open.size;
      for (const res of open) res.destroy();
      return n;
    },
    stop: () =>
      new Promise((resolve) => {
        for (const res of open) res.destroy();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** One sample of a Prometheus counter from `${hubUrl}/metrics`, e.g. ('ssecast_x_total', {a: 'b'}). */
export async function metricValue(hubUrl, name, labels = {}) {
  const text = await (await fetch(`${hubUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{\s]+(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const have = (m[1] ?? '').split(',').filter(Boolean);
    if (want.every((w) => have.includes(w))) return Number(m[2]);
  }
  throw new Error(`${name}${JSON.stringify(labels)} not in /metrics`);
}

/**
 * The test page's server and a hub that takes it as a CORS origin, with publish key `key` and
 * anonymous subscribers; `env` adds or overrides SSECAST_* settings.
 */
export async function startPageAndHub(key, env = {}) {
  const site = await startPageServer();
  const hub = await startSsecast({
    SSECAST_AUTH_PUBLISH_KEYS: key,
    SSECAST_AUTH_ALLOW_ANONYMOUS: 'true',
    SSECAST_HTTP_CORS_ORIGINS: site.origin,
    ...env,
  });
  return { site, hub };
}
