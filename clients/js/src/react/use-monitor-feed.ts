// SPDX-License-Identifier: MIT
// Feeds SSEMonitor: the stats SSE stream first, polling GET /api/admin/sse-monitor whenever the
// stream is silent (not supported, proxy in the way, reconnecting), and one-off refreshes.
import { useCallback, useEffect, useRef, useState } from 'react';
import { SSEClient } from '../client.js';
import { SSEAuthError } from '../errors.js';
import { addSample, readMonitorStats, type MonitorStats, type Sample } from './monitor-types.js';

/** `live`: fresh data; `unauthorized`: the hub said 401/403; `unreachable`: network or 5xx failures. */
export type FeedState = 'idle' | 'connecting' | 'live' | 'unauthorized' | 'unreachable';
export type FeedSource = 'stream' | 'poll' | undefined;

export interface MonitorFeedOptions {
  baseUrl: string;
  token: string | null;
  autoRefresh: boolean;
  pollIntervalMs: number;
  windowMs: number;
  fetch?: typeof fetch;
}

export interface MonitorFeed {
  state: FeedState;
  source: FeedSource;
  stats: MonitorStats | undefined;
  samples: Sample[];
  updatedAt: number | undefined;
  errorMessage: string | undefined;
  refresh: () => Promise<void>;
}

const STREAM_PATH = '/api/admin/sse-monitor/stream';
const POLL_PATH = '/api/admin/sse-monitor';

export function useMonitorFeed(o: MonitorFeedOptions): MonitorFeed {
  const [state, setState] = useState<FeedState>('idle');
  const [source, setSource] = useState<FeedSource>(undefined);
  const [stats, setStats] = useState<MonitorStats | undefined>(undefined);
  const [samples, setSamples] = useState<Sample[]>([]);
  const [updatedAt, setUpdatedAt] = useState<number | undefined>(undefined);
  const [errorMessage, setErrorMessage] = useState<string | undefined>(undefined);
  const lastStreamAt = useRef(0);

  const accept = useCallback(
    (doc: unknown, from: FeedSource) => {
      const s = readMonitorStats(doc);
      if (!s) return;
      const t = Date.now();
      setStats(s);
      setUpdatedAt(t);
      setSamples((prev) => addSample(prev, s, t, o.windowMs));
      setSource(from);
      setState('live');
      setErrorMessage(undefined);
    },
    [o.windowMs],
  );

  const fetchOnce = useCallback(async (): Promise<'ok' | 'unauthorized' | 'failed'> => {
    if (!o.token) return 'failed';
    const f = o.fetch ?? globalThis.fetch.bind(globalThis);
    try {
      const res = await f(o.baseUrl.replace(/\/+$/, '') + POLL_PATH, {
        headers: { Authorization: `Bearer ${o.token}`, Accept: 'application/json' },
        cache: 'no-store',
      });
      if (res.status === 401 || res.status === 403) {
        setState('unauthorized');
        setErrorMessage(`The hub rejected the admin token (${res.status}).`);
        return 'unauthorized';
      }
      if (!res.ok) {
        setState('unreachable');
        setErrorMessage(`The hub answered ${res.status} to ${POLL_PATH}.`);
        return 'failed';
      }
      accept(await res.json(), 'poll');
      return 'ok';
    } catch {
      setState('unreachable');
      setErrorMessage(`Cannot reach the hub at ${o.baseUrl || location.origin}.`);
      return 'failed';
    }
  }, [o.baseUrl, o.token, o.fetch, accept]);

  useEffect(() => {
    if (!o.token) {
      setState('idle');
      return;
    }
    if (!o.autoRefresh) return;
    setState((s) => (s === 'live' ? s : 'connecting'));
    let stopped = false;
    const client = new SSEClient({
      url: o.baseUrl || location.origin,
      path: STREAM_PATH,
      topics: [],
      token: o.token,
      idleTimeoutMs: 10_000,
      backoff: { initialMs: 1000, maxMs: 10_000 },
      ...(o.fetch && { fetch: o.fetch }),
    });
    client.on('stats', (ev) => {
      lastStreamAt.current = Date.now();
      accept(ev.data, 'stream');
    });
    client.onError((err) => {
      if (err instanceof SSEAuthError) {
        stopped = true;
        setState('unauthorized');
        setErrorMessage(`The hub rejected the admin token (${err.status}).`);
      }
      // Anything else: the poller below notices the silence and takes over.
    });
    client.connect();
    // Poll while the stream is silent; the first poll also gives a figure before the stream's first tick.
    let polling = false;
    const tick = async (): Promise<void> => {
      if (stopped || polling || Date.now() - lastStreamAt.current < 2.5 * 1000) return;
      polling = true;
      const r = await fetchOnce();
      polling = false;
      if (r === 'unauthorized') {
        stopped = true;
        client.close();
      }
    };
    const first = setTimeout(() => void tick(), 1500);
    const timer = setInterval(() => void tick(), o.pollIntervalMs);
    return () => {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      client.close();
    };
  }, [o.baseUrl, o.token, o.autoRefresh, o.pollIntervalMs, o.fetch, accept, fetchOnce]);

  const refresh = useCallback(async () => {
    await fetchOnce();
  }, [fetchOnce]);

  return { state, source, stats, samples, updatedAt, errorMessage, refresh };
}
