// SPDX-License-Identifier: MIT
// SSEClient: one logical subscription to ssecast that survives disconnects. Streams with fetch
// (so the token travels in a header), parses with eventsource-parser, reconnects with backoff.
// @see https://html.spec.whatwg.org/multipage/server-sent-events.html
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { parseRetryAfter, reconnectDelay } from './backoff.js';
import {
  SSEAuthError,
  SSEError,
  SSEHttpError,
  SSENetworkError,
  SSEProtocolError,
  type HubErrorBody,
} from './errors.js';
import {
  HISTORY_LOST_EVENT,
  TOKEN_EXPIRED_EVENT,
  defaultTimers,
  type ConnectionStatus,
  type HistoryLostInfo,
  type SSEClientOptions,
  type SSEEvent,
  type TimerApi,
} from './types.js';

type Listener<T> = (event: SSEEvent<T>) => void;
/** Map of event type → data type, for typed `on()`. */
export type EventMap = Record<string, unknown>;

/** Outcome of one connection attempt. */
type Attempt =
  | { kind: 'stop' }
  | { kind: 'fatal'; error: SSEError }
  | { kind: 'retry'; retryAfterMs?: number; healthy: boolean; now?: boolean };

const ANY = '*';

/**
 * A reconnecting SSE subscription.
 *
 * Lifecycle: construct, register listeners, `connect()`, eventually `close()` (final).
 * Guarantees: at most one HTTP stream open at a time; after `close()` no listener is called,
 * no timer is pending and the request is aborted. The network request starts one microtask
 * after `connect()`, so a `close()` in the same tick (React StrictMode) costs no connection.
 * Errors: non-fatal ones are reported through `onError` and retried; 401/403 (SSEAuthError)
 * and other non-retryable 4xx are reported with `fatal = true` and the status becomes `closed`.
 */
export class SSEClient<E extends EventMap = EventMap> {
  readonly #opts: SSEClientOptions;
  readonly #timers: TimerApi;
  readonly #now: () => number;
  readonly #listeners = new Map<string, Set<Listener<unknown>>>();
  readonly #statusListeners = new Set<(s: ConnectionStatus) => void>();
  readonly #errorListeners = new Set<(e: SSEError) => void>();
  readonly #historyLostListeners = new Set<(info: HistoryLostInfo) => void>();
  #status: ConnectionStatus = 'closed';
  #lastEventId: string | undefined;
  #serverRetryMs: number | undefined;
  #started = false;
  #closed = false;
  #everOpened = false;
  /** The token ran out (token-expired, or a 401 with a token function): reconnect at once. */
  #refreshNow = false;
  /** A 401 was already answered by asking for a new token; a second one is fatal. */
  #authRetried = false;
  #abort: AbortController | undefined;
  #sleepTimer: unknown;
  #wake: (() => void) | undefined;
  #es: EventSource | undefined;
  #esTypes = new Set<string>();

  constructor(options: SSEClientOptions) {
    this.#opts = options;
    this.#timers = options.timers ?? defaultTimers;
    this.#now = options.now ?? Date.now;
    this.#lastEventId = options.lastEventId || undefined;
  }

  /** Current status; `closed` before `connect()` and after `close()` or a fatal error. */
  get status(): ConnectionStatus {
    return this.#status;
  }

  /** Id of the newest event seen; sent as `Last-Event-ID` on the next (re)connect. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** Typed listener for one event type. Returns an unsubscribe function. */
  on<K extends keyof E & string>(type: K, fn: Listener<E[K]>): () => void;
  on(type: string, fn: Listener<unknown>): () => void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- overload implementation
  on(type: string, fn: Listener<any>): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(fn);
    if (type !== ANY) this.#listenOnEventSource(type);
    return () => set.delete(fn);
  }

  /** Listener for every event, whatever its type (fetch transport; see README for eventsource). */
  onEvent(fn: Listener<unknown>): () => void {
    return this.on(ANY, fn);
  }

  onStatus(fn: (status: ConnectionStatus) => void): () => void {
    this.#statusListeners.add(fn);
    return () => this.#statusListeners.delete(fn);
  }

  onError(fn: (error: SSEError) => void): () => void {
    this.#errorListeners.add(fn);
    return () => this.#errorListeners.delete(fn);
  }

  onHistoryLost(fn: (info: HistoryLostInfo) => void): () => void {
    this.#historyLostListeners.add(fn);
    return () => this.#historyLostListeners.delete(fn);
  }

  /** Starts connecting. Idempotent; throws after `close()`. */
  connect(): this {
    if (this.#closed) throw new Error('SSEClient: connect() after close()');
    if (this.#started) return this;
    this.#started = true;
    this.#setStatus('connecting');
    queueMicrotask(() => {
      if (this.#closed) return;
      if ((this.#opts.transport ?? 'fetch') === 'eventsource') this.#openEventSource(0);
      else void this.#runFetchLoop();
    });
    return this;
  }

  /** Stops for good: aborts the request, clears timers, drops all listeners. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort?.abort();
    this.#abort = undefined;
    this.#es?.close();
    this.#es = undefined;
    if (this.#sleepTimer !== undefined) this.#timers.clearTimeout(this.#sleepTimer);
    this.#sleepTimer = undefined;
    this.#wake?.();
    this.#setStatus('closed');
    this.#listeners.clear();
    this.#statusListeners.clear();
    this.#errorListeners.clear();
    this.#historyLostListeners.clear();
  }

  // ---- URL -------------------------------------------------------------------------------

  /** The request URL for the current resume point (exposed for tests and debugging). */
  buildUrl(forEventSource = false, token?: string | null): string {
    const path = this.#opts.path ?? '/events';
    const base = this.#opts.url;
    const url = new URL(
      path && !new URL(base, 'http://x').pathname.endsWith(path) ? base.replace(/\/+$/, '') + path : base,
      typeof location !== 'undefined' ? location.href : 'http://localhost/',
    );
    for (const t of this.#opts.topics ?? []) url.searchParams.append('topic', t);
    if (forEventSource) {
      if (token) url.searchParams.set('access_token', token);
      if (this.#lastEventId) url.searchParams.set('lastEventId', this.#lastEventId);
    }
    return url.toString();
  }

  // ---- fetch transport ---------------------------------------------------------------------

  async #runFetchLoop(): Promise<void> {
    let attempt = 0;
    while (!this.#closed) {
      this.#setStatus(this.#everOpened || attempt > 0 ? 'reconnecting' : 'connecting');
      const result = await this.#fetchOnce();
      if (this.#closed || result.kind === 'stop') return;
      if (result.kind === 'fatal') {
        this.#emitError(result.error);
        this.close();
        return;
      }
      if (result.healthy) attempt = 0;
      if (this.#refreshNow || (result.kind === 'retry' && result.now)) {
        // SPEC §Client token refresh: a fresh token (the token function is asked again on
        // the next attempt) and Last-Event-ID resume, no backoff.
        this.#refreshNow = false;
        this.#setStatus('reconnecting');
        await this.#sleep(this.#opts.minDelayMs ?? 250); // a floor, so nothing can spin
        continue;
      }
      const delay = reconnectDelay({
        attempt,
        backoff: this.#opts.backoff ?? {},
        random: this.#opts.random ?? Math.random,
        serverRetryMs: this.#serverRetryMs,
        retryAfterMs: result.retryAfterMs,
        minDelayMs: this.#opts.minDelayMs ?? 250,
      });
      attempt++;
      this.#setStatus('reconnecting');
      await this.#sleep(delay);
    }
  }

  async #fetchOnce(): Promise<Attempt> {
    const abort = new AbortController();
    this.#abort = abort;
    let token: string | null | undefined;
    try {
      token = await resolveToken(this.#opts.token);
    } catch (cause) {
      return { kind: 'fatal', error: new SSEError('SSEClient: token provider failed', true, { cause }) };
    }
    if (this.#closed) return { kind: 'stop' };

    const headers: Record<string, string> = { Accept: 'text/event-stream', ...this.#opts.headers };
    if (token) headers['Authorization'] = `Bearer ${token}`;
    if (this.#lastEventId) headers['Last-Event-ID'] = this.#lastEventId;
    const fetchImpl = this.#opts.fetch ?? globalThis.fetch.bind(globalThis);

    let res: Response;
    try {
      res = await fetchImpl(this.buildUrl(), {
        headers,
        signal: abort.signal,
        cache: 'no-store',
        credentials: this.#opts.credentials ?? 'same-origin',
      });
    } catch (cause) {
      if (this.#closed) return { kind: 'stop' };
      this.#emitError(new SSENetworkError(`SSEClient: cannot reach ${this.#opts.url}`, cause));
      return { kind: 'retry', healthy: false };
    }
    if (this.#closed) return { kind: 'stop' };

    if (res.status !== 200) {
      const body = await readErrorBody(res);
      if (res.status === 401 && typeof this.#opts.token === 'function' && !this.#authRetried) {
        // The token may have expired between two connections: ask for a new one, once.
        this.#authRetried = true;
        return { kind: 'retry', healthy: false, now: true };
      }
      if (res.status === 401 || res.status === 403) return { kind: 'fatal', error: new SSEAuthError(res.status, body) };
      const retryAfterMs = parseRetryAfter(res.headers.get('Retry-After'), this.#now());
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408 || res.status === 425;
      const err = new SSEHttpError(res.status, body, !retryable, retryAfterMs);
      if (!retryable) return { kind: 'fatal', error: err };
      this.#emitError(err);
      return retryAfterMs === undefined ? { kind: 'retry', healthy: false } : { kind: 'retry', retryAfterMs, healthy: false };
    }
    const contentType = res.headers.get('Content-Type') ?? '';
    if (!contentType.toLowerCase().startsWith('text/event-stream') || !res.body) {
      void res.body?.cancel().catch(() => undefined);
      this.#emitError(new SSEProtocolError(`SSEClient: expected text/event-stream, got "${contentType}"`));
      return { kind: 'retry', healthy: false };
    }

    this.#everOpened = true;
    this.#authRetried = false;
    this.#setStatus('open');
    return this.#readStream(res.body, abort);
  }

  async #readStream(body: ReadableStream<Uint8Array>, abort: AbortController): Promise<Attempt> {
    const openedAt = this.#now();
    let gotEvent = false;
    const parser = createParser({
      onEvent: (msg) => {
        gotEvent = true;
        this.#handleMessage(msg);
      },
      onRetry: (ms) => {
        this.#serverRetryMs = ms;
      },
    });
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const idleMs = this.#opts.idleTimeoutMs ?? 45_000;
    let idleTimer: unknown;
    const armIdle = (): void => {
      if (idleMs <= 0) return;
      if (idleTimer !== undefined) this.#timers.clearTimeout(idleTimer);
      idleTimer = this.#timers.setTimeout(() => abort.abort(), idleMs);
    };
    armIdle();
    let failure: unknown;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.#closed) break;
        armIdle();
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch (cause) {
      failure = cause;
    } finally {
      if (idleTimer !== undefined) this.#timers.clearTimeout(idleTimer);
      reader.releaseLock?.();
      void body.cancel().catch(() => undefined);
    }
    if (this.#closed) return { kind: 'stop' };
    const err = failure !== undefined && !abort.signal.aborted
      ? new SSENetworkError('SSEClient: stream broke', failure)
      : new SSENetworkError(abort.signal.aborted ? 'SSEClient: stream idle, reconnecting' : 'SSEClient: stream ended');
    this.#emitError(err);
    const stable = this.#opts.stableAfterMs ?? 5000;
    return { kind: 'retry', healthy: gotEvent || this.#now() - openedAt >= stable };
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#sleepTimer = this.#timers.setTimeout(() => {
        this.#sleepTimer = undefined;
        this.#wake = undefined;
        resolve();
      }, ms);
    });
  }

  // ---- native EventSource transport ----------------------------------------------------------

  #openEventSource(attempt: number): void {
    if (this.#closed) return;
    void resolveToken(this.#opts.token).then((token) => {
      if (this.#closed) return;
      const Ctor = this.#opts.EventSource ?? globalThis.EventSource;
      if (!Ctor) {
        this.#emitError(new SSEError('SSEClient: no EventSource in this runtime', true));
        this.close();
        return;
      }
      const es = new Ctor(this.buildUrl(true, token), { withCredentials: this.#opts.credentials === 'include' });
      this.#es = es;
      this.#esTypes = new Set();
      let opened = false;
      es.onopen = () => {
        opened = true;
        this.#everOpened = true;
        this.#setStatus('open');
      };
      es.onerror = () => {
        if (this.#closed || this.#es !== es) return;
        // readyState CONNECTING: the browser retries by itself (with Last-Event-ID).
        // CLOSED: it gave up for good (any non-200, e.g. 429) — we must retry ourselves.
        if (es.readyState !== 2) {
          this.#setStatus('reconnecting');
          return;
        }
        es.close();
        this.#es = undefined;
        this.#emitError(new SSENetworkError('SSEClient: EventSource closed by the browser'));
        this.#setStatus('reconnecting');
        const next = opened ? 0 : attempt + 1;
        const delay = reconnectDelay({
          attempt: next,
          backoff: this.#opts.backoff ?? {},
          random: this.#opts.random ?? Math.random,
          serverRetryMs: this.#serverRetryMs,
          minDelayMs: this.#opts.minDelayMs ?? 250,
        });
        this.#sleepTimer = this.#timers.setTimeout(() => {
          this.#sleepTimer = undefined;
          this.#openEventSource(next);
        }, delay);
      };
      for (const type of ['message', HISTORY_LOST_EVENT, ...this.#listeners.keys()]) this.#listenOnEventSource(type);
    });
  }

  #listenOnEventSource(type: string): void {
    const es = this.#es;
    if (!es || type === ANY || this.#esTypes.has(type)) return;
    this.#esTypes.add(type);
    es.addEventListener(type, (ev) => {
      const m = ev as MessageEvent<string>;
      this.#handleMessage({ event: type, data: m.data, id: m.lastEventId || undefined });
    });
  }

  // ---- dispatch ------------------------------------------------------------------------------

  #handleMessage(msg: EventSourceMessage): void {
    if (this.#closed) return;
    const type = msg.event || 'message';
    if (msg.id !== undefined) this.#lastEventId = msg.id === '' ? undefined : msg.id;
    const event: SSEEvent<unknown> = { type, data: this.#parse(msg.data, type), timestamp: this.#now() };
    if (msg.id) event.id = msg.id;
    if (type === TOKEN_EXPIRED_EVENT) this.#refreshNow = true;
    if (type === HISTORY_LOST_EVENT) {
      const d = event.data as Partial<HistoryLostInfo> | null;
      const info: HistoryLostInfo = { lastEventId: typeof d?.lastEventId === 'string' ? d.lastEventId : '' };
      safeCall(() => this.#opts.onHistoryLost?.(info));
      for (const fn of [...this.#historyLostListeners]) safeCall(() => fn(info));
    }
    for (const fn of [...(this.#listeners.get(type) ?? [])]) safeCall(() => fn(event));
    for (const fn of [...(this.#listeners.get(ANY) ?? [])]) safeCall(() => fn(event));
  }

  #parse(raw: string, type: string): unknown {
    const p = this.#opts.parseData ?? true;
    if (typeof p === 'function') return p(raw, type);
    if (!p) return raw;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }

  #setStatus(status: ConnectionStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    for (const fn of [...this.#statusListeners]) safeCall(() => fn(status));
  }

  #emitError(error: SSEError): void {
    for (const fn of [...this.#errorListeners]) safeCall(() => fn(error));
  }
}

async function resolveToken(src: SSEClientOptions['token']): Promise<string | null | undefined> {
  return typeof src === 'function' ? await src() : src;
}

async function readErrorBody(res: Response): Promise<HubErrorBody | undefined> {
  try {
    const text = await res.text();
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as HubErrorBody) : undefined;
  } catch {
    return undefined;
  }
}

/** A throwing listener must not kill the stream; report it the way the platform does. */
function safeCall(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (typeof globalThis.reportError === 'function') globalThis.reportError(e);
    else console.error(e);
  }
}
