// SPDX-License-Identifier: MIT
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeFetch, jsonResponse, settle, sseResponse, type FakeStream } from '../test-support/fake-fetch.js';
import { addSample, readMonitorStats } from './monitor-types.js';
import { SSEMonitor } from './sse-monitor.js';

const doc = {
  handler: 'memory',
  instanceId: 'host-1a2b3c',
  uptimeSeconds: 75,
  local: { connections: 3, uniqueUsers: 2 },
  global: { connections: 3, uniqueUsers: 2, instances: 1 },
  perUser: [{ userId: '42', connections: 2 }, { userId: 'anon:127.0.0.1', connections: 1 }],
  instances: [{ instanceId: 'host-1a2b3c', connections: 3, lastSeenSeconds: 0 }],
  redis: { status: 'disabled' },
  events: { published: 100, delivered: 250, dropped: 0 },
};

/** A fetch whose every call answers with an SSE stream; `stream()` is the latest one. */
function statsStream() {
  let latest!: FakeStream;
  const f = fakeFetch((c) => {
    const r = sseResponse(c);
    latest = r.stream;
    return r.response;
  });
  return { f, stream: () => latest };
}

describe('SSEMonitor', () => {
  beforeEach(() => sessionStorage.clear());
  afterEach(() => sessionStorage.clear());

  it('asks for the token, keeps it in sessionStorage, and renders the stats stream', async () => {
    const { f, stream } = statsStream();
    render(<SSEMonitor baseUrl="http://hub.test" fetch={f.fetch} />);
    expect(screen.getByTestId('login-form')).toBeTruthy();
    fireEvent.change(screen.getByTestId('token-input'), { target: { value: 'secret' } });
    fireEvent.submit(screen.getByTestId('login-form'));
    expect(sessionStorage.getItem('ssecast.adminToken')).toBe('secret');
    expect(localStorage.getItem('ssecast.adminToken')).toBeNull();
    await act(() => settle());
    expect(f.calls[0]!.url).toBe('http://hub.test/api/admin/sse-monitor/stream');
    expect(f.calls[0]!.headers['Authorization']).toBe('Bearer secret');
    await act(async () => {
      stream().push(`event: stats\ndata: ${JSON.stringify(doc)}\n\n`);
      await settle();
    });
    expect(screen.getByTestId('instance-id').textContent).toBe('host-1a2b3c');
    expect(screen.getByTestId('local-connections').textContent).toBe('3');
    expect(screen.getByTestId('handler').textContent).toBe('memory');
    expect(screen.getByTestId('redis-status').textContent).toBe('disabled');
    expect(screen.getByTestId('per-user').textContent).toContain('anon:127.0.0.1');
    expect(screen.getByTestId('feed-state').textContent).toBe('Live (stream)');
    // Auto-refresh off: the stream is closed.
    fireEvent.click(screen.getByTestId('auto-refresh'));
    expect(screen.getByTestId('feed-state').textContent).toBe('Paused');
    expect(f.calls[0]!.signal?.aborted).toBe(true);
  });

  it('shows a wrong-token state on 401 and asks again', async () => {
    sessionStorage.setItem('ssecast.adminToken', 'wrong');
    const f = fakeFetch(() => jsonResponse(401, { error: 'unauthorized', message: 'bad admin token' }));
    render(<SSEMonitor baseUrl="http://hub.test" fetch={f.fetch} />);
    await act(() => settle());
    expect(screen.getByTestId('error-unauthorized').textContent).toContain('401');
    expect(screen.getByTestId('login-form')).toBeTruthy();
  });

  it('falls back to polling when the stream fails, and reports an unreachable hub', async () => {
    let mode: 'poll' | 'down' = 'poll';
    const f = fakeFetch((c) => {
      if (mode === 'down') throw new TypeError('Failed to fetch');
      if (c.url.endsWith('/stream')) return jsonResponse(404, { error: 'not_found' });
      return jsonResponse(200, doc);
    });
    render(<SSEMonitor baseUrl="http://hub.test" token="t" pollIntervalMs={50} fetch={f.fetch} />);
    // Wait for the condition (bounded), not for a fixed time.
    const bound = { timeout: 2000, interval: 10 };
    await waitFor(() => expect(screen.getByTestId('feed-state').textContent).toBe('Live (polling)'), bound);
    expect(f.calls.some((c) => c.url === 'http://hub.test/api/admin/sse-monitor')).toBe(true);
    expect(screen.getByTestId('instance-id').textContent).toBe('host-1a2b3c');
    expect(screen.getByTestId('feed-state').textContent).toBe('Live (polling)');
    mode = 'down';
    await waitFor(() => expect(screen.queryByTestId('error-unreachable')).not.toBeNull(), bound);
    expect(screen.getByTestId('error-unreachable').textContent).toContain('Cannot reach the hub at http://hub.test');
    expect(screen.getByTestId('instance-id').textContent).toBe('host-1a2b3c'); // stale figures stay
  });
});

describe('SSEMonitor disconnect action', () => {
  it('posts the user to /api/admin/disconnect with the token and shows the count', async () => {
    let stream!: FakeStream;
    const f = fakeFetch((c) => {
      if (c.url.endsWith('/api/admin/disconnect')) return jsonResponse(200, { disconnected: 2 });
      const r = sseResponse(c);
      stream = r.stream;
      return r.response;
    });
    render(<SSEMonitor baseUrl="http://hub.test" token="secret" fetch={f.fetch} />);
    await act(() => settle());
    await act(async () => {
      stream.push(`event: stats\ndata: ${JSON.stringify(doc)}\n\n`);
      await settle();
    });
    fireEvent.click(screen.getByTestId('disconnect-42'));
    await act(() => settle());
    const call = f.calls.find((c) => c.url === 'http://hub.test/api/admin/disconnect')!;
    expect(call.method).toBe('POST');
    expect(call.headers['Authorization']).toBe('Bearer secret');
    expect(JSON.parse(call.body!)).toEqual({ user: '42' });
    expect(screen.getByTestId('disconnect-notice').textContent).toBe('Disconnected 2 stream(s) of 42');
  });
});

describe('monitor data', () => {
  it('normalises documents and derives rates', () => {
    expect(readMonitorStats({})).toBeNull();
    const s = readMonitorStats({ instanceId: 'x', events: { published: 'bad' } })!;
    expect(s.events.published).toBe(0);
    expect(s.perUser).toEqual([]);
    const full = readMonitorStats(doc)!;
    let samples = addSample([], full, 1000, 120_000);
    samples = addSample(samples, { ...full, events: { published: 110, delivered: 270, dropped: 0 } }, 3000, 120_000);
    expect(samples[1]!.publishedPerSec).toBe(5);
    expect(samples[1]!.deliveredPerSec).toBe(10);
    samples = addSample(samples, full, 200_000, 120_000);
    expect(samples).toHaveLength(1);
    expect(full.redis.shards).toEqual([]);
    const sharded = readMonitorStats({
      ...doc,
      redis: { status: 'disconnected', shards: [{ shard: 0, status: 'connected' }, { shard: 1, status: 'disconnected' }, 'junk'] },
    })!;
    expect(sharded.redis.shards).toEqual([
      { shard: 0, status: 'connected' },
      { shard: 1, status: 'disconnected' },
      { shard: 0, status: 'unknown' },
    ]);
  });

  it('names the Redis shards that are down', async () => {
    sessionStorage.setItem('ssecast.adminToken', 'secret');
    const { f, stream } = statsStream();
    render(<SSEMonitor baseUrl="http://hub.test" fetch={f.fetch} />);
    await act(() => settle());
    const shards = [0, 1, 2].map((shard) => ({ shard, status: shard === 2 ? 'disconnected' : 'connected' }));
    await act(async () => {
      stream().push(`event: stats\ndata: ${JSON.stringify({ ...doc, handler: 'redis', redis: { status: 'disconnected', shards } })}\n\n`);
      await settle();
    });
    const card = screen.getByTestId('redis-status').parentElement!;
    expect(card.textContent).toContain('shard 2 down');
    sessionStorage.clear();
  });
});
