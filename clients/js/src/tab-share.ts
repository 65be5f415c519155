// SPDX-License-Identifier: MIT
// One stream for all tabs: the tabs of one origin that ask for the same subscription elect a
// leader with the Web Locks API and share its events over a BroadcastChannel.
// @see https://w3c.github.io/web-locks/  https://html.spec.whatwg.org/multipage/web-messaging.html#broadcasting-to-other-browsing-contexts
import type { ConnectionStatus } from './types.js';

/** The part of `navigator.locks` (LockManager) the client uses. */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>): Promise<unknown>;
}

/** The part of BroadcastChannel the client uses. */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((ev: MessageEvent) => void) | null;
}
export type BroadcastChannelCtor = new (name: string) => BroadcastChannelLike;

/** What sharing needs from the browser; both must exist, else each tab holds its own stream. */
export interface TabShareEnv {
  locks: LockManagerLike;
  BroadcastChannel: BroadcastChannelCtor;
}

/** `navigator.locks` + `BroadcastChannel` of this runtime, or null when either is missing. */
export function browserTabShareEnv(): TabShareEnv | null {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike | null } }).navigator;
  const locks = nav?.locks;
  const BC = (globalThis as { BroadcastChannel?: BroadcastChannelCtor }).BroadcastChannel;
  if (!locks || typeof locks.request !== 'function' || typeof BC !== 'function') return null;
  return { locks, BroadcastChannel: BC };
}

/** An event as the leader relays it: raw data, so each tab parses it with its own `parseData`. */
export interface RelayedEvent {
  type: string;
  id?: string;
  data: string;
}

/** An error as it crosses tabs (classes do not survive structured clone; the client rebuilds them). */
export interface RelayedError {
  name: string;
  message: string;
  fatal: boolean;
  status?: number;
  body?: { error?: string; message?: string };
  retryAfterMs?: number;
  /** SSETokenError's reason. */
  reason?: string;
}

/** Messages on the channel. `from` is the sender's tab id; `to` addresses one tab. */
export type TabMessage =
  | { t: 'hello'; from: string; lastEventId?: string }
  | { t: 'leader'; from: string }
  | { t: 'catchup'; from: string; to: string; status: ConnectionStatus; events: RelayedEvent[]; rewind?: boolean }
  | { t: 'ev'; from: string; e: RelayedEvent }
  | { t: 'status'; from: string; s: ConnectionStatus }
  | { t: 'error'; from: string; e: RelayedError }
  | { t: 'bye'; from: string };

export interface TabLinkHandlers {
  /** This tab now holds the lock: it must open the stream. Called at most once per link. */
  onLeader(): void;
  /** A message from another tab (never one of ours). */
  onMessage(message: TabMessage): void;
}

/** FNV-1a over UTF-16 code units, 52 bits, base 36: a short stable name, not a secret. */
export function shareHash(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return (h1.toString(36) + (h2 & 0xfffff).toString(36));
}

/**
 * The identity part of a share key: the `sub` claim of a JWT (stable across refreshes), else a
 * hash of the token, else '' (anonymous). Tabs with different identities never share.
 */
export function tokenIdentity(token: string | null | undefined): string {
  if (!token) return '';
  const parts = token.split('.');
  if (parts.length === 3) {
    try {
      const json = atob(parts[1]!.replace(/-/g, '+').replace(/_/g, '/'));
      const sub = (JSON.parse(json) as { sub?: unknown }).sub;
      if (typeof sub === 'string' || typeof sub === 'number') return `sub:${String(sub)}`;
    } catch {
      /* not a JWT we can read: fall back to the token's hash */
    }
  }
  return `tok:${shareHash(token)}`;
}

/**
 * One tab's membership in a share group (one lock name + one channel name).
 *
 * Guarantees: at most one tab of the origin holds the lock at a time (the browser's Web
 * Locks); when the holder's document goes away (closed, crashed, navigated) the browser
 * releases it and the next waiting tab is granted it. `onLeader` fires once, after a short
 * grace period in which messages already queued from the old leader (a fatal error, its last
 * events) are delivered first, so a takeover never races the old leader's goodbye.
 * `close()` releases the lock or withdraws the request, and closes the channel; final.
 */
export class TabLink {
  readonly id: string;
  readonly #env: TabShareEnv;
  readonly #name: string;
  readonly #handlers: TabLinkHandlers;
  readonly #graceMs: number;
  #channel: BroadcastChannelLike | undefined;
  #abort = new AbortController();
  #release: (() => void) | undefined;
  #leader = false;
  #closed = false;

  constructor(env: TabShareEnv, name: string, handlers: TabLinkHandlers, options: { graceMs?: number; id?: string } = {}) {
    this.#env = env;
    this.#name = name;
    this.#handlers = handlers;
    this.#graceMs = options.graceMs ?? 30;
    this.id = options.id ?? Math.random().toString(36).slice(2) + Date.now().toString(36);
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Opens the channel and queues for the lock. */
  start(): void {
    if (this.#closed || this.#channel) return;
    const ch = new this.#env.BroadcastChannel(`ssecast:share:${this.#name}`);
    ch.onmessage = (ev: MessageEvent) => {
      if (this.#closed) return;
      const m = ev.data as TabMessage | null;
      if (!m || typeof m !== 'object' || typeof m.t !== 'string' || m.from === this.id) return;
      if (m.t === 'catchup' && m.to !== this.id) return;
      this.#handlers.onMessage(m);
    };
    this.#channel = ch;
    this.#env.locks
      .request(`ssecast:share:${this.#name}`, { signal: this.#abort.signal }, async () => {
        if (this.#closed) return;
        await new Promise((r) => setTimeout(r, this.#graceMs));
        if (this.#closed) return;
        this.#leader = true;
        const held = new Promise<void>((resolve) => (this.#release = resolve));
        this.#handlers.onLeader();
        await held;
      })
      .catch(() => undefined); // AbortError after close(): expected
  }

  post(message: TabMessage): void {
    if (this.#closed) return;
    try {
      this.#channel?.postMessage(message);
    } catch {
      /* DataCloneError on exotic data cannot happen (strings only); a closed channel is harmless */
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#release?.();
    this.#channel?.close();
    this.#channel = undefined;
  }
}
