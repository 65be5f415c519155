// SPDX-License-Identifier: MIT
// EventCache: recent events by type, in memory and in localStorage, so a reloaded page shows
// what it had and knows where to resume. Expiry, size limits, dedupe, batched writes, tab sync.
import { compareEventIds, maxEventId } from './event-id.js';
import { defaultTimers, type CachedEvent, type TimerApi } from './types.js';

/** The part of the Web Storage API the cache uses (localStorage, sessionStorage, or a stub). */
export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface EventCacheOptions {
  /** Where to persist; default `globalThis.localStorage` when usable; `null` = memory only. */
  storage?: StorageLike | null;
  /** Namespace: the storage key is `ssecast:events:<storageKey>` (default `default`). */
  storageKey?: string;
  /** Per-event lifetime, ms, from its `timestamp` (default 24 h; Infinity = never). */
  ttlMs?: number;
  /** Most events kept per type, oldest evicted first (default 500). */
  maxPerType?: number;
  /** Most events kept in total, oldest evicted first (default 2000). */
  maxTotal?: number;
  /** Writes are batched: one serialise per this many ms (default 50; 0 = once per microtask). */
  flushDelayMs?: number;
  /** Follow other tabs' writes through the `storage` event (default true). */
  syncTabs?: boolean;
  /** Start timers and listeners in the constructor (default true). Hooks pass false and call start(). */
  autoStart?: boolean;
  /**
   * Whether this instance writes to storage (default true). With tabs sharing one stream only
   * the leader's cache writes; the others keep memory in step (their own adds and the writer's
   * `storage` events) and write nothing, so one document has one writer. See setWriter().
   */
  writer?: boolean;
  now?: () => number;
  timers?: TimerApi;
  /** Target for `storage` / `pagehide` listeners (default `globalThis`, i.e. window). */
  eventTarget?: EventTarget | null;
}

interface Persisted {
  v: 1;
  lastEventId?: string;
  events: CachedEvent[];
}

/** True for the quota errors browsers throw from setItem (Chrome/Safari name, Firefox name, legacy codes). */
export function isQuotaExceededError(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const { name, code } = e as { name?: unknown; code?: unknown };
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || code === 22 || code === 1014;
}

function defaultStorage(): StorageLike | null {
  try {
    const s = globalThis.localStorage;
    return s ?? null;
  } catch {
    return null; // SecurityError: storage blocked (e.g. third-party iframe)
  }
}

/**
 * An ordered, bounded, expiring set of events.
 *
 * Order is by event id, compared numerically (`<ms>-<seq>`), which is publish order.
 * Invariants after every public call: no two events share an id; no type holds more than
 * maxPerType; the total is at most maxTotal; getters never return an expired event.
 * Persistence is eventually consistent: changes are written once per flush window, on
 * `flush()`, on `stop()` and on `pagehide`. Storage errors never throw out of the cache.
 * Not thread-safe (there are no threads in a page); subscribers run synchronously.
 */
export class EventCache<T = unknown> {
  readonly key: string;
  readonly #storage: StorageLike | null;
  readonly #ttlMs: number;
  readonly #maxPerType: number;
  readonly #maxTotal: number;
  readonly #flushDelayMs: number;
  readonly #syncTabs: boolean;
  readonly #now: () => number;
  readonly #timers: TimerApi;
  readonly #target: EventTarget | null;
  /** Events per type, each array sorted by id ascending. */
  readonly #byType = new Map<string, CachedEvent<T>[]>();
  readonly #ids = new Set<string>();
  readonly #subscribers = new Set<() => void>();
  #total = 0;
  #lastEventId: string | undefined;
  #dirty = false;
  #flushScheduled = false;
  #flushTimer: unknown;
  #sweepTimer: unknown;
  #started = false;
  #writer: boolean;

  constructor(options: EventCacheOptions = {}) {
    this.#storage = options.storage === undefined ? defaultStorage() : options.storage;
    this.key = `ssecast:events:${options.storageKey ?? 'default'}`;
    this.#ttlMs = options.ttlMs ?? 24 * 3600_000;
    this.#maxPerType = Math.max(1, options.maxPerType ?? 500);
    this.#maxTotal = Math.max(1, options.maxTotal ?? 2000);
    this.#flushDelayMs = options.flushDelayMs ?? 50;
    this.#syncTabs = options.syncTabs ?? true;
    this.#writer = options.writer ?? true;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? defaultTimers;
    this.#target = options.eventTarget === undefined ? (typeof globalThis.addEventListener === 'function' ? globalThis : null) : options.eventTarget;
    this.#merge(this.#readStorage());
    if (options.autoStart ?? true) this.start();
  }

  /** Attaches the tab-sync and pagehide listeners and the expiry timer. Idempotent; restartable after stop(). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#target) {
      if (this.#syncTabs) this.#target.addEventListener('storage', this.#onStorage);
      this.#target.addEventListener('pagehide', this.#onPageHide);
    }
    // Another tab may have written while we were stopped.
    if (this.#syncTabs && this.#merge(this.#readStorage())) this.#notify();
    this.#scheduleSweep();
  }

  /** Flushes pending writes and detaches every listener and timer. The data stays usable. */
  stop(): void {
    if (!this.#started) return;
    this.flush();
    this.#started = false;
    if (this.#target) {
      this.#target.removeEventListener('storage', this.#onStorage);
      this.#target.removeEventListener('pagehide', this.#onPageHide);
    }
    if (this.#sweepTimer !== undefined) this.#timers.clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }

  /** Alias of stop(). */
  dispose(): void {
    this.stop();
  }

  /**
   * Adds an event. Returns false (and changes nothing) when its id is already cached, when
   * it has already expired, or when it is older than everything kept and limits are full.
   */
  add(event: Omit<CachedEvent<T>, 'timestamp'> & { timestamp?: number }): boolean {
    const ev: CachedEvent<T> = { id: event.id, type: event.type, data: event.data, timestamp: event.timestamp ?? this.#now() };
    if (!ev.id || this.#ids.has(ev.id) || this.#isExpired(ev)) return false;
    this.#insert(ev);
    this.#lastEventId = maxEventId(this.#lastEventId, ev.id);
    this.#enforceLimits();
    if (!this.#ids.has(ev.id)) return false;
    this.#markDirty();
    this.#scheduleSweep();
    this.#notify();
    return true;
  }

  /** Unexpired events of one type, or of all types merged, oldest first (by id). */
  getEvents(type?: string): CachedEvent<T>[] {
    this.#purgeExpired();
    if (type !== undefined) return [...(this.#byType.get(type) ?? [])];
    return this.#sorted();
  }

  /** Newest id ever added (survives eviction and expiry, not clear()): the resume point. */
  getLastEventId(): string | undefined {
    return this.#lastEventId;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  get size(): number {
    return this.#total;
  }

  /** Empties memory and storage (other tabs follow). */
  clear(): void {
    this.#byType.clear();
    this.#ids.clear();
    this.#total = 0;
    this.#lastEventId = undefined;
    this.#dirty = false;
    try {
      this.#storage?.removeItem(this.key);
    } catch {
      /* storage unavailable: memory is cleared, nothing else to do */
    }
    this.#notify();
  }

  /** Called after every change (add, eviction, expiry, clear, another tab's write). */
  subscribe(fn: () => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  /** True when this instance writes to storage (see the `writer` option). */
  get writer(): boolean {
    return this.#writer;
  }

  /**
   * Makes this instance the writer (or not). A new writer writes what it holds at once: it
   * has every event the previous writer may not have flushed before its tab went away.
   */
  setWriter(on: boolean): void {
    if (this.#writer === on) return;
    this.#writer = on;
    if (on) {
      this.#dirty = true;
      this.flush();
    }
  }

  /** Writes pending changes now (one serialise); a non-writer keeps them in memory only. */
  flush(): void {
    if (this.#flushTimer !== undefined) this.#timers.clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#flushScheduled = false;
    if (!this.#dirty || !this.#writer) return;
    this.#dirty = false;
    this.#write();
  }

  // ---- internals -------------------------------------------------------------------------------

  #isExpired(ev: CachedEvent<T>, now = this.#now()): boolean {
    return now - ev.timestamp >= this.#ttlMs;
  }

  #insert(ev: CachedEvent<T>): void {
    let list = this.#byType.get(ev.type);
    if (!list) this.#byType.set(ev.type, (list = []));
    // Events nearly always arrive in id order: append; else binary-search the slot.
    let i = list.length;
    const last = list[i - 1];
    if (last && compareEventIds(last.id, ev.id) > 0) {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareEventIds(list[mid]!.id, ev.id) < 0) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    list.splice(i, 0, ev);
    this.#ids.add(ev.id);
    this.#total++;
  }

  #removeAt(type: string, list: CachedEvent<T>[], index: number): void {
    const [ev] = list.splice(index, 1);
    if (!ev) return;
    this.#ids.delete(ev.id);
    this.#total--;
    if (list.length === 0) this.#byType.delete(type);
  }

  /** Drops the oldest events overall (by id). */
  #evictOldest(count: number): void {
    for (let n = 0; n < count && this.#total > 0; n++) {
      let oldestType: string | undefined;
      let oldest: CachedEvent<T> | undefined;
      for (const [type, list] of this.#byType) {
        const head = list[0];
        if (head && (!oldest || compareEventIds(head.id, oldest.id) < 0)) {
          oldest = head;
          oldestType = type;
        }
      }
      if (oldestType === undefined) return;
      this.#removeAt(oldestType, this.#byType.get(oldestType)!, 0);
    }
  }

  #enforceLimits(): void {
    for (const [type, list] of this.#byType) {
      while (list.length > this.#maxPerType) this.#removeAt(type, list, 0);
    }
    if (this.#total > this.#maxTotal) this.#evictOldest(this.#total - this.#maxTotal);
  }

  /** Removes expired events; returns true if any were removed. */
  #purgeExpired(): boolean {
    if (!Number.isFinite(this.#ttlMs)) return false;
    const now = this.#now();
    let removed = false;
    for (const [type, list] of [...this.#byType]) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (this.#isExpired(list[i]!, now)) {
          this.#removeAt(type, list, i);
          removed = true;
        }
      }
    }
    if (removed) this.#markDirty();
    return removed;
  }

  #scheduleSweep(): void {
    if (!this.#started || this.#sweepTimer !== undefined || this.#total === 0 || !Number.isFinite(this.#ttlMs)) return;
    let next = Infinity;
    for (const list of this.#byType.values()) for (const ev of list) next = Math.min(next, ev.timestamp + this.#ttlMs);
    const delay = Math.max(0, Math.min(next - this.#now(), 2 ** 31 - 1));
    this.#sweepTimer = this.#timers.setTimeout(() => {
      this.#sweepTimer = undefined;
      if (this.#purgeExpired()) this.#notify();
      this.#scheduleSweep();
    }, delay);
  }

  #markDirty(): void {
    this.#dirty = true;
    if (this.#flushScheduled || !this.#storage || !this.#writer) return;
    this.#flushScheduled = true;
    if (this.#flushDelayMs <= 0) queueMicrotask(() => this.#flushScheduled && this.flush());
    else this.#flushTimer = this.#timers.setTimeout(() => this.flush(), this.#flushDelayMs);
  }

  #serialise(): string {
    const doc: Persisted = { v: 1, events: this.#sorted() };
    if (this.#lastEventId) doc.lastEventId = this.#lastEventId;
    return JSON.stringify(doc);
  }

  #sorted(): CachedEvent<T>[] {
    const all: CachedEvent<T>[] = [];
    for (const list of this.#byType.values()) all.push(...list);
    return all.sort((a, b) => compareEventIds(a.id, b.id));
  }

  /** Serialises and stores; on QuotaExceededError evicts the oldest ~10% and retries until it fits. */
  #write(): void {
    const storage = this.#storage;
    if (!storage) return;
    this.#purgeExpired();
    this.#dirty = false;
    let evicted = false;
    for (;;) {
      try {
        storage.setItem(this.key, this.#serialise());
        break;
      } catch (e) {
        if (!isQuotaExceededError(e)) break; // storage unusable (blocked, disabled): stay memory-only
        if (this.#total === 0) {
          try {
            storage.removeItem(this.key);
          } catch {
            /* nothing more we can do */
          }
          break;
        }
        this.#evictOldest(Math.max(1, Math.ceil(this.#total / 10)));
        evicted = true;
      }
    }
    if (evicted) this.#notify();
  }

  #readStorage(): Persisted | null {
    try {
      const raw = this.#storage?.getItem(this.key);
      return raw ? parsePersisted(raw) : null;
    } catch {
      return null;
    }
  }

  /** Merges a persisted document into memory; returns true if anything changed. */
  #merge(doc: Persisted | null): boolean {
    if (!doc) return false;
    let changed = false;
    const now = this.#now();
    for (const ev of doc.events as CachedEvent<T>[]) {
      if (this.#ids.has(ev.id) || this.#isExpired(ev, now)) continue;
      this.#insert(ev);
      changed = true;
    }
    const before = this.#lastEventId;
    this.#lastEventId = maxEventId(maxEventId(before, doc.lastEventId), this.#sorted().at(-1)?.id);
    if (this.#lastEventId !== before) changed = true;
    this.#enforceLimits();
    if (changed) this.#scheduleSweep();
    return changed;
  }

  readonly #onStorage = (e: Event): void => {
    const se = e as StorageEvent;
    if (se.key !== null && se.key !== this.key) return;
    if (se.storageArea && se.storageArea !== (this.#storage as unknown)) return;
    const raw = se.key === null ? this.#safeGet() : se.newValue;
    if (raw == null) {
      // The other tab cleared the cache (or all of storage).
      this.#byType.clear();
      this.#ids.clear();
      this.#total = 0;
      this.#lastEventId = undefined;
      this.#notify();
      return;
    }
    // Merge without writing back: the writer already holds the union, so tabs do not ping-pong.
    if (this.#merge(parsePersisted(raw))) this.#notify();
  };

  readonly #onPageHide = (): void => this.flush();

  #safeGet(): string | null {
    try {
      return this.#storage?.getItem(this.key) ?? null;
    } catch {
      return null;
    }
  }

  #notify(): void {
    for (const fn of [...this.#subscribers]) {
      try {
        fn();
      } catch (e) {
        console.error(e);
      }
    }
  }
}

/** Parses and validates a stored document; anything malformed is dropped rather than trusted. */
function parsePersisted(raw: string): Persisted | null {
  try {
    const doc = JSON.parse(raw) as Partial<Persisted> | null;
    if (!doc || doc.v !== 1 || !Array.isArray(doc.events)) return null;
    const events = doc.events.filter(
      (e): e is CachedEvent =>
        !!e && typeof e.id === 'string' && e.id !== '' && typeof e.type === 'string' && typeof e.timestamp === 'number',
    );
    const out: Persisted = { v: 1, events };
    if (typeof doc.lastEventId === 'string' && doc.lastEventId) out.lastEventId = doc.lastEventId;
    return out;
  } catch {
    return null;
  }
}
