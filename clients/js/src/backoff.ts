// SPDX-License-Identifier: MIT
// Reconnect delays: exponential backoff with full jitter, floored by the server's `retry:` and
// `Retry-After`. @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
import type { BackoffOptions } from './types.js';

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 1000, maxMs: 30_000, factor: 2 };

/** Upper bound of the jitter window for `attempt` (0-based): min(maxMs, initialMs * factor^attempt). */
export function backoffCeiling(attempt: number, options: BackoffOptions = {}): number {
  const { initialMs, maxMs, factor } = { ...DEFAULT_BACKOFF, ...options };
  const raw = initialMs * Math.pow(factor, Math.max(0, attempt));
  return Math.min(maxMs, Number.isFinite(raw) ? raw : maxMs);
}

/** Full jitter: uniform in [0, ceiling). `random` must return [0, 1). */
export function fullJitter(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, options));
}

/**
 * Parses `Retry-After` (delta-seconds or HTTP-date) into ms from `nowMs`.
 * Returns undefined when absent or unparseable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/^[A-Za-z]{3},/.test(v)) return undefined; // IMF-fixdate starts with the day name
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export interface ReconnectDelayInput {
  /** Failed attempts since the last healthy connection (0 = first retry). */
  attempt: number;
  backoff?: BackoffOptions;
  random?: () => number;
  /** Last `retry:` value the server sent, ms. */
  serverRetryMs?: number | undefined;
  /** `Retry-After` of a 429/503, ms. */
  retryAfterMs?: number | undefined;
  /** Absolute lower bound, ms. */
  minDelayMs?: number;
}

/**
 * Delay before the next connect: floor + full jitter, where floor = max(server `retry:`,
 * `Retry-After`, minDelayMs). Adding (not max-ing) the jitter keeps a crowd of clients told
 * "retry in 3 s" from all coming back in the same millisecond, and never undercuts the server.
 */
export function reconnectDelay(input: ReconnectDelayInput): number {
  const floor = Math.max(input.serverRetryMs ?? 0, input.retryAfterMs ?? 0, input.minDelayMs ?? 0);
  return floor + fullJitter(input.attempt, input.backoff, input.random);
}
