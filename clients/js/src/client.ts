// SPDX-License-Identifier: MIT
// SSEClient: one logical subscription to ssecast that survives disconnects. Streams with fetch
// (so the token travels in a header), parses with eventsource-parser, reconnects with backoff.
// With shareAcrossTabs, one tab of the origin holds the stream and relays it (tab-share.ts).
// @see https://html.spec.whatwg.org/multipage/server-sent-events.html
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { parseRetryAfter, reconnectDelay } from './backoff.js';
import {
  SSEAuthError,
  SSEError,
  SSEHttpError,
  SSENetworkError,
  SSEProtocolError,
  SSETokenError,
  type HubErrorBody,
} from './errors.js';
import { ShareGroup } from './share-group.js';
import { browserTabShareEnv, shareHash, tokenIdentity, type RelayedEvent, type TabShareEnv } from './tab-share.js';
import {
  HISTORY_LOST_EVENT,
  TOKEN_EXPIRED_EVENT,
  defaultTimers,
  type ConnectionStatus,
  type HistoryLostInfo,
  type SSEClientOptions,
  type SSEEvent,
  type TabRole,
  type TimerApi,
  type TokenRequest,
} from './types.js';

type Listener<T> = (event: SSEEvent<T>) => void;
/** Map of event type → data type, for typed `on()`. */
export type EventMap = Record<string, unknown>;

/** Outcome of one connection attempt. */
type Attempt =
  | { kind: 'stop' }
  | { kind: 'fatal'; error: SSEError }
  | { kind: 'retry'; retryAfterMs?: number; healthy: boolean; immediate?: boolean };

const ANY = '*';
/** Streams in a row ended by `ssecast.token-expired` with no event in between, before giving up. */
const MAX_EXPIRED_IN_A_ROW = 3;

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
export class SSEClient<E extends object = EventMap> {
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
  #abort: AbortController | undefined;
  #sleepTimer: unknown;
  #wake: (() => void) | undefined;
  #es: EventSource | undefined;
  #esTypes = new Set<string>();
  // ---- tab sharing (share-group.ts) ----
  readonly #roleListeners = new Set<(r: TabRole) => void>();
  #role: TabRole = 'own';
  #group: ShareGroup | undefined;
  /** Set when the current stream is aborted on purpose to start again at once (rewind). */
  #restartNow = false;
  // ---- token refresh ----
  /** Why the next connection asks for a token. */
  #tokenReason: TokenRequest['reason'] = 'connect';
  /** The current stream ended with ssecast.token-expired. */
  #tokenExpired = false;
  #expiredInARow = 0;
  /** 401s answered with a refresh since the last 200. */
  #authRefreshes = 0;

  constructor(options: SSEClientOptions) {
    this.#opts = options;
    this.#timers = options.timers ?? defaultTimers;
    this.#now = options.now ?? Date.now;
    this.#lastEventId = options.lastEventId || undefined;
  }

  /** `own`, `leader` or `follower` (see {@link TabRole}); `follower` until a shared tab is elected. */
  get role(): TabRole {
    return this.#role;
  }

  /** Called when this tab becomes leader or follower of its share group. */
  onRole(fn: (role: TabRole) => void): () => void {
    this.#roleListeners.add(fn);
    return () => this.#roleListeners.delete(fn);
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
      const env = this.#shareEnv();
      if (env) void this.#joinShare(env);
      else this.#startStream();
    });
    return this;
  }

  #startStream(): void {
    if ((this.#opts.transport ?? 'fetch') === 'eventsource') this.#openEventSource(0);
    else void this.#runFetchLoop();
  }

  /** Stops for good: aborts the request, clears timers, drops all listeners. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#group?.close();
    this.#group = undefined;
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
    this.#roleListeners.clear();
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
      if (this.#restartNow || result.immediate) {
        // A rewind for a joining tab, or a token refresh: start again at once (no backoff).
        this.#restartNow = false;
        continue;
      }
      if (result.healthy) attempt = 0;
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
    const got = await this.#getToken();
    if (got instanceof SSETokenError) return { kind: 'fatal', error: got };
    const token = got;
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
      if (this.#restartNow) return { kind: 'retry', healthy: true };
      this.#emitError(new SSENetworkError(`SSEClient: cannot reach ${this.#opts.url}`, cause));
      return { kind: 'retry', healthy: false };
    }
    if (this.#closed) return { kind: 'stop' };

    if (res.status !== 200) {
      const body = await readErrorBody(res);
      if (res.status === 401 && typeof this.#opts.token === 'function' && this.#authRefreshes < 1) {
        // SPEC §Client package: a 401 with a token function asks for a new token, once.
        this.#authRefreshes++;
        this.#tokenReason = 'unauthorized';
        return { kind: 'retry', healthy: false, immediate: true };
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
    this.#authRefreshes = 0;
    this.#tokenExpired = false;
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
    if (this.#restartNow) return { kind: 'retry', healthy: true };
    if (this.#tokenExpired) return this.#afterTokenExpired();
    const err = failure !== undefined && !abort.signal.aborted
      ? new SSENetworkError('SSEClient: stream broke', failure)
      : new SSENetworkError(abort.signal.aborted ? 'SSEClient: stream idle, reconnecting' : 'SSEClient: stream ended');
    this.#emitError(err);
    const stable = this.#opts.stableAfterMs ?? 5000;
    return { kind: 'retry', healthy: gotEvent || this.#now() - openedAt >= stable };
  }

  /**
   * The token for the next connection, or the SSETokenError that ends the client: the
   * function threw, or it was asked to refresh and returned nothing.
   */
  async #getToken(): Promise<string | null | undefined | SSETokenError> {
    const reason = this.#tokenReason;
    this.#tokenReason = 'reconnect';
    const refresh = reason === 'token-expired' || reason === 'unauthorized';
    let token: string | null | undefined;
    try {
      token = await resolveToken(this.#opts.token, { reason, refresh });
    } catch (cause) {
      return new SSETokenError('threw', 'SSEClient: the token function failed', cause);
    }
    if (refresh && !token) {
      return new SSETokenError('empty', `SSEClient: asked for a new token (${reason}), the token function returned none`);
    }
    return token;
  }

  /** The stream ended with ssecast.token-expired: refresh at once, unless that cannot help. */
  #afterTokenExpired(): Attempt {
    this.#tokenExpired = false;
    if (typeof this.#opts.token !== 'function') {
      return {
        kind: 'fatal',
        error: new SSETokenError('static', 'SSEClient: the token expired; pass a function as `token` to refresh it'),
      };
    }
    if (++this.#expiredInARow > MAX_EXPIRED_IN_A_ROW) {
      return {
        kind: 'fatal',
        error: new SSETokenError('repeated', 'SSEClient: the hub keeps reporting the token expired right after a refresh'),
      };
    }
    this.#tokenReason = 'token-expired';
    return { kind: 'retry', healthy: true, immediate: true };
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
    void this.#getToken().then((token) => {
      if (this.#closed) return;
      if (token instanceof SSETokenError) {
        this.#emitError(token);
        this.close();
        return;
      }
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

  /** An event from this client's own stream: relayed to the other tabs (leader), then delivered. */
  #handleMessage(msg: EventSourceMessage): void {
    if (this.#closed) return;
    const type = msg.event || 'message';
    // The hub's token-expired notice is not a resume point, whatever id field it carries.
    if (msg.id !== undefined && type !== TOKEN_EXPIRED_EVENT) this.#lastEventId = msg.id === '' ? undefined : msg.id;
    if (type === TOKEN_EXPIRED_EVENT) this.#onTokenExpired();
    else if (!type.startsWith('ssecast.')) this.#expiredInARow = 0;
    const raw: RelayedEvent = { type, data: msg.data };
    if (msg.id) raw.id = msg.id;
    if (this.#group) this.#group.fromStream(raw);
    else this.#deliver(raw);
  }

  /** This client's own stream said its token expired: end it now and reconnect with a new one. */
  #onTokenExpired(): void {
    this.#tokenExpired = true;
    if (this.#es) {
      const es = this.#es;
      this.#es = undefined;
      es.close();
      const next = this.#afterTokenExpired();
      if (next.kind === 'fatal') {
        this.#emitError(next.error);
        queueMicrotask(() => this.close());
      } else {
        this.#setStatus('reconnecting');
        queueMicrotask(() => this.#openEventSource(0));
      }
      return;
    }
    // fetch: abort the read; #readStream sees #tokenExpired and asks for a refresh.
    this.#abort?.abort();
  }

  /** Hands one event to this client's listeners (a share group has dropped duplicates). */
  #deliver(raw: RelayedEvent): void {
    if (this.#closed) return;
    const type = raw.type;
    const event: SSEEvent<unknown> = { type, data: this.#parse(raw.data, type), timestamp: this.#now() };
    if (raw.id) event.id = raw.id;
    if (type === HISTORY_LOST_EVENT) {
      const d = event.data as Partial<HistoryLostInfo> | null;
      const info: HistoryLostInfo = { lastEventId: typeof d?.lastEventId === 'string' ? d.lastEventId : '' };
      if (!this.#group || this.#group.lostHistory(info.lastEventId)) {
        safeCall(() => this.#opts.onHistoryLost?.(info));
        for (const fn of [...this.#historyLostListeners]) safeCall(() => fn(info));
      }
    }
    for (const fn of [...(this.#listeners.get(type) ?? [])]) safeCall(() => fn(event));
    for (const fn of [...(this.#listeners.get(ANY) ?? [])]) safeCall(() => fn(event));
  }

  // ---- tab sharing -----------------------------------------------------------------------------

  #shareEnv(): TabShareEnv | null {
    if (this.#opts.shareAcrossTabs === false) return null;
    // A native EventSource delivers only the types the leader listens to by name, which another
    // tab cannot see: share it only when asked to explicitly.
    if (this.#opts.transport === 'eventsource' && this.#opts.shareAcrossTabs !== true) return null;
    const env = this.#opts.tabShare === undefined ? browserTabShareEnv() : this.#opts.tabShare;
    return env ?? null;
  }

  /** The share group's name: same hub URL, path, topic set, transport, identity and shareKey. */
  #shareName(identity: string): string {
    const base = new URL(this.buildUrl(), 'http://localhost/');
    base.search = '';
    const topics = [...new Set(this.#opts.topics ?? [])].sort();
    return shareHash(
      JSON.stringify([base.toString(), topics, this.#opts.transport ?? 'fetch', identity, this.#opts.shareKey ?? '']),
    );
  }

  async #joinShare(env: TabShareEnv): Promise<void> {
    const token = await this.#getToken();
    if (token instanceof SSETokenError) {
      this.#emitError(token);
      this.close();
      return;
    }
    // The leader asks again when it connects: this call was only for the share key.
    this.#tokenReason = 'connect';
    if (this.#closed) return;
    this.#group = new ShareGroup(
      env,
      this.#shareName(tokenIdentity(token)),
      {
        lastEventId: () => this.#lastEventId,
        setLastEventId: (id) => void (this.#lastEventId = id),
        status: () => this.#status,
        canRewind: () => (this.#opts.transport ?? 'fetch') === 'fetch',
        setStatus: (st) => this.#setStatus(st),
        setRole: (r) => this.#setRole(r),
        dispatch: (raw) => this.#deliver(raw),
        report: (e) => this.#emitError(e),
        close: () => this.close(),
        startStream: () => this.#startStream(),
        rewindTo: (id) => {
          this.#lastEventId = id;
          if (this.#abort) {
            this.#restartNow = true;
            this.#abort.abort();
          }
        },
      },
      this.#timers,
    );
    this.#group.start();
  }

  #setRole(role: TabRole): void {
    if (this.#role === role) return;
    this.#role = role;
    for (const fn of [...this.#roleListeners]) safeCall(() => fn(role));
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
    this.#group?.postStatus(status);
    for (const fn of [...this.#statusListeners]) safeCall(() => fn(status));
  }

  #emitError(error: SSEError): void {
    this.#group?.postError(error);
    for (const fn of [...this.#errorListeners]) safeCall(() => fn(error));
  }
}

async function resolveToken(src: SSEClientOptions['token'], request: TokenRequest): Promise<string | null | undefined> {
  return typeof src === 'function' ? await src(request) : src;
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
