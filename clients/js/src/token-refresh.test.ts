// SPDX-License-Identifier: MIT
// Token refresh at unit level: ssecast.token-expired and 401 with a token function.
import { describe, expect, it } from 'vitest';
import { SSEClient } from './client.js';
import { SSEAuthError, SSETokenError, type SSEError } from './errors.js';
import { fakeFetch, jsonResponse, manualTimers, settle, sseResponse, type FakeCall, type FakeStream } from './test-support/fake-fetch.js';
import type { TokenRequest, TokenSource } from './types.js';

function setup(token: TokenSource, ...script: ((c: FakeCall) => Response)[]) {
  const streams: FakeStream[] = [];
  const stream = (c: FakeCall) => {
    const r = sseResponse(c);
    streams.push(r.stream);
    return r.response;
  };
  const { fetch, calls } = fakeFetch(...(script.length ? script : [stream]));
  const timers = manualTimers();
  const errors: SSEError[] = [];
  const ids: string[] = [];
  const client = new SSEClient({ url: 'http://hub.test', topics: ['t'], token, fetch, timers: timers.api, random: () => 0 });
  client.onError((e) => errors.push(e));
  client.onEvent((e) => ids.push(`${e.type}:${e.id ?? ''}`));
  client.connect();
  return { client, calls, streams, stream, timers, errors, ids };
}

describe('token refresh', () => {
  it('on ssecast.token-expired asks for a new token and resumes at once with Last-Event-ID', async () => {
    const asked: TokenRequest[] = [];
    let n = 0;
    const t = setup((req) => {
      asked.push(req);
      return `tok-${++n}`;
    });
    await settle();
    expect(t.calls[0]!.headers['Authorization']).toBe('Bearer tok-1');
    // An `id:` line on the notice (even an empty one) must not move the resume point.
    t.streams[0]!.push('id: 5-0\nevent: tick\ndata: 1\n\nid:\nevent: ssecast.token-expired\ndata: {}\n\n');
    await settle();
    // No backoff timer: the refresh reconnects at once.
    expect(t.calls).toHaveLength(2);
    expect(t.calls[1]!.headers['Authorization']).toBe('Bearer tok-2');
    expect(t.calls[1]!.headers['Last-Event-ID']).toBe('5-0');
    expect(asked.map((r) => [r.reason, r.refresh])).toEqual([
      ['connect', false],
      ['token-expired', true],
    ]);
    expect(t.ids).toEqual(['tick:5-0', 'ssecast.token-expired:']);
    expect(t.errors).toEqual([]);
    expect(t.client.status).toBe('open');
    t.client.close();
  });

  it('on 401 with a token function: one refresh, then resume; a second 401 in a row is final', async () => {
    let n = 0;
    const t = setup(
      () => `tok-${++n}`,
      () => jsonResponse(401, { error: 'unauthorized', message: 'token expired' }),
      (c) => sseResponse(c).response,
      () => jsonResponse(401, { error: 'unauthorized' }),
    );
    await settle();
    expect(t.calls).toHaveLength(2);
    expect(t.calls[1]!.headers['Authorization']).toBe('Bearer tok-2');
    expect(t.client.status).toBe('open');
    expect(t.errors).toEqual([]);
    t.client.close();

    let m = 0;
    const u = setup(
      () => `tok-${++m}`,
      () => jsonResponse(401, { error: 'unauthorized' }),
    );
    await settle();
    expect(u.calls).toHaveLength(2);
    expect(u.client.status).toBe('closed');
    expect(u.errors.at(-1)).toBeInstanceOf(SSEAuthError);
    expect(u.errors.at(-1)!.fatal).toBe(true);
  });

  it('a token function that throws, or returns nothing when asked to refresh, ends with SSETokenError', async () => {
    let calls = 0;
    const t = setup(() => {
      if (++calls > 1) throw new Error('session gone');
      return 'tok-1';
    });
    await settle();
    t.streams[0]!.push('event: ssecast.token-expired\ndata: {}\n\n');
    await settle();
    expect(t.client.status).toBe('closed');
    const err = t.errors.at(-1) as SSETokenError;
    expect(err).toBeInstanceOf(SSETokenError);
    expect([err.reason, err.fatal, (err.cause as Error).message]).toEqual(['threw', true, 'session gone']);
    expect(t.calls).toHaveLength(1);

    let k = 0;
    const e = setup(
      () => (++k === 1 ? 'tok-1' : undefined),
      () => jsonResponse(401, { error: 'unauthorized' }),
    );
    await settle();
    expect(e.client.status).toBe('closed');
    expect((e.errors.at(-1) as SSETokenError).reason).toBe('empty');
    expect(e.calls).toHaveLength(1);
  });

  it('a string token that expires cannot be refreshed: SSETokenError static, no reconnect', async () => {
    const t = setup('static-token');
    await settle();
    t.streams[0]!.push('event: ssecast.token-expired\ndata: {}\n\n');
    await settle();
    expect(t.client.status).toBe('closed');
    expect((t.errors.at(-1) as SSETokenError).reason).toBe('static');
    expect(t.calls).toHaveLength(1);
    expect(t.timers.pending.size).toBe(0);
  });

  it('a hub that keeps saying token-expired right after each refresh stops the client, not a loop', async () => {
    const t = setup(() => 'always-stale');
    await settle();
    for (let i = 0; i < 6 && t.client.status !== 'closed'; i++) {
      t.streams.at(-1)!.push('event: ssecast.token-expired\ndata: {}\n\n');
      await settle();
    }
    expect(t.client.status).toBe('closed');
    expect((t.errors.at(-1) as SSETokenError).reason).toBe('repeated');
    expect(t.calls.length).toBeLessThanOrEqual(4);
  });
});
