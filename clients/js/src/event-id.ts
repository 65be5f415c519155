// SPDX-License-Identifier: MIT
// Event ids are Redis-stream style `<ms>-<seq>`; order them numerically, never as strings
// ("999-0" < "1000-0" although it sorts after it). A stream whose topics live on several
// Redis shards gets composite ids, `<shard>:<ms>-<seq>` per shard joined by `,` (the
// server's docs/redis.md §Shards): each event moves one shard's position forward, so the
// sums of the positions order the ids of one stream as it sent them.

const PLAIN = /^(\d+)(?:-(\d+))?$/;
const ENTRY = /^\d+:(\d+)-(\d+)$/;

/**
 * Parsed id as `[ms, seq]`; for a composite id the sums over its shards. `null` when the
 * id is neither form.
 */
export function parseEventId(id: string): readonly [number, number] | null {
  const m = PLAIN.exec(id);
  if (m) return [Number(m[1]), m[2] === undefined ? 0 : Number(m[2])];
  if (!id.includes(':')) return null;
  let ms = 0;
  let seq = 0;
  for (const entry of id.split(',')) {
    const e = ENTRY.exec(entry);
    if (!e) return null;
    ms += Number(e[1]);
    seq += Number(e[2]);
  }
  return [ms, seq];
}

/**
 * Total order on ids: negative if a < b, 0 if equal, positive if a > b.
 * Well-formed ids compare by (ms, seq); malformed ones sort before well-formed ones and
 * among themselves by string, so a stray id never hides newer real ones.
 */
export function compareEventIds(a: string, b: string): number {
  if (a === b) return 0;
  const pa = parseEventId(a);
  const pb = parseEventId(b);
  if (pa && pb) return pa[0] - pb[0] || pa[1] - pb[1];
  if (pa) return 1;
  if (pb) return -1;
  return a < b ? -1 : 1;
}

/** The newer of two optional ids. */
export function maxEventId(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareEventIds(a, b) >= 0 ? a : b;
}
