// SPDX-License-Identifier: MIT
// Shared vocabulary of @ssecast/client: events, status, timers, tokens, options.
// @see ../../../docs (SPEC §Client package)
import type { TabShareEnv } from './tab-share.js';

/** Connection state of an {@link SSEClient}. `closed` is final once `close()` was called. */
export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** One event as delivered to listeners. `id` is absent only for events the server sent without one. */
export interface SSEEvent<T = unknown> {
  id?: string;
  /** SSE `event:` field; `message` when the server sent none. */
  type: string;
  /** Parsed data (JSON when it parses, else the raw string; see `parseData`). */
  data: T;
  /** Local receipt time, ms since the epoch. */
  timestamp: number;
}

/**
 * The events of an event map (`{ 'order.created': Order; ... }`) as one discriminated union:
 * `switch (e.type)` narrows `e.data`. For `useSSE<M[keyof M]>(...)` results:
 * `events as EventOf<M>[]`.
 */
export type EventOf<M extends object> = {
  [K in keyof M & string]: SSEEvent<M[K]> & { type: K };
}[keyof M & string];

/** An event held by {@link EventCache}: always has an id. */
export interface CachedEvent<T = unknown> extends SSEEvent<T> {
  id: string;
}

/** Payload of the server's `ssecast.history-lost` event (SPEC §Resume). */
export interface HistoryLostInfo {
  /** The id the client asked to resume from, which the server no longer retains. */
  lastEventId: string;
}

/** Name of the special event sent when resume history does not reach back far enough. */
export const HISTORY_LOST_EVENT = 'ssecast.history-lost';

/** Name of the event that ends a stream whose token's `exp` passed (SPEC §GET /events). */
export const TOKEN_EXPIRED_EVENT = 'ssecast.token-expired';

/** Injectable timers (tests pass fakes). Defaults to the global setTimeout/clearTimeout. */
export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Why the client asks for a token: `connect` (first connection), `reconnect` (after a network
 * error), `token-expired` (the hub ended the stream with `ssecast.token-expired`),
 * `unauthorized` (the hub answered 401). The last two must return a fresh token.
 */
export interface TokenRequest {
  reason: 'connect' | 'reconnect' | 'token-expired' | 'unauthorized';
  /** True for `token-expired` and `unauthorized`: a cached token will not do. */
  refresh: boolean;
}

/** A bearer token, or a function producing one per (re)connect so refreshed tokens are used. */
export type TokenSource =
  | string
  | null
  | undefined
  | ((request: TokenRequest) => string | null | undefined | Promise<string | null | undefined>);

/** Exponential backoff shape: delay ceiling = min(maxMs, initialMs * factor^attempt). */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
}

export type Transport = 'fetch' | 'eventsource';

/**
 * How this client holds its stream: `own` (no sharing: its own HTTP stream), `leader` (holds
 * the stream for every tab of its share group), `follower` (gets the leader's events).
 */
export type TabRole = 'own' | 'leader' | 'follower';

/** A minimal EventSource constructor type so tests and non-DOM runtimes can inject one. */
export type EventSourceCtor = new (url: string, init?: { withCredentials?: boolean }) => EventSource;

export interface SSEClientOptions {
  /** Hub base URL (`https://hub.example.com`), or a full URL ending in the path. */
  url: string;
  /** Topics to subscribe to; sent as repeated `topic=` query parameters. */
  topics?: readonly string[];
  /** Path appended to `url`; default `/events`. Ignored when `url` already ends with it. */
  path?: string;
  /** Bearer token (fetch: `Authorization` header; eventsource: `access_token` query parameter). */
  token?: TokenSource;
  /** Resume point for the first connection (e.g. the newest id of an {@link EventCache}). */
  lastEventId?: string;
  /** `fetch` (default) streams with fetch so headers work; `eventsource` uses the native EventSource. */
  transport?: Transport;
  backoff?: BackoffOptions;
  /** Lower bound on every reconnect delay, ms (default 250): no hot loop even with zero jitter. */
  minDelayMs?: number;
  /** Reconnect when no byte (not even a `: ping`) arrived for this long, ms (default 45000; 0 = off). */
  idleTimeoutMs?: number;
  /** A connection that lasted this long counts as healthy and resets the backoff (default 5000). */
  stableAfterMs?: number;
  /** Parse `data` as JSON when possible (default true), or a custom parser. */
  parseData?: boolean | ((raw: string, type: string) => unknown);
  /** Extra request headers (fetch transport). */
  headers?: Record<string, string>;
  /** fetch `credentials` (default `same-origin`); EventSource `withCredentials` when `include`. */
  credentials?: RequestCredentials;
  /** Called when the server reports that the resume point is gone. */
  onHistoryLost?: (info: HistoryLostInfo) => void;
  /**
   * One stream for all tabs of this origin with the same subscription (url, path, sorted
   * topics, transport, identity of the token, `shareKey`): one tab (the leader, elected with
   * Web Locks) holds the stream and relays it over a BroadcastChannel. Default: on where
   * `navigator.locks` and `BroadcastChannel` exist, else off (each tab its own stream). With
   * `transport: 'eventsource'` off unless `true` (the leader relays only the types it listens to).
   */
  shareAcrossTabs?: boolean;
  /** Extra text in the share key: tabs with different `shareKey`s never share a stream. */
  shareKey?: string;
  /** Injectable Web Locks + BroadcastChannel (tests); `null` = sharing unavailable. */
  tabShare?: TabShareEnv | null;
  /** Injectables for tests and unusual runtimes. */
  fetch?: typeof fetch;
  EventSource?: EventSourceCtor;
  random?: () => number;
  timers?: TimerApi;
  now?: () => number;
}

/** Default timers bound to the global object (unbound calls throw in some browsers). */
export const defaultTimers: TimerApi = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};
