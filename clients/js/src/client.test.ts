// SPDX-License-Identifier: MIT
// Unit level: SSEClient against a scripted fetch (the only place a fake server is used).
import { describe, expect, it, vi } from 'vitest';
import { SSEClient } from './client.js';
import { SSEAuthError, SSEHttpError, type SSEError } from './errors.js';
import { fakeFetch, jsonResponse, manualTimers, settle, sseResponse, type FakeStream } from './test-support/fake-fetch.js';
import type { ConnectionStatus, SSEEvent } from './types.js';

function setup(...script: Parameters<typeof fakeFetch>) {
  const f = fakeFetch(...script);
  const timers = manualTimers();
  return { ...f, timers };
}

describe('SSEClient', () => {
  it('builds the URL, sends the token, parses events with typed listeners', async () => {
    const streams: FakeStream[] = [];
    const { fetch, calls, timers } = setup((c) => {
      const r = sseResponse(c);
      streams.push(r.stream);
      return r.response;
    });
    const client = new SSEClient<{ tick: { n: number } }>({
      url: 'http://hub.test/',
      topics: ['a', 'b/*'],
      token: 'tok',
      fetch,
      timers: timers.api,
    });
    const ticks: SSEEvent<{ n: number }>[] = [];
    const all: string[] = [];
    const statuses: ConnectionStatus[] = [];
    client.on('tick', (e) => ticks.push(e));
    client.onEvent((e) => all.push(e.type));
    client.onStatus((s) => statuses.push(s));
    client.connect();
    await settle();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe('http://hub.test/events?topic=a&topic=b%2F*');
    expect(calls[0]!.headers['Authorization']).toBe('Bearer tok');
    expect(calls[0]!.headers['Last-Event-ID']).toBeUndefined();
    // Fields split across chunks, a comment, multi-line data, a non-JSON payload.
    streams[0]!.push('retry: 2000\n: ping\n\nid: 1-0\nevent: ti');
    streams[0]!.push('ck\ndata: {"n":1}\n\nid: 2-0\ndata: line1\ndata: line2\n\n');
    await settle();
    expect(ticks.map((t) => [t.id, t.data.n])).toEqual([['1-0', 1]]);
    expect(all).toEqual(['tick', 'message']);
    expect(client.lastEventId).toBe('2-0');
    expect(statuses).toEqual(['connecting', 'open']);
    client.close();
    expect(client.status).toBe('closed');
  });

  it('reconnects after the stream ends, resuming with Last-Event-ID, waiting at least retry:', async () => {
    const streams: FakeStream[] = [];
    const { fetch, calls, timers } = setup((c) => {
      const r = sseResponse(c);
      streams.push(r.stream);
      return r.response;
    });
    const client = new SSEClient({ url: 'http://hub.test', topics: ['t'], fetch, timers: timers.api, random: () => 0 });
    client.connect();
    await settle();
    streams[0]!.push('retry: 3000\n\nid: 1732900000000-7\nevent: x\ndata: 1\n\n');
    streams[0]!.end();
    await settle();
    expect(client.status).toBe('reconnecting');
    const sleep = timers.delays.at(-1)!;
    expect(sleep).toBeGreaterThanOrEqual(3000);
    expect(calls).toHaveLength(1);
    timers.fire((ms) => ms === sleep);
    await settle();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.headers['Last-Event-ID']).toBe('1732900000000-7');
    client.close();
  });

  it('on 429 waits at least Retry-After and backs off exponentially, never hot-looping', async () => {
    const { fetch, calls, timers } = setup(() =>
      jsonResponse(429, { error: 'rate_limited', message: 'slow down' }, { 'Retry-After': '5' }),
    );
    const errors: SSEError[] = [];
    const client = new SSEClient({
      url: 'http://hub.test',
      topics: ['t'],
      fetch,
      timers: timers.api,
      random: () => 0.999,
      backoff: { initialMs: 1000, maxMs: 8000 },
    });
    client.onError((e) => errors.push(e));
    client.connect();
    const sleeps: number[] = [];
    for (let i = 0; i < 5; i++) {
      await settle();
      sleeps.push(timers.delays.at(-1)!);
      timers.fire();
    }
    await settle();
    expect(calls.length).toBe(6);
    for (const s of sleeps) expect(s).toBeGreaterThanOrEqual(5000);
    // floor 5000 + jitter ceiling 1000, 2000, 4000, 8000, 8000 (capped)
    expect(sleeps).toEqual([5999, 6998, 8996, 12992, 12992]);
    expect(errors[0]).toBeInstanceOf(SSEHttpError);
    expect((errors[0] as SSEHttpError).status).toBe(429);
    expect((errors[0] as SSEHttpError).retryAfterMs).toBe(5000);
    expect(client.status).toBe('reconnecting');
    client.close();
    expect(timers.pending.size).toBe(0);
  });

  // The test above has jitter near its ceiling, where "≥ Retry-After" holds by luck of the draw.
  // The bound that matters is with zero jitter and no minimum: the clock (the real timer API,
  // faked) runs to 1 ms short of Retry-After with no new request, and the request comes at it.
  for (const [status, retryAfter, label] of [
    [429, '3', 'seconds'],
    [503, 'Mon, 01 Jan 2024 00:00:03 GMT', 'an HTTP date'],
  ] as const) {
    it(`${status} with Retry-After as ${label}: no request before it has passed, even with zero jitter`, async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.parse('2024-01-01T00:00:00Z') });
      try {
        const { fetch, calls } = fakeFetch(
          () => jsonResponse(status, { error: 'rate_limited' }, { 'Retry-After': retryAfter }),
          (c) => sseResponse(c).response,
        );
        const errors: SSEError[] = [];
        const client = new SSEClient({ url: 'http://hub.test', topics: ['t'], fetch, random: () => 0, minDelayMs: 0 });
        client.onError((e) => errors.push(e));
        client.connect();
        await vi.advanceTimersByTimeAsync(0);
        expect(calls).toHaveLength(1);
        expect((errors[0] as SSEHttpError).retryAfterMs).toBe(3000);
        expect(client.status).toBe('reconnecting');
        await vi.advanceTimersByTimeAsync(2999);
        expect(calls).toHaveLength(1);
        await vi.advanceTimersByTimeAsync(1);
        expect(calls).toHaveLength(2);
        expect(client.status).toBe('open');
        client.close();
      } finally {
        vi.useRealTimers();
      }
    });
  }

  it('503 without Retry-After still waits the minimum delay', async () => {
    const { fetch, timers } = setup(() => jsonResponse(503, { error: 'draining' }));
    const client = new SSEClient({ url: 'http://hub.test', topics: ['t'], fetch, timers: timers.api, random: () => 0 });
    client.connect();
    await settle();
    expect(timers.delays.at(-1)).toBe(250);
    client.close();
  });

  it('stops on 401/403 with a typed, fatal SSEAuthError', async () => {
    for (const status of [401, 403] as const) {
      const { fetch, calls, timers } = setup(() => jsonResponse(status, { error: 'unauthorized', message: 'bad token' }));
      const client = new SSEClient({ url: 'http://hub.test', topics: ['t'], fetch, timers: timers.api });
      const errors: SSEError[] = [];
      client.onError((e) => errors.push(e));
      client.connect();
      await settle();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(SSEAuthError);
      expect(errors[0]!.fatal).toBe(true);
      expect((errors[0] as SSEAuthError).status).toBe(status);
      expect((errors[0] as SSEAuthError).body?.error).toBe('unauthorized');
      expect(client.status).toBe('closed');
      expect(calls).toHaveLength(1);
      expect(timers.pending.size).toBe(0);
    }
  });

  it('on ssecast.token-expired asks the token function again and resumes at once', async () => {
    const streams: FakeStream[] = [];
    const { fetch, calls, timers } = setup((c) => {
      const r = sseResponse(c);
      streams.push(r.stream);
      return r.response;
    });
    let n = 0;
    const client = new SSEClient({ url: 'http://hub.test', topics: ['t'], fetch, timers: timers.api, token: () => `tok${++n}` });
    const types: string[] = [];
    client.onEvent((e) => types.push(e.type));
    client.connect();
    await settle();
    streams[0]!.push('retry: 3000\nid: 7-0\ndata: a\n\nevent: ssecast.token-expired\ndata: {}\n\n');
    streams[0]!.end();
    await settle();
    expect(timers.delays.at(-1)).toBe(250); // not the 3 s retry nor a backoff
    timers.fire((ms) => ms === 250);
    await settle();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.headers['Authorization']).toBe('Bearer tok2');
    expect(calls[1]!.headers['Last-Event-ID']).toBe('7-0');
    expect(types).toEqual(['message', 'ssecast.token-expired']);
    client.close();
  });

  it('answers one 401 with a new token from the token function; a second 401 is fatal', async () => {
    const { fetch, calls, timers } = setup(() => jsonResponse(401, { error: 'unauthorized', message: 'expired' }));
    let n = 0;
    const client = new SSEClient({ url: 'http://hub.test', topics: ['t'], fetch, timers: timers.api, token: async () => `tok${++n}` });
    const errors: SSEError[] = [];
    client.onError((e) => errors.push(e));
    client.connect();
    await settle();
    timers.fire((ms) => ms === 250);
    await settle();
    expect(calls.map((c) => c.headers['Authorization'])).toEqual(['Bearer tok1', 'Bearer tok2']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SSEAuthError);
    expect(client.status).toBe('closed');
  });

  it('reports ssecast.history-lost as an event and through onHistoryLost', async () => {
    let stream!: FakeStream;
    const { fetch, timers } = setup((c) => {
      const r = sseResponse(c);
      stream = r.stream;
      return r.response;
    });
    const lost: string[] = [];
    const client = new SSEClient({
      url: 'http://hub.test',
      topics: ['t'],
      lastEventId: '1-0',
      fetch,
      timers: timers.api,
      onHistoryLost: (i) => lost.push(`opt:${i.lastEventId}`),
    });
    client.onHistoryLost((i) => lost.push(`fn:${i.lastEventId}`));
    const seen: string[] = [];
    client.on('ssecast.history-lost', (e) => seen.push(e.type));
    client.connect();
    await settle();
    stream.push('event: ssecast.history-lost\ndata: {"lastEventId": "1-0"}\n\n');
    await settle();
    expect(lost).toEqual(['opt:1-0', 'fn:1-0']);
    expect(seen).toEqual(['ssecast.history-lost']);
    client.close();
  });

  it('close() aborts the request and nothing fires afterwards; connect()+close() in one tick sends nothing', async () => {
    let stream!: FakeStream;
    const { fetch, calls, timers } = setup((c) => {
      const r = sseResponse(c);
      stream = r.stream;
      return r.response;
    });
    const client = new SSEClient({ url: 'http://hub.test', topics: ['t'], fetch, timers: timers.api });
    let got = 0;
    client.onEvent(() => got++);
    client.connect();
    await settle();
    client.close();
    expect(calls[0]!.signal?.aborted).toBe(true);
    stream.push('data: late\n\n');
    await settle();
    expect(got).toBe(0);
    expect(timers.pending.size).toBe(0);
    expect(() => client.connect()).toThrow();

    const f2 = fakeFetch((c) => sseResponse(c).response);
    const c2 = new SSEClient({ url: 'http://hub.test', topics: ['t'], fetch: f2.fetch, timers: timers.api });
    c2.connect();
    c2.close();
    await settle();
    expect(f2.calls).toHaveLength(0);
  });

  it('reconnects when the stream goes idle (no heartbeat)', async () => {
    const { fetch, calls, timers } = setup((c) => sseResponse(c).response);
    const client = new SSEClient({ url: 'http://hub.test', topics: ['t'], fetch, timers: timers.api, idleTimeoutMs: 30_000, random: () => 0 });
    client.connect();
    await settle();
    expect(client.status).toBe('open');
    timers.fire((ms) => ms === 30_000);
    await settle();
    expect(client.status).toBe('reconnecting');
    timers.fire();
    await settle();
    expect(calls).toHaveLength(2);
    client.close();
  });

  it('falls back to native EventSource with access_token and lastEventId in the query', async () => {
    const made: FakeES[] = [];
    class FakeES extends EventTarget {
      readyState = 0;
      onopen: ((e: Event) => void) | null = null;
      onerror: ((e: Event) => void) | null = null;
      constructor(readonly url: string) {
        super();
        made.push(this);
      }
      close() {
        this.readyState = 2;
      }
    }
    const timers = manualTimers();
    const client = new SSEClient({
      url: 'http://hub.test',
      topics: ['t'],
      token: 'tok',
      lastEventId: '5-0',
      transport: 'eventsource',
      EventSource: FakeES as unknown as typeof EventSource,
      timers: timers.api,
      random: () => 0,
    });
    const got: string[] = [];
    client.on('tick', (e) => got.push(`${e.id}:${JSON.stringify(e.data)}`));
    client.connect();
    await settle();
    expect(made[0]!.url).toBe('http://hub.test/events?topic=t&access_token=tok&lastEventId=5-0');
    made[0]!.onopen?.(new Event('open'));
    expect(client.status).toBe('open');
    made[0]!.dispatchEvent(new MessageEvent('tick', { data: '{"n":2}', lastEventId: '6-0' }));
    expect(got).toEqual(['6-0:{"n":2}']);
    // The browser gave up (e.g. a 429): the client retries itself, resuming from 6-0.
    made[0]!.readyState = 2;
    made[0]!.onerror?.(new Event('error'));
    expect(client.status).toBe('reconnecting');
    timers.fire();
    await settle();
    expect(made[1]!.url).toContain('lastEventId=6-0');
    client.close();
  });
});
