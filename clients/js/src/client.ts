// SPDX-License-Identifier: MIT
// SSEClient: one logical subscription to ssecast that survives disconnects. Streams with fetch
// (so the token travels in a header), parses with eventsource-parser, reconnects with backoff.
// With shareAcrossTabs, one tab of the origin holds the stream and relays it (tab-share.ts).
// @see https://html.spec.whatwg.org/multipage/server-sent-events.html
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { parseRetryAfter, reconnectDelay } from './backoff.js';
import { compareEventIds, parseEventId } from './event-id.js';
import {
  SSEAuthError,
  SSEError,
  SSEHttpError,
  SSENetworkError,
  SSEProtocolError,
  SSETokenError,
  type HubErrorBody,
} from './errors.js';
import {
  TabLink,
  browserTabShareEnv,
  shareHash,
  tokenIdentity,
  type RelayedError,
  type RelayedEvent,
  type TabMessage,
  type TabShareEnv,
} from './tab-share.js';
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
/** Events every tab remembers, to answer a joining tab and to drop replayed duplicates. */
const RING_SIZE = 1000;
/** A joining tab holds live relays this long waiting for the leader's catch-up, ms. */
const CATCHUP_WAIT_MS = 300;
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
  // ---- tab sharing (tab-share.ts) ----
  readonly #roleListeners = new Set<(r: TabRole) => void>();
  #role: TabRole = 'own';
  #link: TabLink | undefined;
  /** Recently delivered events (raw), oldest first: catch-up for joining tabs. */
  #ring: RelayedEvent[] = [];
  /** The ring holds every event after this id (undefined: since this client started). */
  #ringBase: string | undefined;
  /** Newest well-formed id delivered here, and recent ids: a shared stream's replay is deduped. */
  #highest: string | undefined;
  readonly #recentIds = new Set<string>();
  /** Live relays held back until the leader's catch-up arrives (undefined = not waiting). */
  #pending: RelayedEvent[] | undefined;
  #pendingTimer: unknown;
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
    this.#ringBase = this.#lastEventId;
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
    if (this.#link) {
      if (this.#role === 'leader') this.#link.post({ t: 'bye', from: this.#link.id });
      this.#link.close();
      this.#link = undefined;
    }
    if (this.#pendingTimer !== undefined) this.#timers.clearTimeout(this.#pendingTimer);
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
    if (msg.id !== undefined) this.#lastEventId = msg.id === '' ? undefined : msg.id;
    if (type === TOKEN_EXPIRED_EVENT) this.#onTokenExpired();
    else if (!type.startsWith('ssecast.')) this.#expiredInARow = 0;
    const raw: RelayedEvent = { type, data: msg.data };
    if (msg.id) raw.id = msg.id;
    // Every event of the stream is relayed, replayed duplicates too: each tab drops what it has.
    if (this.#role === 'leader' && this.#link) this.#link.post({ t: 'ev', from: this.#link.id, e: raw });
    this.#deliver(raw);
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

  /**
   * Delivers one event to this tab's listeners. In a share group, an event this tab already
   * delivered (a replay after a takeover or rewind) is dropped: nothing arrives twice.
   */
  #deliver(raw: RelayedEvent): void {
    if (this.#closed) return;
    const shared = this.#role !== 'own';
    if (raw.id) {
      if (shared && this.#seen(raw.id)) return;
      this.#remember(raw);
    }
    if (shared && raw.id) this.#lastEventId = raw.id;
    const type = raw.type;
    const event: SSEEvent<unknown> = { type, data: this.#parse(raw.data, type), timestamp: this.#now() };
    if (raw.id) event.id = raw.id;
    if (type === HISTORY_LOST_EVENT) {
      const d = event.data as Partial<HistoryLostInfo> | null;
      const info: HistoryLostInfo = { lastEventId: typeof d?.lastEventId === 'string' ? d.lastEventId : '' };
      // A tab that already had events newer than the lost resume point (another tab's rewind)
      // lost nothing itself: only the tab(s) that were behind reload their state.
      const behind = !shared || !this.#highest || !info.lastEventId || compareEventIds(this.#highest, info.lastEventId) <= 0;
      if (behind) {
        safeCall(() => this.#opts.onHistoryLost?.(info));
        for (const fn of [...this.#historyLostListeners]) safeCall(() => fn(info));
      }
    }
    for (const fn of [...(this.#listeners.get(type) ?? [])]) safeCall(() => fn(event));
    for (const fn of [...(this.#listeners.get(ANY) ?? [])]) safeCall(() => fn(event));
  }

  #seen(id: string): boolean {
    if (this.#recentIds.has(id)) return true;
    // Ids of one stream increase (SPEC §POST /publish); a well-formed id at or below the newest
    // delivered one is a replay. Malformed ids are judged by the recent set alone.
    return !!this.#highest && parseEventId(id) !== null && compareEventIds(id, this.#highest) <= 0;
  }

  #remember(raw: RelayedEvent): void {
    const id = raw.id!;
    this.#recentIds.add(id);
    if (this.#recentIds.size > 4 * RING_SIZE) this.#recentIds.delete(this.#recentIds.values().next().value as string);
    if (parseEventId(id) && (!this.#highest || compareEventIds(id, this.#highest) > 0)) this.#highest = id;
    this.#ring.push(raw);
    if (this.#ring.length > RING_SIZE) this.#ringBase = this.#ring.shift()!.id;
  }

  // ---- tab sharing -----------------------------------------------------------------------------

  #shareEnv(): TabShareEnv | null {
    if (this.#opts.shareAcrossTabs === false) return null;
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
    const link = new TabLink(env, this.#shareName(tokenIdentity(token)), {
      onLeader: () => this.#becomeLeader(),
      onMessage: (m) => this.#onTabMessage(m),
    });
    this.#link = link;
    this.#setRole('follower');
    link.start();
    this.#sayHello();
  }

  /** Asks the leader for what this tab missed after its last id; live relays wait meanwhile. */
  #sayHello(): void {
    const link = this.#link;
    if (!link || this.#role !== 'follower') return;
    if (this.#lastEventId) {
      this.#pending ??= [];
      if (this.#pendingTimer !== undefined) this.#timers.clearTimeout(this.#pendingTimer);
      this.#pendingTimer = this.#timers.setTimeout(() => this.#flushPending(), CATCHUP_WAIT_MS);
    }
    link.post(this.#lastEventId ? { t: 'hello', from: link.id, lastEventId: this.#lastEventId } : { t: 'hello', from: link.id });
  }

  #flushPending(): void {
    if (this.#pendingTimer !== undefined) this.#timers.clearTimeout(this.#pendingTimer);
    this.#pendingTimer = undefined;
    const held = this.#pending ?? [];
    this.#pending = undefined;
    for (const e of held) this.#deliver(e);
  }

  #becomeLeader(): void {
    if (this.#closed || !this.#link) return;
    this.#flushPending();
    this.#setRole('leader');
    this.#link.post({ t: 'leader', from: this.#link.id });
    this.#startStream();
  }

  #onTabMessage(m: TabMessage): void {
    const link = this.#link;
    if (!link || this.#closed) return;
    if (this.#role === 'leader') {
      if (m.t === 'hello') this.#answerHello(m.from, m.lastEventId);
      return; // a leader takes events only from its own stream
    }
    switch (m.t) {
      case 'ev':
        if (this.#pending) this.#pending.push(m.e);
        else this.#deliver(m.e);
        break;
      case 'catchup':
        // After a rewind the stream replays everything after our id, in order, from here on:
        // the live relays held meanwhile are older or will come again.
        if (m.rewind) this.#pending = [];
        for (const e of m.events) this.#deliver(e);
        this.#flushPending();
        this.#setStatus(m.status === 'closed' ? 'reconnecting' : m.status);
        break;
      case 'leader':
        // A new leader (takeover): tell it where this tab stands.
        this.#setStatus('reconnecting');
        this.#sayHello();
        break;
      case 'status':
        this.#setStatus(m.s === 'closed' ? 'reconnecting' : m.s);
        break;
      case 'bye':
        this.#setStatus('reconnecting');
        break;
      case 'error': {
        const err = reviveError(m.e);
        this.#emitError(err);
        // Same subscription, same token: the leader's fatal answer is every tab's answer.
        if (err.fatal) this.close();
        break;
      }
      case 'hello':
        break;
    }
  }

  /**
   * Leader: sends a joining tab every remembered event after its id. When the ring does not
   * reach back that far, the stream itself restarts from the older id (a rewind); the other
   * tabs drop the replayed events they already have.
   */
  #answerHello(to: string, lastEventId: string | undefined): void {
    const link = this.#link!;
    let events: RelayedEvent[] = [];
    let rewind = false;
    if (lastEventId && lastEventId !== this.#lastEventId) {
      const at = this.#ring.findIndex((e) => e.id === lastEventId);
      const formed = parseEventId(lastEventId) !== null;
      if (at >= 0) events = this.#ring.slice(at + 1);
      else if (formed && this.#ringBase !== undefined && compareEventIds(lastEventId, this.#ringBase) >= 0) {
        events = this.#ring.filter((e) => !e.id || compareEventIds(e.id, lastEventId) > 0);
      } else if (formed && (this.#opts.transport ?? 'fetch') === 'fetch') {
        rewind = true;
        this.#rewind(lastEventId);
      }
    }
    link.post({ t: 'catchup', from: link.id, to, status: this.#status, events, ...(rewind && { rewind }) });
  }

  /**
   * Restarts the leader's stream from an older id. When the stream is already behind that id
   * (a rewind in progress), everything after it is still to come: nothing to do.
   */
  #rewind(lastEventId: string): void {
    if (this.#lastEventId && compareEventIds(lastEventId, this.#lastEventId) >= 0) return;
    this.#lastEventId = lastEventId;
    if (this.#abort) {
      this.#restartNow = true;
      this.#abort.abort();
    }
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
    if (this.#role === 'leader' && status !== 'closed') this.#link?.post({ t: 'status', from: this.#link.id, s: status });
    for (const fn of [...this.#statusListeners]) safeCall(() => fn(status));
  }

  #emitError(error: SSEError): void {
    if (this.#role === 'leader') this.#link?.post({ t: 'error', from: this.#link.id, e: relayError(error) });
    for (const fn of [...this.#errorListeners]) safeCall(() => fn(error));
  }
}

function relayError(e: SSEError): RelayedError {
  const out: RelayedError = { name: e.name, message: e.message, fatal: e.fatal };
  if (e instanceof SSETokenError) out.reason = e.reason;
  if (e instanceof SSEHttpError) {
    out.status = e.status;
    if (e.body) out.body = { ...(e.body.error !== undefined && { error: e.body.error }), ...(e.body.message !== undefined && { message: e.body.message }) };
    if (e.retryAfterMs !== undefined) out.retryAfterMs = e.retryAfterMs;
  }
  return out;
}

/** Rebuilds the typed error a leader reported, so `instanceof` works in every tab. */
function reviveError(e: RelayedError): SSEError {
  switch (e.name) {
    case 'SSEAuthError':
      return new SSEAuthError(e.status === 403 ? 403 : 401, e.body);
    case 'SSEHttpError':
      return new SSEHttpError(e.status ?? 0, e.body, e.fatal, e.retryAfterMs);
    case 'SSENetworkError':
      return new SSENetworkError(e.message);
    case 'SSEProtocolError':
      return new SSEProtocolError(e.message);
    case 'SSETokenError':
      return new SSETokenError(
        (['threw', 'empty', 'static', 'repeated'] as const).find((r) => r === e.reason) ?? 'threw',
        e.message,
      );
    default:
      return new SSEError(e.message, e.fatal);
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
