// SPDX-License-Identifier: MIT
// The package as users install it (issue 17): `npm pack` → a fresh project installs the
// tarball; ESM imports work in Node; TypeScript (NodeNext and Bundler resolution, skipLibCheck
// off) resolves the types of both entries; React is an optional peer: a project without React
// installs and uses the core entry, and only `@ssecast/client/react` needs React.
// No browser and no hub: packages come from npm's cache when present (--prefer-offline).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { here } from './harness.mjs';

const pkgDir = join(here, '..');
const tsc = join(pkgDir, 'node_modules', 'typescript', 'bin', 'tsc');
const exec = promisify(execFile);
let work;
let tgz;

const sh = (cmd, args, cwd) => exec(cmd, args, { cwd, timeout: 180_000, maxBuffer: 16 << 20 });
const npmInstall = (cwd, ...specs) =>
  sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], cwd);

async function project(name, deps) {
  const dir = join(work, name);
  await sh('mkdir', ['-p', dir], work);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }, null, 2));
  await npmInstall(dir, tgz, ...deps);
  return dir;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'ssecast-pack-'));
  await sh('npm', ['pack', '--silent', '--pack-destination', work], pkgDir); // prepack builds dist/
  const [file] = (await readdir(work)).filter((f) => f.endsWith('.tgz'));
  tgz = join(work, file);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('the tarball holds dist (JS + .d.ts), no tests, and declares React as an optional peer', async () => {
  const { stdout } = await sh('tar', ['tzf', tgz], work);
  const files = stdout.split('\n').filter(Boolean);
  for (const f of ['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/react/index.js', 'package/dist/react/index.d.ts', 'package/README.md']) {
    assert.ok(files.includes(f), `${f} in the tarball`);
  }
  assert.deepEqual(files.filter((f) => /\.test\.|test-support/.test(f)), [], 'no tests in the tarball');
  const { stdout: pj } = await sh('tar', ['xzf', tgz, '-O', 'package/package.json'], work);
  const meta = JSON.parse(pj);
  assert.equal(meta.peerDependenciesMeta?.react?.optional, true);
  assert.deepEqual(Object.keys(meta.dependencies), ['eventsource-parser']);
  assert.equal(meta.scripts?.prepare, undefined, 'no install-time script');
  assert.equal(meta.scripts?.postinstall, undefined);
});

test('a fresh project without React: installs, imports the core from ESM, and type-checks', { timeout: 180_000 }, async () => {
  const dir = await project('core-only', []);
  assert.ok(!existsSync(join(dir, 'node_modules', 'react')), 'React is not installed for a core-only user');
  const lock = readFileSync(join(dir, 'package-lock.json'), 'utf8');
  const odd = [...lock.matchAll(/"resolved": "([^"]*)"/g)].map((m) => m[1]).filter((u) => !u.startsWith('file:') && !u.startsWith('https://registry.npmjs.org/'));
  assert.deepEqual(odd, [], 'the lockfile resolves from the npm registry or the local tarball only');
  await writeFile(
    join(dir, 'use.mjs'),
    `import { SSEClient, EventCache, SSETokenError, compareEventIds, TOKEN_EXPIRED_EVENT } from '@ssecast/client';
const c = new SSEClient({ url: 'http://127.0.0.1:9', topics: ['t'], shareAcrossTabs: false });
const cache = new EventCache({ storage: null, autoStart: false });
console.log(JSON.stringify([c.status, c.role, cache.size, compareEventIds('999-0', '1000-0'), TOKEN_EXPIRED_EVENT, typeof SSETokenError]));
`,
  );
  const { stdout } = await sh('node', ['use.mjs'], dir);
  assert.deepEqual(JSON.parse(stdout), ['closed', 'own', 0, -1, 'ssecast.token-expired', 'function']);
  // The react entry needs React, and says so.
  await assert.rejects(sh('node', ['--input-type=module', '-e', "await import('@ssecast/client/react')"], dir), /react/);
  // TypeScript, NodeNext: types resolve through the exports map (a wrong call must be an error).
  await writeFile(
    join(dir, 'use.ts'),
    `import { SSEClient, type EventOf, type SSEError, type TokenRequest } from '@ssecast/client';
type Events = { 'order.updated': { id: string; status: string } };
const client = new SSEClient<Events>({
  url: 'https://hub.example.com',
  topics: ['orders'],
  token: async ({ refresh }: TokenRequest) => (refresh ? 'new' : 'cached'),
});
client.on('order.updated', (e) => {
  const s: string = e.data.status;
  void s;
});
client.onError((e: SSEError) => void e.fatal);
const ev = {} as EventOf<Events>;
if (ev.type === 'order.updated') void ev.data.id;
// @ts-expect-error url must be a string: proves the types are real, not any
new SSEClient({ url: 1 });
`,
  );
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, lib: ['ES2022', 'DOM'], types: [] },
      files: ['use.ts'],
    }),
  );
  await sh('node', [tsc, '-p', '.'], dir).catch((e) => assert.fail(`tsc (NodeNext): ${e.stdout}${e.stderr}`));
});

test('a fresh React + TypeScript project: @ssecast/client/react imports and its types resolve', { timeout: 180_000 }, async () => {
  const dir = await project('with-react', ['react@19', 'react-dom@19', '@types/react@19']);
  const { stdout } = await sh(
    'node',
    ['--input-type=module', '-e', "const m = await import('@ssecast/client/react'); console.log(Object.keys(m).sort().join(','))"],
    dir,
  );
  assert.equal(stdout.trim(), 'SSEMonitor,useSSE', 'the react entry exports the hook and the monitor, no internals');
  await writeFile(
    join(dir, 'app.tsx'),
    `import { useSSE, SSEMonitor, type UseSSEResult } from '@ssecast/client/react';
export function Orders() {
  const r: UseSSEResult<{ id: string }> = useSSE<{ id: string }>({
    url: '', topics: ['orders'], enableCache: true, shareAcrossTabs: true,
    token: async ({ refresh }) => (refresh ? 'fresh' : 'cached'),
    onHistoryLost: ({ lastEventId }) => void lastEventId,
  });
  // @ts-expect-error topics is required
  useSSE({ url: '' });
  return <div>{r.status} {r.role} {r.events.map((e) => e.data.id).join()}<SSEMonitor suggestedToken="x" /></div>;
}
`,
  );
  for (const moduleResolution of ['NodeNext', 'Bundler']) {
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: moduleResolution === 'Bundler' ? 'ESNext' : 'NodeNext',
          moduleResolution,
          jsx: 'react-jsx',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          lib: ['ES2022', 'DOM'],
          types: [],
        },
        files: ['app.tsx'],
      }),
    );
    await sh('node', [tsc, '-p', '.'], dir).catch((e) => assert.fail(`tsc (${moduleResolution}): ${e.stdout}${e.stderr}`));
  }
});

test("the repo's lockfiles download from the npm registry only", async () => {
  const locks = ['clients/js', 'web/admin', 'examples/react-dashboard'].map((d) => join(here, '..', '..', '..', d, 'package-lock.json'));
  for (const file of locks) {
    const lock = readFileSync(file, 'utf8');
    const odd = [...lock.matchAll(/"resolved": "([^"]*)"/g)]
      .map((m) => m[1])
      .filter((u) => !u.startsWith('https://registry.npmjs.org/') && !/^(file:)?(\.\.\/|vendor\/)/.test(u));
    assert.deepEqual(odd, [], `${file}: only registry.npmjs.org or local paths`);
  }
});
