// SPDX-License-Identifier: MIT
// The app's token source: keeps its JWT until @ssecast/client asks for a refresh (after the hub
// said `ssecast.token-expired`, or answered 401), then fetches a new one from GET /token.
import type { TokenRequest } from '@ssecast/client';

export interface TokenStats {
  fetched: number;
  lastReason: TokenRequest['reason'] | undefined;
  expiresAt: number | undefined;
}

let cached: string | undefined;
let stats: TokenStats = { fetched: 0, lastReason: undefined, expiresAt: undefined };
const listeners = new Set<() => void>();

export async function getToken({ reason, refresh }: TokenRequest): Promise<string | undefined> {
  if (cached && !refresh) return cached;
  const res = await fetch('/token', { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /token answered ${res.status}`); // → SSETokenError, the hook stops
  cached = (await res.text()).trim();
  const exp = (JSON.parse(atob(cached.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number }).exp;
  stats = { fetched: stats.fetched + 1, lastReason: reason, expiresAt: exp ? exp * 1000 : undefined };
  for (const fn of listeners) fn();
  return cached;
}

/** For useSyncExternalStore. */
export const tokenStore = {
  subscribe(fn: () => void) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
  get: () => stats,
};
