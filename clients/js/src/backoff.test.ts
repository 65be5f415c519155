// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { backoffCeiling, fullJitter, parseRetryAfter, reconnectDelay } from './backoff.js';
import { compareEventIds, maxEventId, parseEventId } from './event-id.js';

describe('backoff', () => {
  it('grows exponentially and is capped', () => {
    const o = { initialMs: 100, maxMs: 1000, factor: 2 };
    expect([0, 1, 2, 3, 4, 10, 5000].map((a) => backoffCeiling(a, o))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('full jitter stays in [0, ceiling)', () => {
    expect(fullJitter(3, { initialMs: 100 }, () => 0)).toBe(0);
    expect(fullJitter(3, { initialMs: 100 }, () => 0.999999)).toBe(799);
    expect(fullJitter(3, { initialMs: 100 }, () => 0.5)).toBe(400);
  });

  it('parses Retry-After as seconds or HTTP date', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 31 Dec 2023 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });

  it('never undercuts retry:, Retry-After or the minimum, and adds jitter on top', () => {
    const zero = () => 0;
    const half = () => 0.5;
    expect(reconnectDelay({ attempt: 0, random: zero, minDelayMs: 250 })).toBe(250);
    expect(reconnectDelay({ attempt: 0, random: zero, serverRetryMs: 3000, minDelayMs: 250 })).toBe(3000);
    expect(reconnectDelay({ attempt: 0, random: zero, serverRetryMs: 3000, retryAfterMs: 10_000 })).toBe(10_000);
    expect(reconnectDelay({ attempt: 1, random: half, retryAfterMs: 5000, backoff: { initialMs: 1000 } })).toBe(6000);
  });
});

describe('event ids', () => {
  it('compare numerically by (ms, seq), not as strings', () => {
    expect(compareEventIds('999-0', '1000-0')).toBeLessThan(0);
    expect(compareEventIds('1732900000000-10', '1732900000000-9')).toBeGreaterThan(0);
    expect(compareEventIds('5-1', '5-1')).toBe(0);
    expect(compareEventIds('garbage', '1-0')).toBeLessThan(0);
    expect(maxEventId('1732900000000-9', '1732900000000-10')).toBe('1732900000000-10');
    expect(maxEventId(undefined, '1-0')).toBe('1-0');
  });

  it('order the composite ids of a stream over several shards as it sent them', () => {
    // Each event moves one shard's position: 0:… then 1:… then 0:… again.
    const sent: string[] = ['0:1732900000000-0,1:1732900000005-0', '0:1732900000000-0,1:1732900000005-1',
      '0:1732900000002-0,1:1732900000005-1', '0:1732900000002-0,1:1732900000010-0'];
    const shuffled = [2, 0, 3, 1].map((i) => sent[i]!);
    expect(shuffled.sort(compareEventIds)).toEqual(sent);
    expect(parseEventId('0:5-1,2:7-3')).toEqual([12, 4]);
    for (const bad of ['0:5-1,', '0:5', 'x:5-1', '0:5-1;1:2-0']) expect(parseEventId(bad)).toBeNull();
  });
});
