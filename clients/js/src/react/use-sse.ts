// SPDX-License-Identifier: MIT
// useSSE: a React hook around SSEClient (+ optional EventCache) that renders events and status.
// With the cache, a reload hydrates from storage and resumes after the newest cached id.
import { useEffect, useMemo, useRef, useState } from 'react';
import { EventCache, type StorageLike } from '../cache.js';
import { SSEClient } from '../client.js';
import type { SSEError } from '../errors.js';
import type {
  BackoffOptions,
  ConnectionStatus,
  HistoryLostInfo,
  SSEClientOptions,
  SSEEvent,
  TabRole,
  TokenSource,
  Transport,
} from '../types.js';

export interface UseSSECacheOptions {
  ttlMs?: number;
  maxPerType?: number;
  maxTotal?: number;
  /** Namespace in storage; default derived from url + topics, so subscriptions never mix. */
  storageKey?: string;
  /** Default localStorage. */
  storage?: StorageLike | null;
  flushDelayMs?: number;
}

export interface UseSSEOptions<T = unknown> {
  /** Hub base URL, e.g. `https://hub.example.com` ('' = this origin). */
  url: string;
  topics: readonly string[];
  /**
   * Bearer token, or a function called on every (re)connect and again on
   * `ssecast.token-expired` / 401 (token refresh). The latest function is used; changing a
   * string token reconnects.
   */
  token?: TokenSource;
  /** Event types to keep; default every type except the hub's own `ssecast.*` control events. */
  events?: readonly string[];
  /** Hydrate from and persist to an {@link EventCache}; resume from its newest id. */
  enableCache?: boolean;
  cache?: UseSSECacheOptions;
  /** Without the cache: most events kept in `events` (default 500). */
  maxEvents?: number;
  /** false = stay disconnected (e.g. until a token exists). Default true. */
  enabled?: boolean;
  transport?: Transport;
  backoff?: BackoffOptions;
  /**
   * One stream for all tabs of this origin with the same url/topics/identity (default: on where
   * Web Locks and BroadcastChannel exist). With `enableCache` only the leader tab writes storage.
   */
  shareAcrossTabs?: boolean;
  onEvent?: (event: SSEEvent<T>) => void;
  onHistoryLost?: (info: HistoryLostInfo) => void;
  /** Advanced: extra SSEClient options (injected fetch, timers, …). */
  clientOptions?: Partial<SSEClientOptions>;
}

export interface UseSSEResult<T = unknown> {
  /** Events oldest first, each id at most once (cached ones first after a reload). */
  events: SSEEvent<T>[];
  /** The most recent event received live (or the newest cached one right after hydration). */
  lastEvent: SSEEvent<T> | undefined;
  status: ConnectionStatus;
  /** Last error; cleared when the stream opens again. `error.fatal` means the hook stopped. */
  error: SSEError | undefined;
  /** `leader` when this tab holds the shared stream, `follower` when another tab does, `own` unshared. */
  role: TabRole;
}

const keyOf = (xs: readonly string[] | undefined): string => (xs ? JSON.stringify(xs) : '');

/**
 * Subscribes while mounted. One SSEClient per hook instance at a time: the effect owns it and
 * closes it on cleanup, and the client defers its request by a microtask, so React
 * StrictMode's mount-unmount-mount sends a single request.
 */
export function useSSE<T = unknown>(options: UseSSEOptions<T>): UseSSEResult<T> {
  const { url, topics, token, events: types, enableCache = false, enabled = true, transport, shareAcrossTabs } = options;
  // A token function is read through `latest`, so a new closure per render does not reconnect.
  const tokenKey = typeof token === 'function' ? '\u0000fn' : (token ?? null);
  const topicsKey = keyOf(topics);
  const typesKey = keyOf(types);
  const maxEvents = options.maxEvents ?? 500;
  const cacheOpts = options.cache ?? {};
  const storageKey = cacheOpts.storageKey ?? `${url}|${[...topics].sort().join(',')}`;

  // Latest callbacks/options without re-subscribing on every render.
  const latest = useRef(options);
  latest.current = options;

  // Creating an EventCache with autoStart:false only reads storage: safe during render.
  const cache = useMemo(
    () =>
      enableCache
        ? new EventCache<T>({
            storageKey,
            autoStart: false,
            ...(cacheOpts.ttlMs !== undefined && { ttlMs: cacheOpts.ttlMs }),
            ...(cacheOpts.maxPerType !== undefined && { maxPerType: cacheOpts.maxPerType }),
            ...(cacheOpts.maxTotal !== undefined && { maxTotal: cacheOpts.maxTotal }),
            ...(cacheOpts.storage !== undefined && { storage: cacheOpts.storage }),
            ...(cacheOpts.flushDelayMs !== undefined && { flushDelayMs: cacheOpts.flushDelayMs }),
          })
        : null,
    // eslint-disable-next-line react-hooks/exhaustive-deps -- keyed on the values that define the store
    [enableCache, storageKey, cacheOpts.ttlMs, cacheOpts.maxPerType, cacheOpts.maxTotal, cacheOpts.storage],
  );

  const wanted = useMemo(() => {
    const set = types ? new Set(types) : null;
    return (type: string) => (set ? set.has(type) : !type.startsWith('ssecast.'));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [typesKey]);

  const [events, setEvents] = useState<SSEEvent<T>[]>(() => (cache ? cache.getEvents().filter((e) => wanted(e.type)) : []));
  const [lastEvent, setLastEvent] = useState<SSEEvent<T> | undefined>(() => events.at(-1));
  const [status, setStatus] = useState<ConnectionStatus>(enabled ? 'connecting' : 'closed');
  const [error, setError] = useState<SSEError | undefined>(undefined);
  const [role, setRole] = useState<TabRole>('own');

  useEffect(() => {
    const fromCache = (): void => {
      if (cache) setEvents(cache.getEvents().filter((e) => wanted(e.type)));
    };
    if (cache) {
      cache.start();
      fromCache();
    }
    const unsubscribeCache = cache?.subscribe(fromCache);
    if (!enabled) {
      setStatus('closed');
      return () => {
        unsubscribeCache?.();
        cache?.stop();
      };
    }

    const opts = latest.current;
    const client = new SSEClient<Record<string, T>>({
      ...opts.clientOptions,
      url,
      topics,
      token:
        typeof token === 'function'
          ? (request) => {
              const t = latest.current.token;
              return typeof t === 'function' ? t(request) : t;
            }
          : (token ?? null),
      ...(transport && { transport }),
      ...(shareAcrossTabs !== undefined && { shareAcrossTabs }),
      ...(opts.backoff && { backoff: opts.backoff }),
      ...(cache?.getLastEventId() !== undefined && { lastEventId: cache.getLastEventId() }),
      onHistoryLost: (info) => latest.current.onHistoryLost?.(info),
    });
    const seen = new Set<string>();
    const hydrated = new Set(cache ? cache.getEvents().map((e) => e.id) : []);
    // One writer per stored document: the tab that holds the stream (or its own stream).
    cache?.setWriter(client.role !== 'follower');
    client.onRole((r) => {
      cache?.setWriter(r !== 'follower');
      setRole(r);
    });
    client.onStatus((s) => {
      setStatus(s);
      if (s === 'open') setError(undefined);
    });
    client.onError(setError);
    const handle = (raw: SSEEvent<unknown>): void => {
      const ev = raw as SSEEvent<T>;
      if (!wanted(ev.type)) return;
      if (ev.id !== undefined) {
        // What hydration showed is never shown (or reported) again.
        if (seen.has(ev.id) || hydrated.has(ev.id)) return;
        seen.add(ev.id);
      }
      if (cache) {
        // add() is false when the leader tab's write (the storage event) brought it first.
        if (ev.id !== undefined) cache.add({ id: ev.id, type: ev.type, data: ev.data, timestamp: ev.timestamp });
      } else {
        setEvents((prev) => {
          const next = [...prev, ev];
          return next.length > maxEvents ? next.slice(next.length - maxEvents) : next;
        });
      }
      setLastEvent(ev);
      latest.current.onEvent?.(ev);
    };
    if (types) for (const t of types) client.on(t, handle);
    else client.onEvent(handle);
    setError(undefined);
    client.connect();
    return () => {
      client.close();
      unsubscribeCache?.();
      cache?.stop();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- topics/types are compared by value
  }, [enabled, url, topicsKey, tokenKey, typesKey, transport, shareAcrossTabs, cache, wanted, maxEvents]);

  return { events, lastEvent, status, error, role };
}
