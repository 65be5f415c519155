// SPDX-License-Identifier: MIT
import { act, render, screen } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventCache } from '../cache.js';
import { fakeFetch, settle, sseResponse, type FakeStream } from '../test-support/fake-fetch.js';
import { useSSE, type UseSSEOptions } from './use-sse.js';

function Feed(props: UseSSEOptions) {
  const { events, status, lastEvent } = useSSE(props);
  return (
    <div>
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

  it('a token function is not a reason to re-subscribe, and its newest version is asked', async () => {
    const streams: FakeStream[] = [];
    const f = fakeFetch((c) => {
      const r = sseResponse(c);
      streams.push(r.stream);
      return r.response;
    });
    const view = render(<Feed url="http://hub.test" topics={['t']} token={() => 'first'} clientOptions={{ fetch: f.fetch }} />);
    await act(() => settle());
    // A new function on every render (an inline arrow): still one stream.
    view.rerender(<Feed url="http://hub.test" topics={['t']} token={() => 'second'} clientOptions={{ fetch: f.fetch, minDelayMs: 1 }} />);
    await act(() => settle());
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]!.headers['Authorization']).toBe('Bearer first');
    // The token expires: the reconnect asks the function of the latest render.
    await act(async () => {
      streams[0]!.push('id: 1-0\ndata: {}\n\nevent: ssecast.token-expired\ndata: {}\n\n');
      streams[0]!.end();
      await new Promise((r) => setTimeout(r, 400));
      await settle();
    });
    expect(f.calls).toHaveLength(2);
    expect(f.calls[1]!.headers['Authorization']).toBe('Bearer second');
    expect(f.calls[1]!.headers['Last-Event-ID']).toBe('1-0');
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
});
