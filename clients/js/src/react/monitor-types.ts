// SPDX-License-Identifier: MIT
// The `GET /api/admin/sse-monitor` document (SPEC §sse-monitor) and a tolerant reader for it.

export interface MonitorStats {
  handler: 'memory' | 'redis' | string;
  instanceId: string;
  uptimeSeconds: number;
  local: { connections: number; uniqueUsers: number };
  global: { connections: number; uniqueUsers: number; instances: number };
  perUser: { userId: string; connections: number }[];
  instances: { instanceId: string; connections: number; lastSeenSeconds: number }[];
  /** `shards`: with redis.shards, each shard's status (SPEC §Scaling out); [] otherwise. */
  redis: { status: 'connected' | 'disconnected' | 'disabled' | string; shards: { shard: number; status: string }[] };
  events: { published: number; delivered: number; dropped: number };
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Normalises a parsed document: missing or mistyped fields become 0/''/[] so a newer or older
 * hub never crashes the page. Returns null when it is not an object with an `instanceId`.
 */
export function readMonitorStats(v: unknown): MonitorStats | null {
  if (!v || typeof v !== 'object') return null;
  const d = v as Record<string, unknown>;
  if (typeof d['instanceId'] !== 'string') return null;
  const local = obj(d['local']);
  const global = obj(d['global']);
  const events = obj(d['events']);
  return {
    handler: str(d['handler'], 'unknown'),
    instanceId: str(d['instanceId']),
    uptimeSeconds: num(d['uptimeSeconds']),
    local: { connections: num(local['connections']), uniqueUsers: num(local['uniqueUsers']) },
    global: {
      connections: num(global['connections']),
      uniqueUsers: num(global['uniqueUsers']),
      instances: num(global['instances']),
    },
    perUser: arr(d['perUser']).map((u) => ({ userId: str(obj(u)['userId']), connections: num(obj(u)['connections']) })),
    instances: arr(d['instances']).map((i) => ({
      instanceId: str(obj(i)['instanceId']),
      connections: num(obj(i)['connections']),
      lastSeenSeconds: num(obj(i)['lastSeenSeconds']),
    })),
    redis: {
      status: str(obj(d['redis'])['status'], 'unknown'),
      shards: arr(obj(d['redis'])['shards']).map((s) => ({ shard: num(obj(s)['shard']), status: str(obj(s)['status'], 'unknown') })),
    },
    events: {
      published: num(events['published']),
      delivered: num(events['delivered']),
      dropped: num(events['dropped']),
    },
  };
}

/** One point of the live charts. */
export interface Sample {
  t: number;
  localConnections: number;
  globalConnections: number;
  publishedPerSec: number;
  deliveredPerSec: number;
  published: number;
  delivered: number;
}

/**
 * Appends a sample computed from `stats` at time `t`, deriving events/s from the previous
 * sample (counter resets, e.g. a hub restart, count as 0/s), and drops points older than windowMs.
 */
export function addSample(samples: readonly Sample[], stats: MonitorStats, t: number, windowMs: number): Sample[] {
  const prev = samples.at(-1);
  const dt = prev ? (t - prev.t) / 1000 : 0;
  const rate = (now: number, before: number | undefined): number =>
    before === undefined || dt <= 0 || now < before ? 0 : (now - before) / dt;
  const next: Sample = {
    t,
    localConnections: stats.local.connections,
    globalConnections: stats.global.connections,
    published: stats.events.published,
    delivered: stats.events.delivered,
    publishedPerSec: rate(stats.events.published, prev?.published),
    deliveredPerSec: rate(stats.events.delivered, prev?.delivered),
  };
  return [...samples.filter((s) => t - s.t <= windowMs), next];
}

export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}
