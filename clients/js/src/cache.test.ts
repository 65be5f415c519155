// SPDX-License-Identifier: MIT
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventCache, type StorageLike } from './cache.js';

class MemStorage implements StorageLike {
  data = new Map<string, string>();
  writes = 0;
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.writes++;
    this.data.set(k, v);
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
}

/** Throws QuotaExceededError whenever the stored value would exceed `limit` characters. */
class TinyStorage extends MemStorage {
  constructor(readonly limit: number) {
    super();
  }
  override setItem(k: string, v: string) {
    if (v.length > this.limit) throw new DOMException('quota', 'QuotaExceededError');
    super.setItem(k, v);
  }
}

const ev = (id: string, type = 't', data: unknown = id) => ({ id, type, data });

describe('EventCache', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());

  it('keeps events by type, ordered by numeric id, and deduplicates', () => {
    const c = new EventCache({ storage: null, eventTarget: null });
    expect(c.add(ev('1000-0', 'a'))).toBe(true);
    expect(c.add(ev('999-5', 'a'))).toBe(true);
    expect(c.add(ev('1000-1', 'b'))).toBe(true);
    expect(c.add(ev('1000-0', 'a', 'again'))).toBe(false);
    expect(c.getEvents('a').map((e) => e.id)).toEqual(['999-5', '1000-0']);
    expect(c.getEvents().map((e) => e.id)).toEqual(['999-5', '1000-0', '1000-1']);
    expect(c.getEvents('a')[1]!.data).toBe('1000-0');
    expect(c.getLastEventId()).toBe('1000-1');
    expect(c.size).toBe(3);
  });

  it('expires events on its timer, notifying subscribers', () => {
    const c = new EventCache({ storage: null, eventTarget: null, ttlMs: 1000 });
    const changes = vi.fn();
    c.subscribe(changes);
    c.add(ev('1-0'));
    vi.advanceTimersByTime(500);
    c.add(ev('2-0'));
    changes.mockClear();
    vi.advanceTimersByTime(500);
    expect(changes).toHaveBeenCalledTimes(1);
    expect(c.size).toBe(1);
    expect(c.getEvents().map((e) => e.id)).toEqual(['2-0']);
    vi.advanceTimersByTime(500);
    expect(changes).toHaveBeenCalledTimes(2);
    expect(c.size).toBe(0);
    expect(c.getLastEventId()).toBe('2-0'); // the resume point survives expiry
    c.stop();
  });

  it('expires events on read even without the timer, and never hydrates expired ones', () => {
    const s = new MemStorage();
    const c = new EventCache({ storage: s, eventTarget: null, ttlMs: 1000, autoStart: false });
    c.add(ev('1-0'));
    vi.setSystemTime(1_000_600);
    c.add(ev('2-0'));
    c.flush();
    vi.setSystemTime(1_001_000);
    expect(c.getEvents().map((e) => e.id)).toEqual(['2-0']);
    expect(c.add(ev('3-0', 't'))).toBe(true);
    expect(c.add({ ...ev('0-5'), timestamp: 0 })).toBe(false);
    vi.setSystemTime(1_001_700);
    const reloaded = new EventCache({ storage: s, eventTarget: null, ttlMs: 1000, autoStart: false });
    expect(reloaded.getEvents().map((e) => e.id)).toEqual([]);
  });

  it('enforces maxPerType and maxTotal by evicting the oldest', () => {
    const c = new EventCache({ storage: null, eventTarget: null, maxPerType: 3, maxTotal: 5 });
    for (let i = 1; i <= 5; i++) c.add(ev(`${i}-0`, 'a'));
    expect(c.getEvents('a').map((e) => e.id)).toEqual(['3-0', '4-0', '5-0']);
    c.add(ev('6-0', 'b'));
    c.add(ev('7-0', 'b'));
    c.add(ev('8-0', 'c'));
    expect(c.size).toBe(5);
    expect(c.getEvents().map((e) => e.id)).toEqual(['4-0', '5-0', '6-0', '7-0', '8-0']);
    // An event older than everything kept is evicted at once and reported as not added.
    expect(c.add(ev('0-1', 'c'))).toBe(false);
  });

  it('persists in batches and hydrates a new instance (a reload)', async () => {
    const s = new MemStorage();
    const a = new EventCache({ storage: s, eventTarget: null, storageKey: 'k', flushDelayMs: 50 });
    for (let i = 1; i <= 100; i++) a.add(ev(`${i}-0`));
    expect(s.writes).toBe(0);
    vi.advanceTimersByTime(50);
    expect(s.writes).toBe(1);
    expect([...s.data.keys()]).toEqual(['ssecast:events:k']);
    const b = new EventCache({ storage: s, eventTarget: null, storageKey: 'k' });
    expect(b.size).toBe(100);
    expect(b.getLastEventId()).toBe('100-0');
    // Different namespace sees nothing.
    expect(new EventCache({ storage: s, eventTarget: null, storageKey: 'other' }).size).toBe(0);
    // flushDelayMs 0: one write per microtask.
    const m = new EventCache({ storage: s, eventTarget: null, storageKey: 'm', flushDelayMs: 0 });
    const before = s.writes;
    m.add(ev('1-0'));
    m.add(ev('2-0'));
    await Promise.resolve();
    expect(s.writes).toBe(before + 1);
    a.stop();
    b.stop();
  });

  it('one writer: a non-writer keeps memory only; when it becomes the writer it writes what it holds', () => {
    const s = new MemStorage();
    const leader = new EventCache({ storage: s, eventTarget: null, storageKey: 'w', flushDelayMs: 10 });
    const follower = new EventCache({ storage: s, eventTarget: null, storageKey: 'w', flushDelayMs: 10, writer: false });
    leader.add(ev('1-0'));
    follower.add(ev('1-0'));
    follower.add(ev('2-0')); // the leader's tab went away before it flushed 2-0
    vi.advanceTimersByTime(10);
    expect(s.writes).toBe(1);
    follower.flush();
    follower.stop();
    expect(s.writes).toBe(1);
    expect(JSON.parse(s.data.get('ssecast:events:w')!).lastEventId).toBe('1-0');
    follower.start();
    follower.setWriter(true);
    expect(follower.writer).toBe(true);
    expect(s.writes).toBe(2);
    expect(JSON.parse(s.data.get('ssecast:events:w')!).lastEventId).toBe('2-0');
    leader.stop();
    follower.stop();
  });

  it('survives QuotaExceededError by evicting the oldest and retrying', () => {
    const s = new TinyStorage(1500);
    const c = new EventCache({ storage: s, eventTarget: null, flushDelayMs: 10 });
    for (let i = 1; i <= 50; i++) c.add(ev(`${i}-0`, 't', 'x'.repeat(20)));
    expect(() => vi.advanceTimersByTime(10)).not.toThrow();
    const stored = JSON.parse(s.getItem('ssecast:events:default')!) as { events: { id: string }[] };
    expect(stored.events.length).toBeGreaterThan(0);
    expect(stored.events.length).toBeLessThan(50);
    expect(stored.events.at(-1)!.id).toBe('50-0'); // the newest are kept
    expect(c.size).toBe(stored.events.length);
    // Nothing fits at all: memory empties, nothing throws.
    const none = new EventCache({ storage: new TinyStorage(5), eventTarget: null, flushDelayMs: 10 });
    none.add(ev('1-0'));
    expect(() => vi.advanceTimersByTime(10)).not.toThrow();
    expect(none.size).toBe(0);
    // Non-quota storage errors: stays in memory.
    const broken: StorageLike = { getItem: () => null, setItem: () => { throw new Error('SecurityError'); }, removeItem: () => {} };
    const mem = new EventCache({ storage: broken, eventTarget: null, flushDelayMs: 10 });
    mem.add(ev('1-0'));
    expect(() => vi.advanceTimersByTime(10)).not.toThrow();
    expect(mem.size).toBe(1);
  });

  it('follows other tabs through the storage event, without writing back', () => {
    const s = new MemStorage();
    const target = new EventTarget();
    const other = new EventCache({ storage: s, eventTarget: null, flushDelayMs: 10 });
    const mine = new EventCache({ storage: s, eventTarget: target, flushDelayMs: 10 });
    const changes = vi.fn();
    mine.subscribe(changes);
    other.add(ev('1-0'));
    other.add(ev('2-0', 'u'));
    vi.advanceTimersByTime(10);
    const writes = s.writes;
    target.dispatchEvent(new StorageEvent('storage', { key: 'ssecast:events:default', newValue: s.getItem('ssecast:events:default') }));
    expect(changes).toHaveBeenCalledTimes(1);
    expect(mine.getEvents().map((e) => e.id)).toEqual(['1-0', '2-0']);
    expect(mine.getLastEventId()).toBe('2-0');
    vi.advanceTimersByTime(100);
    expect(s.writes).toBe(writes);
    // Unrelated keys are ignored; a clear in the other tab empties this one.
    target.dispatchEvent(new StorageEvent('storage', { key: 'something-else', newValue: 'x' }));
    expect(changes).toHaveBeenCalledTimes(1);
    other.clear();
    target.dispatchEvent(new StorageEvent('storage', { key: 'ssecast:events:default', newValue: null }));
    expect(mine.size).toBe(0);
    expect(mine.getLastEventId()).toBeUndefined();
    // After stop(), no more syncing.
    mine.stop();
    target.dispatchEvent(new StorageEvent('storage', { key: 'ssecast:events:default', newValue: '{"v":1,"events":[{"id":"9-0","type":"t","data":1,"timestamp":1000000}]}' }));
    expect(mine.size).toBe(0);
  });

  it('ignores corrupt storage contents', () => {
    const s = new MemStorage();
    s.setItem('ssecast:events:default', '{not json');
    expect(new EventCache({ storage: s, eventTarget: null }).size).toBe(0);
    s.setItem('ssecast:events:default', JSON.stringify({ v: 1, events: [{ id: 3 }, { id: '1-0', type: 't', data: null, timestamp: 1_000_000 }] }));
    expect(new EventCache({ storage: s, eventTarget: null }).getEvents().map((e) => e.id)).toEqual(['1-0']);
  });

  it('clear() empties memory and storage', () => {
    const s = new MemStorage();
    const c = new EventCache({ storage: s, eventTarget: null });
    c.add(ev('1-0'));
    c.flush();
    expect(s.data.size).toBe(1);
    c.clear();
    expect(s.data.size).toBe(0);
    expect(c.size).toBe(0);
    expect(c.getLastEventId()).toBeUndefined();
  });
});
