// SPDX-License-Identifier: MIT
// Event ids are Redis-stream style `<ms>-<seq>`; order them numerically, never as strings
// ("999-0" < "1000-0" although it sorts after it).

/** Parsed id; `null` when the id is not `<ms>-<seq>` (or a bare integer). */
export function parseEventId(id: string): readonly [number, number] | null {
  const m = /^(\d+)(?:-(\d+))?$/.exec(id);
  if (!m) return null;
  return [Number(m[1]), m[2] === undefined ? 0 : Number(m[2])];
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
