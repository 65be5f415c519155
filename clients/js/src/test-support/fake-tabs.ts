// SPDX-License-Identifier: MIT
// Unit-test doubles for tab sharing: an in-process Web Locks manager (exclusive, FIFO, abortable)
// and a BroadcastChannel that delivers asynchronously, in order, to every other instance.
import type { BroadcastChannelLike, LockManagerLike, TabShareEnv } from '../tab-share.js';

interface Waiter {
  callback: (lock: unknown) => Promise<void>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
}

/** One "origin": tabs created from the same FakeOrigin share its locks and channels. */
export class FakeOrigin {
  readonly #held = new Set<string>();
  readonly #queues = new Map<string, Waiter[]>();
  readonly #channels = new Map<string, Set<FakeChannel>>();

  readonly locks: LockManagerLike = {
    request: (name, options, callback) =>
      new Promise((resolve, reject) => {
        const w: Waiter = { callback, resolve, reject, signal: options.signal };
        if (options.signal?.aborted) return reject(new DOMException('aborted', 'AbortError'));
        options.signal?.addEventListener('abort', () => {
          const q = this.#queues.get(name) ?? [];
          const i = q.indexOf(w);
          if (i >= 0) {
            q.splice(i, 1);
            reject(new DOMException('aborted', 'AbortError'));
          }
        });
        const q = this.#queues.get(name) ?? [];
        q.push(w);
        this.#queues.set(name, q);
        this.#grant(name);
      }),
  };

  /** Names of locks currently held. */
  held(): string[] {
    return [...this.#held];
  }

  #grant(name: string): void {
    if (this.#held.has(name)) return;
    const w = this.#queues.get(name)?.shift();
    if (!w) return;
    this.#held.add(name);
    void Promise.resolve()
      .then(() => w.callback({ name }))
      .then(w.resolve, w.reject)
      .finally(() => {
        this.#held.delete(name);
        this.#grant(name);
      });
  }

  env(): TabShareEnv {
    const origin = this;
    class Channel extends FakeChannel {
      constructor(name: string) {
        super(name, origin.#channels);
      }
    }
    return { locks: this.locks, BroadcastChannel: Channel };
  }
}

class FakeChannel implements BroadcastChannelLike {
  onmessage: ((ev: MessageEvent) => void) | null = null;
  readonly #name: string;
  readonly #registry: Map<string, Set<FakeChannel>>;
  #closed = false;
  constructor(name: string, registry: Map<string, Set<FakeChannel>>) {
    this.#name = name;
    this.#registry = registry;
    const set = registry.get(name) ?? new Set();
    set.add(this);
    registry.set(name, set);
  }
  postMessage(message: unknown): void {
    if (this.#closed) throw new DOMException('closed', 'InvalidStateError');
    const copy = structuredClone(message);
    for (const other of this.#registry.get(this.#name) ?? []) {
      if (other === this) continue;
      setTimeout(() => {
        if (!other.#closed) other.onmessage?.({ data: copy } as MessageEvent);
      }, 0);
    }
  }
  close(): void {
    this.#closed = true;
    this.#registry.get(this.#name)?.delete(this);
  }
}
