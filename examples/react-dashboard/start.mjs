#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// One command for the example: packs @ssecast/client (clients/js) into vendor/, installs it the
// way a user would (npm ci from the tarball), starts a local ssecast hub (memory mode, a JWT
// secret and a publish key made for this run), a fake backend that publishes orders and
// metrics, and the Vite dev server with GET /token. Ctrl-C stops all of them (by PID).
//   npm start                          hub on 127.0.0.1:8090, app on http://127.0.0.1:5173
//   SSECAST_BIN=/path/to/ssecast npm start      another binary
//   HUB_PORT=9000 TOKEN_TTL=30 npm start        other hub port, token lifetime (seconds)
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const clientDir = join(repo, 'clients', 'js');
const bin = process.env.SSECAST_BIN ?? join(repo, 'build', 'release', 'ssecast');
const hubPort = Number(process.env.HUB_PORT ?? 8090);
const appOrigin = 'http://127.0.0.1:5173';
const hubUrl = `http://127.0.0.1:${hubPort}`;
const secret = randomBytes(24).toString('hex');
const publishKey = `example-${randomBytes(12).toString('hex')}`;
const children = [];

function sh(cmd, args, cwd) {
  console.log(`$ (cd ${cwd.replace(repo, '.')}) ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd, stdio: 'inherit', timeout: 300_000 });
}

/** npm pack the client into vendor/ssecast-client.tgz (the name package.json depends on). */
export function packClient() {
  if (!existsSync(join(clientDir, 'node_modules'))) sh('npm', ['ci', '--no-audit', '--no-fund'], clientDir);
  const vendor = join(here, 'vendor');
  rmSync(vendor, { recursive: true, force: true });
  mkdirSync(vendor);
  sh('npm', ['pack', '--silent', '--pack-destination', vendor], clientDir);
  const [tgz] = readdirSync(vendor).filter((f) => f.endsWith('.tgz'));
  renameSync(join(vendor, tgz), join(vendor, 'ssecast-client.tgz'));
}

function stopAll(code = 0) {
  for (const c of children.reverse()) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGTERM');
  process.exit(code);
}

async function waitHealthy(url, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no hub on ${url} after ${ms} ms`);
}

const customers = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Barbara Liskov', 'Edsger Dijkstra', 'Radia Perlman'];
const statuses = ['paid', 'shipped', 'delivered'];

/** The fake backend: an order, an update of an earlier order, or a metric, every ~1.5 s. */
function startPublisher() {
  let n = 0;
  const open = [];
  const publish = (topic, type, data) =>
    fetch(`${hubUrl}/publish`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${publishKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ topic, type, data }),
      signal: AbortSignal.timeout(3000),
    }).catch((e) => console.error('publish failed:', e.message));
  const timer = setInterval(() => {
    n++;
    if (n % 3 === 0) {
      void publish('metrics', 'metric', { name: n % 2 ? 'checkout.latency_ms' : 'carts.open', value: 20 + ((n * 37) % 90) });
    } else if (open.length && n % 2 === 0) {
      const o = open[n % open.length];
      o.s = Math.min(o.s + 1, statuses.length - 1);
      void publish('orders', 'order.updated', { id: o.id, status: statuses[o.s] });
    } else {
      const id = `A-${1000 + n}`;
      open.push({ id, s: -1 });
      if (open.length > 8) open.shift();
      void publish('orders', 'order.created', { id, customer: customers[n % customers.length], total: Math.round(1000 + ((n * 731) % 20000)) / 100 });
    }
  }, 1500);
  return () => clearInterval(timer);
}

async function main() {
  if (!existsSync(bin)) {
    console.error(`no ssecast binary at ${bin}: run scripts/build.sh release at the repo root, or set SSECAST_BIN`);
    process.exit(1);
  }
  packClient();
  sh('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], here);

  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SSECAST_')));
  const hub = spawn(bin, ['serve', '--listen', `127.0.0.1:${hubPort}`], {
    env: {
      ...env,
      SSECAST_AUTH_JWT_SECRET: secret,
      SSECAST_AUTH_PUBLISH_KEYS: publishKey,
      SSECAST_AUTH_ALLOW_ANONYMOUS: 'false',
      SSECAST_HTTP_CORS_ORIGINS: appOrigin,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(hub);
  hub.once('exit', (code) => {
    console.error(`ssecast exited (${code})`);
    stopAll(1);
  });
  await waitHealthy(hubUrl);
  const stopPublisher = startPublisher();
  const vite = spawn(join(here, 'node_modules', '.bin', 'vite'), ['--host', '127.0.0.1', '--port', '5173', '--strictPort'], {
    cwd: here,
    env: {
      ...process.env,
      VITE_SSECAST_URL: hubUrl,
      SSECAST_EXAMPLE_JWT_SECRET: secret,
      SSECAST_EXAMPLE_TOKEN_TTL: process.env.TOKEN_TTL ?? '60',
    },
    stdio: 'inherit',
  });
  children.push(vite);
  console.log(`\nhub ${hubUrl} · app ${appOrigin} (open it in several tabs) · Ctrl-C stops everything\n`);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      stopPublisher();
      stopAll(0);
    });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e.message);
    stopAll(1);
  });
}
