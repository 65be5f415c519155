// SPDX-License-Identifier: MIT
// shareAcrossTabs at unit level: several SSEClients ("tabs") of one fake origin, one scripted hub.
import { describe, expect, it, vi } from 'vitest';
import { SSEClient } from './client.js';
import { SSEAuthError, type SSEError } from './errors.js';
import { tokenIdentity } from './tab-share.js';
import { fakeFetch, jsonResponse, sseResponse, type FakeCall, type FakeStream } from './test-support/fake-fetch.js';
import { FakeOrigin } from './test-support/fake-tabs.js';
import type { ConnectionStatus, SSEClientOptions } from './types.js';

/** A hub that answers every /events request with a fresh stream the test writes to. */
function hub() {
  const streams: FakeStream[] = [];
  const { fetch, calls } = fakeFetch((c: FakeCall) => {
    const r = sseResponse(c);
    streams.push(r.stream);
    return r.response;
  });
  /** Writes an event to the newest open stream (the leader's). */
  const send = (id: string, n: number) => streams.at(-1)!.push(`id: ${id}\nevent: tick\ndata: {"n":${n}}\n\n`);
  return { fetch, calls, streams, send };
}

interface Tab {
  client: SSEClient;
  got: string[];
  statuses: ConnectionStatus[];
  errors: SSEError[];
}

function tab(origin: FakeOrigin, options: Partial<SSEClientOptions> & Pick<SSEClientOptions, 'fetch'>): Tab {
  const client = new SSEClient({ url: 'http://hub.test', topics: ['t'], tabShare: origin.env(), ...options });
  const t: Tab = { client, got: [], statuses: [], errors: [] };
  client.onEvent((e) => t.got.push(e.id ?? ''));
  client.onStatus((s) => t.statuses.push(s));
  client.onError((e) => t.errors.push(e));
  client.connect();
  return t;
}

const leaderOf = (tabs: Tab[]) => tabs.find((t) => t.client.role === 'leader');

describe('shareAcrossTabs', () => {
  it('three tabs, one stream: the same events in the same order everywhere; status reaches all', async () => {
    const origin = new FakeOrigin();
    const h = hub();
    const tabs = [tab(origin, { fetch: h.fetch }), tab(origin, { fetch: h.fetch }), tab(origin, { fetch: h.fetch })];
    await vi.waitFor(() => expect(tabs.every((t) => t.client.status === 'open')).toBe(true));
    expect(h.calls).toHaveLength(1);
    expect(tabs.map((t) => t.client.role).sort()).toEqual(['follower', 'follower', 'leader']);
    for (let n = 1; n <= 5; n++) h.send(`${n}-0`, n);
    const want = ['1-0', '2-0', '3-0', '4-0', '5-0'];
    await vi.waitFor(() => expect(tabs.map((t) => t.got)).toEqual([want, want, want]));
    for (const t of tabs) t.client.close();
    await vi.waitFor(() => expect(origin.held()).toEqual([]));
  });

  it('the leader closes mid-stream: another tab takes over from the last id, nothing lost or twice', async () => {
    const origin = new FakeOrigin();
    const h = hub();
    const tabs = [tab(origin, { fetch: h.fetch }), tab(origin, { fetch: h.fetch }), tab(origin, { fetch: h.fetch })];
    await vi.waitFor(() => expect(tabs.every((t) => t.client.status === 'open')).toBe(true));
    h.send('1-0', 1);
    h.send('2-0', 2);
    const old = leaderOf(tabs)!;
    await vi.waitFor(() => expect(tabs.every((t) => t.got.length === 2)).toBe(true));
    old.client.close();
    const rest = tabs.filter((t) => t !== old);
    await vi.waitFor(() => expect(h.calls).toHaveLength(2));
    expect(h.calls[1]!.headers['Last-Event-ID']).toBe('2-0');
    await vi.waitFor(() => expect(rest.every((t) => t.client.status === 'open')).toBe(true));
    expect(rest.some((t) => t.statuses.includes('reconnecting'))).toBe(true);
    // The hub replays 2-0 (as if the resume point were older) and goes on: each tab drops the replay.
    h.send('2-0', 2);
    h.send('3-0', 3);
    h.send('4-0', 4);
    await vi.waitFor(() => expect(rest.map((t) => t.got)).toEqual([['1-0', '2-0', '3-0', '4-0'], ['1-0', '2-0', '3-0', '4-0']]));
    expect(leaderOf(rest)).toBeDefined();
    for (const t of rest) t.client.close();
  });

  it('a tab with other topics, or another token, holds its own stream; subscriptions are not merged', async () => {
    const origin = new FakeOrigin();
    const h = hub();
    const a = tab(origin, { fetch: h.fetch, topics: ['t', 'u'] });
    const b = tab(origin, { fetch: h.fetch, topics: ['u', 't'] }); // same set: shared
    const c = tab(origin, { fetch: h.fetch, topics: ['t'] });
    const d = tab(origin, { fetch: h.fetch, topics: ['t'], token: 'other-user' });
    await vi.waitFor(() => expect([a, b, c, d].every((t) => t.client.status === 'open')).toBe(true));
    const urls = h.calls.map((x) => x.url.replace('topic=u&topic=t', 'topic=t&topic=u')).sort();
    expect(urls).toEqual(['http://hub.test/events?topic=t', 'http://hub.test/events?topic=t', 'http://hub.test/events?topic=t&topic=u']);
    expect([a.client.role, b.client.role].sort()).toEqual(['follower', 'leader']);
    expect(c.client.role).toBe('leader');
    expect(d.client.role).toBe('leader');
    for (const t of [a, b, c, d]) t.client.close();
  });

  it('a fatal error of the leader reaches every tab, typed, and stops them all (no takeover loop)', async () => {
    const origin = new FakeOrigin();
    const { fetch, calls } = fakeFetch(() => jsonResponse(403, { error: 'forbidden', message: 'topic not allowed' }));
    const tabs = [tab(origin, { fetch }), tab(origin, { fetch })];
    await vi.waitFor(() => expect(tabs.every((t) => t.client.status === 'closed')).toBe(true));
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toHaveLength(1);
    for (const t of tabs) {
      expect(t.errors.at(-1)).toBeInstanceOf(SSEAuthError);
      expect((t.errors.at(-1) as SSEAuthError).status).toBe(403);
      expect(t.errors.at(-1)!.fatal).toBe(true);
    }
  });

  it('a tab that joins late with a resume id gets what it missed from the leader, in order', async () => {
    const origin = new FakeOrigin();
    const h = hub();
    const first = tab(origin, { fetch: h.fetch });
    await vi.waitFor(() => expect(first.client.status).toBe('open'));
    for (let n = 1; n <= 4; n++) h.send(`${n}-0`, n);
    await vi.waitFor(() => expect(first.got).toHaveLength(4));
    const late = tab(origin, { fetch: h.fetch, lastEventId: '2-0' });
    await vi.waitFor(() => expect(late.got).toEqual(['3-0', '4-0']));
    h.send('5-0', 5);
    await vi.waitFor(() => expect(late.got).toEqual(['3-0', '4-0', '5-0']));
    expect(h.calls).toHaveLength(1);
    first.client.close();
    late.client.close();
  });

  it('a tab whose id is older than the leader remembers: the leader rewinds its stream once', async () => {
    const origin = new FakeOrigin();
    const h = hub();
    const first = tab(origin, { fetch: h.fetch, lastEventId: '10-0' });
    await vi.waitFor(() => expect(first.client.status).toBe('open'));
    h.send('11-0', 11);
    await vi.waitFor(() => expect(first.got).toEqual(['11-0']));
    const late = tab(origin, { fetch: h.fetch, lastEventId: '8-0' });
    await vi.waitFor(() => expect(h.calls).toHaveLength(2));
    expect(h.calls[1]!.headers['Last-Event-ID']).toBe('8-0');
    for (const n of [9, 10, 11, 12]) h.send(`${n}-0`, n);
    await vi.waitFor(() => expect(late.got).toEqual(['9-0', '10-0', '11-0', '12-0']));
    await vi.waitFor(() => expect(first.got).toEqual(['11-0', '12-0']));
    expect(first.errors).toEqual([]); // a deliberate restart is not an error
    first.client.close();
    late.client.close();
  });

  it('a rewind for one tab never replays to another tab what came before its own resume point', async () => {
    const origin = new FakeOrigin();
    const h = hub();
    const a = tab(origin, { fetch: h.fetch, lastEventId: '10-0' });
    await vi.waitFor(() => expect(a.client.status).toBe('open'));
    h.send('11-0', 11);
    const b = tab(origin, { fetch: h.fetch, lastEventId: '9-0' });
    await vi.waitFor(() => expect(h.calls).toHaveLength(2));
    for (const n of [10, 11, 12]) h.send(`${n}-0`, n);
    await vi.waitFor(() => expect(b.got).toEqual(['10-0', '11-0', '12-0']));
    const c = tab(origin, { fetch: h.fetch, lastEventId: '5-0' });
    await vi.waitFor(() => expect(h.calls).toHaveLength(3));
    expect(h.calls[2]!.headers['Last-Event-ID']).toBe('5-0');
    for (const n of [6, 7, 8, 9, 10, 11, 12, 13]) h.send(`${n}-0`, n);
    await vi.waitFor(() => expect(c.got).toEqual(['6-0', '7-0', '8-0', '9-0', '10-0', '11-0', '12-0', '13-0']));
    await vi.waitFor(() => expect(b.got).toEqual(['10-0', '11-0', '12-0', '13-0']));
    expect(a.got).toEqual(['11-0', '12-0', '13-0']);
    for (const t of [a, b, c]) t.client.close();

    // The same for tabs that have not received anything yet: their resume point counts.
    const origin2 = new FakeOrigin();
    const h2 = hub();
    const d = tab(origin2, { fetch: h2.fetch, lastEventId: '9-0' });
    await vi.waitFor(() => expect(d.client.status).toBe('open'));
    const e = tab(origin2, { fetch: h2.fetch, lastEventId: '9-0' });
    await vi.waitFor(() => expect(e.client.status).toBe('open'));
    const f = tab(origin2, { fetch: h2.fetch, lastEventId: '5-0' });
    await vi.waitFor(() => expect(h2.calls).toHaveLength(2));
    for (const n of [6, 7, 8, 9, 10]) h2.send(`${n}-0`, n);
    await vi.waitFor(() => expect(f.got).toEqual(['6-0', '7-0', '8-0', '9-0', '10-0']));
    await vi.waitFor(() => expect(e.got).toEqual(['10-0']));
    expect(d.got).toEqual(['10-0']);
    for (const t of [d, e, f]) t.client.close();
  });

  it('after a rewind, history-lost reaches only the tab that was behind', async () => {
    const origin = new FakeOrigin();
    const h = hub();
    const first = tab(origin, { fetch: h.fetch, lastEventId: '10-0' });
    await vi.waitFor(() => expect(first.client.status).toBe('open'));
    h.send('11-0', 11);
    await vi.waitFor(() => expect(first.got).toEqual(['11-0']));
    const lost: string[] = [];
    first.client.onHistoryLost(() => lost.push('first'));
    const late = tab(origin, { fetch: h.fetch, lastEventId: '3-0' });
    late.client.onHistoryLost((i) => lost.push(`late:${i.lastEventId}`));
    await vi.waitFor(() => expect(h.calls).toHaveLength(2));
    h.streams.at(-1)!.push('event: ssecast.history-lost\ndata: {"lastEventId":"3-0"}\n\n');
    h.send('11-0', 11);
    h.send('12-0', 12);
    await vi.waitFor(() => expect(late.got).toEqual(['', '11-0', '12-0']));
    await vi.waitFor(() => expect(first.got).toEqual(['11-0', '', '12-0']));
    expect(lost).toEqual(['late:3-0']);
    first.client.close();
    late.client.close();
  });

  it('shareAcrossTabs: false, no Web Locks, or the EventSource transport: one stream per client', async () => {
    const origin = new FakeOrigin();
    const h = hub();
    const a = tab(origin, { fetch: h.fetch, shareAcrossTabs: false });
    const b = tab(origin, { fetch: h.fetch, tabShare: null });
    const es = { close() {}, addEventListener() {}, readyState: 0 } as unknown as EventSource;
    const c = tab(origin, { fetch: h.fetch, transport: 'eventsource', EventSource: function () { return es; } as never });
    await vi.waitFor(() => expect(h.calls).toHaveLength(2));
    await new Promise((r) => setTimeout(r, 50));
    expect([a.client.role, b.client.role, c.client.role]).toEqual(['own', 'own', 'own']);
    a.client.close();
    b.client.close();
    c.client.close();
  });

  it('a JWT is identified by its sub claim (stable across refresh), other tokens by a hash', () => {
    const jwt = (sub: string, exp: number) =>
      `x.${btoa(JSON.stringify({ sub, exp })).replace(/=+$/, '')}.sig`;
    expect(tokenIdentity(jwt('42', 1))).toBe(tokenIdentity(jwt('42', 2)));
    expect(tokenIdentity(jwt('42', 1))).not.toBe(tokenIdentity(jwt('43', 1)));
    expect(tokenIdentity('opaque-a')).not.toBe(tokenIdentity('opaque-b'));
    expect(tokenIdentity(null)).toBe('');
  });
});
