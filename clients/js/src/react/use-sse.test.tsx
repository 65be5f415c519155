// SPDX-License-Identifier: MIT
import { act, render, screen, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventCache } from '../cache.js';
import { fakeFetch, settle, sseResponse, type FakeStream } from '../test-support/fake-fetch.js';
import { FakeOrigin } from '../test-support/fake-tabs.js';
import { useSSE, type UseSSEOptions } from './use-sse.js';

function Feed(props: UseSSEOptions & { testId?: string }) {
  const { events, status, lastEvent, role } = useSSE(props);
  return (
    <div data-testid={props.testId} data-role={role}>
      <span data-testid="status">{status}</span>
      <span data-testid="last">{lastEvent?.id ?? ''}</span>
      <ol data-testid="list">{events.map((e) => <li key={e.id}>{`${e.id}:${JSON.stringify(e.data)}`}</li>)}</ol>
    </div>
  );
}

const items = () => [...screen.getByTestId('list').querySelectorAll('li')].map((li) => li.textContent);

describe('useSSE', () => {
  beforeEach(() => localStorage.clear());
  afterEach(() => localStorage.clear());

  it('streams events and exposes status (StrictMode: one request)', async () => {
    const streams: FakeStream[] = [];
    const f = fakeFetch((c) => {
      const r = sseResponse(c);
      streams.push(r.stream);
      return r.response;
    });
    render(
      <StrictMode>
        <Feed url="http://hub.test" topics={['t']} token="tok" clientOptions={{ fetch: f.fetch }} />
      </StrictMode>,
    );
    await act(() => settle());
    expect(f.calls).toHaveLength(1);
    expect(screen.getByTestId('status').textContent).toBe('open');
    await act(async () => {
      streams[0]!.push('id: 1-0\nevent: tick\ndata: {"n":1}\n\nid: 2-0\nevent: tick\ndata: {"n":2}\n\n');
      await settle();
    });
    expect(items()).toEqual(['1-0:{"n":1}', '2-0:{"n":2}']);
    expect(screen.getByTestId('last').textContent).toBe('2-0');
  });

  it('with enableCache hydrates first, resumes from the newest cached id, and shows nothing twice', async () => {
    const key = 'reload-test';
    const seed = new EventCache({ storageKey: key, eventTarget: null });
    seed.add({ id: '1732900000000-9', type: 'tick', data: { n: 1 } });
    seed.add({ id: '1732900000000-10', type: 'tick', data: { n: 2 } });
    seed.flush();

    let stream!: FakeStream;
    const f = fakeFetch((c) => {
      const r = sseResponse(c);
      stream = r.stream;
      return r.response;
    });
    const view = render(
      <StrictMode>
        <Feed url="http://hub.test" topics={['t']} enableCache cache={{ storageKey: key }} clientOptions={{ fetch: f.fetch }} />
      </StrictMode>,
    );
    // Hydrated synchronously, before any network.
    expect(items()).toEqual(['1732900000000-9:{"n":1}', '1732900000000-10:{"n":2}']);
    await act(() => settle());
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]!.headers['Last-Event-ID']).toBe('1732900000000-10');
    // The server replays an overlap (as after a cache written late) plus new events.
    await act(async () => {
      stream.push('id: 1732900000000-10\nevent: tick\ndata: {"n":2}\n\n');
      stream.push('id: 1732900000001-0\nevent: tick\ndata: {"n":3}\n\n');
      await settle();
    });
    expect(items()).toEqual([
      '1732900000000-9:{"n":1}',
      '1732900000000-10:{"n":2}',
      '1732900000001-0:{"n":3}',
    ]);
    // And it is persisted for the next reload (unmount flushes, as pagehide does).
    view.unmount();
    const after = new EventCache({ storageKey: key, eventTarget: null });
    expect(after.getLastEventId()).toBe('1732900000001-0');
  });

  it('keeps only the requested event types and hides ssecast.* control events by default', async () => {
    let stream!: FakeStream;
    const f = fakeFetch((c) => {
      const r = sseResponse(c);
      stream = r.stream;
      return r.response;
    });
    render(<Feed url="http://hub.test" topics={['t']} events={['keep']} clientOptions={{ fetch: f.fetch }} />);
    await act(() => settle());
    await act(async () => {
      stream.push('id: 1-0\nevent: drop\ndata: 1\n\nid: 2-0\nevent: keep\ndata: 2\n\n');
      stream.push('event: ssecast.history-lost\ndata: {"lastEventId":"0-1"}\n\n');
      await settle();
    });
    expect(items()).toEqual(['2-0:2']);
  });

  it('two hooks sharing one stream: one request, both show every event, only the leader writes storage', async () => {
    const origin = new FakeOrigin();
    const writes: string[] = [];
    const mem = new Map<string, string>();
    const storage = {
      getItem: (k: string) => mem.get(k) ?? null,
      setItem: (k: string, v: string) => void (writes.push(k), mem.set(k, v)),
      removeItem: (k: string) => void mem.delete(k),
    };
    let stream!: FakeStream;
    const f = fakeFetch((c) => {
      const r = sseResponse(c);
      stream = r.stream;
      return r.response;
    });
    const common = {
      url: 'http://hub.test',
      topics: ['t'],
      enableCache: true,
      cache: { storageKey: 'shared', storage, flushDelayMs: 0 },
      clientOptions: { fetch: f.fetch, tabShare: origin.env() },
    } satisfies UseSSEOptions;
    render(
      <>
        <Feed {...common} testId="a" />
        <Feed {...common} testId="b" />
      </>,
    );
    // Wait for the conditions (bounded), not for a fixed time.
    const bound = { timeout: 2000, interval: 10 };
    const roleOf = () => ['a', 'b'].map((id) => screen.getByTestId(id).dataset['role']).sort();
    await waitFor(() => expect(roleOf()).toEqual(['follower', 'leader']), bound);
    expect(f.calls).toHaveLength(1);
    const roles = roleOf();
    expect(roles).toEqual(['follower', 'leader']);
    const before = writes.length;
    act(() => stream.push('id: 1-0\nevent: tick\ndata: {"n":1}\n\nid: 2-0\nevent: tick\ndata: {"n":2}\n\n'));
    const items = (id: string) => [...screen.getByTestId(id).querySelectorAll('li')].map((li) => li.textContent);
    await waitFor(() => {
      for (const id of ['a', 'b']) expect(items(id)).toHaveLength(2);
      expect(writes.length).toBeGreaterThan(before);
    }, bound);
    for (const id of ['a', 'b']) {
      expect([...screen.getByTestId(id).querySelectorAll('li')].map((li) => li.textContent)).toEqual(['1-0:{"n":1}', '2-0:{"n":2}']);
    }
    // One writer: the two events cost one batch from one cache, not one from each.
    expect(writes.length - before).toBe(1);
    expect(JSON.parse(mem.get('ssecast:events:shared')!).lastEventId).toBe('2-0');
  });
});
