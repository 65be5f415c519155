// SPDX-License-Identifier: MIT
// Shared vocabulary of @ssecast/client: events, status, timers, tokens, options.
// @see ../../../docs (SPEC §Client package)

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
/** SPEC §Expiry on open streams: the token ended; the stream closes right after it. */
export const TOKEN_EXPIRED_EVENT = 'ssecast.token-expired';

/** Injectable timers (tests pass fakes). Defaults to the global setTimeout/clearTimeout. */
export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** A bearer token, or a function producing one per (re)connect so refreshed tokens are used. */
export type TokenSource =
  | string
  | null
  | undefined
  | (() => string | null | undefined | Promise<string | null | undefined>);

/** Exponential backoff shape: delay ceiling = min(maxMs, initialMs * factor^attempt). */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
}

export type Transport = 'fetch' | 'eventsource';

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
