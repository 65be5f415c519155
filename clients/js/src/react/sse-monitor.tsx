// SPDX-License-Identifier: MIT
// SSEMonitor: the /admin dashboard of ssecast (SPEC §GET /admin). Asks for the admin token
// (sessionStorage only), then shows the sse-monitor document live with charts and tables.
import { useState, type FormEvent } from 'react';
import { LineChart } from './line-chart.js';
import { formatDuration } from './monitor-types.js';
import { SSE_MONITOR_CSS } from './sse-monitor-styles.js';
import { useMonitorFeed, type FeedState } from './use-monitor-feed.js';

export interface SSEMonitorProps {
  /** Hub origin ('' or omitted = the page's own origin, as when served at /admin). */
  baseUrl?: string;
  /** Admin token; when omitted the component asks for it and keeps it in sessionStorage. */
  token?: string;
  /** Fallback polling period while the stats stream is silent, ms (default 2000). */
  pollIntervalMs?: number;
  /** Width of the live charts, seconds (default 120). */
  windowSeconds?: number;
  /**
   * Pre-fills the sign-in form (the visitor still presses "Sign in"); `/admin` passes the
   * token ssecast generated at start-up, which it offers to visitors on its own machine only.
   */
  suggestedToken?: string;
  /** sessionStorage key for the token (default `ssecast.adminToken`). */
  tokenStorageKey?: string;
  title?: string;
  /** Injected fetch (tests). */
  fetch?: typeof fetch;
}

function readSession(key: string): string | null {
  try {
    return globalThis.sessionStorage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function writeSession(key: string, value: string | null): void {
  try {
    if (value === null) globalThis.sessionStorage?.removeItem(key);
    else globalThis.sessionStorage?.setItem(key, value);
  } catch {
    /* sessionStorage blocked: the token lives in memory for this page only */
  }
}

const STATE_LABEL: Record<FeedState, string> = {
  idle: 'Signed out',
  connecting: 'Connecting…',
  live: 'Live',
  unauthorized: 'Wrong token',
  unreachable: 'Hub unreachable',
};

const n = (v: number) => v.toLocaleString('en-US');
const plural = (v: number, word: string) => `${n(v)} ${word}${v === 1 ? '' : 's'}`;

export function SSEMonitor(props: SSEMonitorProps) {
  const key = props.tokenStorageKey ?? 'ssecast.adminToken';
  const [storedToken, setStoredToken] = useState<string | null>(() => props.token ?? readSession(key));
  const token = props.token ?? storedToken;
  const [draft, setDraft] = useState(props.suggestedToken ?? '');
  const [autoRefresh, setAutoRefresh] = useState(true);
  const windowMs = (props.windowSeconds ?? 120) * 1000;
  const baseUrl = props.baseUrl ?? '';
  const feed = useMonitorFeed({
    baseUrl,
    token,
    autoRefresh,
    pollIntervalMs: props.pollIntervalMs ?? 2000,
    windowMs,
    ...(props.fetch && { fetch: props.fetch }),
  });

  const signIn = (e: FormEvent) => {
    e.preventDefault();
    const t = draft.trim();
    if (!t) return;
    writeSession(key, t);
    setStoredToken(t);
    setDraft('');
  };
  const signOut = () => {
    writeSession(key, null);
    setStoredToken(null);
  };
  // SPEC §POST /api/admin/disconnect: ends the user's streams on every instance.
  const [notice, setNotice] = useState<string | null>(null);
  const disconnectUser = async (user: string) => {
    const doFetch = props.fetch ?? fetch;
    try {
      const r = await doFetch(`${baseUrl}/api/admin/disconnect`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token ?? ''}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ user }),
      });
      const body = (await r.json().catch(() => ({}))) as { disconnected?: number; message?: string };
      setNotice(
        r.ok ? `Disconnected ${body.disconnected ?? 0} stream(s) of ${user}` : `Disconnect failed: ${body.message ?? r.status}`,
      );
    } catch {
      setNotice(`Disconnect failed: cannot reach the hub at ${baseUrl || 'this origin'}`);
    }
  };

  const askToken = !token || (feed.state === 'unauthorized' && props.token === undefined);
  const { stats, samples } = feed;
  const now = samples.at(-1)?.t ?? Date.now();
  const stateClass = !autoRefresh && feed.state === 'live' ? 'paused' : feed.state;
  const stateText =
    !autoRefresh && feed.state === 'live'
      ? 'Paused'
      : feed.state === 'live'
        ? `Live (${feed.source === 'stream' ? 'stream' : 'polling'})`
        : STATE_LABEL[feed.state];

  return (
    <div className="ssm">
      <style>{SSE_MONITOR_CSS}</style>
      <header className="ssm-header">
        <h1>{props.title ?? 'ssecast monitor'}</h1>
        <span className={`ssm-state ssm-state-${stateClass}`} data-testid="feed-state">
          <i />
          {stateText}
        </span>
        {token && !askToken && (
          <div className="ssm-actions">
            <label className="ssm-toggle">
              <input
                type="checkbox"
                checked={autoRefresh}
                onChange={(e) => setAutoRefresh(e.target.checked)}
                data-testid="auto-refresh"
              />
              Auto-refresh
            </label>
            <button type="button" onClick={() => void feed.refresh()}>
              Refresh
            </button>
            {props.token === undefined && (
              <button type="button" className="ssm-secondary" onClick={signOut}>
                Sign out
              </button>
            )}
          </div>
        )}
      </header>

      {feed.state === 'unauthorized' && (
        <div className="ssm-banner ssm-banner-error" role="alert" data-testid="error-unauthorized">
          {feed.errorMessage ?? 'The hub rejected the admin token.'} Check <code>auth.admin_token</code> and sign in again.
        </div>
      )}
      {feed.state === 'unreachable' && (
        <div className="ssm-banner ssm-banner-warn" role="alert" data-testid="error-unreachable">
          {feed.errorMessage ?? 'Cannot reach the hub.'} Retrying…{stats ? ' The figures below are stale.' : ''}
        </div>
      )}

      {askToken ? (
        <form className="ssm-login" onSubmit={signIn} data-testid="login-form">
          <label htmlFor="ssm-token">Admin token</label>
          <p>
            {props.suggestedToken && draft === props.suggestedToken
              ? 'Filled in with the token this hub generated at start-up (offered to visitors on its own machine only). '
              : ''}
            The token is kept in this tab's sessionStorage only.
          </p>
          <div className="ssm-login-row">
            <input
              id="ssm-token"
              type="password"
              autoComplete="current-password"
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              placeholder="auth.admin_token"
              data-testid="token-input"
            />
            <button type="submit">Sign in</button>
          </div>
        </form>
      ) : !stats ? (
        <p className="ssm-empty">{feed.state === 'unreachable' ? 'No data yet.' : 'Waiting for the first figures…'}</p>
      ) : (
        // While the hub is unreachable the last figures stay, dimmed: visibly not live.
        <div className={feed.state === 'unreachable' ? 'ssm-body ssm-stale' : 'ssm-body'} data-testid="figures">
          <section className="ssm-cards">
            <Card label="Instance" value={stats.instanceId} testId="instance-id" sub={`up ${formatDuration(stats.uptimeSeconds)}`} />
            <Card label="Handler" value={stats.handler} testId="handler" />
            <Card
              label="Redis"
              value={stats.redis.status}
              sub={shardSummary(stats.redis.shards)}
              testId="redis-status"
              tone={stats.redis.status === 'connected' ? 'ok' : stats.redis.status === 'disabled' ? undefined : 'bad'}
            />
            <Card
              label="Local connections"
              value={n(stats.local.connections)}
              testId="local-connections"
              sub={`${plural(stats.local.uniqueUsers, 'unique user')}`}
            />
            <Card
              label="Global connections"
              value={n(stats.global.connections)}
              testId="global-connections"
              sub={`${plural(stats.global.uniqueUsers, 'user')} · ${plural(stats.global.instances, 'instance')}`}
            />
            <Card
              label="Events published"
              value={n(stats.events.published)}
              testId="events-published"
              sub={`${n(stats.events.delivered)} delivered · ${n(stats.events.dropped)} dropped`}
              tone={stats.events.dropped > 0 ? 'bad' : undefined}
            />
          </section>

          <section className="ssm-charts">
            <LineChart
              title="Connections"
              now={now}
              windowMs={windowMs}
              series={[
                { name: 'global', color: '#2563eb', points: samples.map((s) => [s.t, s.globalConnections] as const) },
                { name: 'local', color: '#16a34a', dash: '6 4', points: samples.map((s) => [s.t, s.localConnections] as const) },
              ]}
            />
            <LineChart
              title="Events / s"
              now={now}
              windowMs={windowMs}
              unit="/s"
              series={[
                { name: 'delivered', color: '#9333ea', points: samples.slice(1).map((s) => [s.t, s.deliveredPerSec] as const) },
                { name: 'published', color: '#ea580c', points: samples.slice(1).map((s) => [s.t, s.publishedPerSec] as const) },
              ]}
            />
          </section>

          <section className="ssm-tables">
            <div className="ssm-table-wrap">
              <h2>Users ({stats.perUser.length})</h2>
              {notice && (
                <p className="ssm-muted" data-testid="disconnect-notice">
                  {notice}
                </p>
              )}
              <table data-testid="per-user">
                <thead>
                  <tr>
                    <th>User</th>
                    <th className="num">Connections</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {stats.perUser.length === 0 ? (
                    <tr>
                      <td colSpan={3} className="ssm-muted">
                        No connected users
                      </td>
                    </tr>
                  ) : (
                    stats.perUser.map((u) => (
                      <tr key={u.userId}>
                        <td className="ssm-mono">{u.userId}</td>
                        <td className="num">{n(u.connections)}</td>
                        <td>
                          <button
                            type="button"
                            className="ssm-secondary"
                            data-testid={`disconnect-${u.userId}`}
                            onClick={() => void disconnectUser(u.userId)}
                          >
                            Disconnect
                          </button>
                        </td>
                      </tr>
                    ))
                  )}
                </tbody>
              </table>
            </div>
            <div className="ssm-table-wrap">
              <h2>Instances ({stats.instances.length})</h2>
              <table data-testid="instances">
                <thead>
                  <tr>
                    <th>Instance</th>
                    <th className="num">Connections</th>
                    <th className="num">Last seen</th>
                  </tr>
                </thead>
                <tbody>
                  {stats.instances.map((i) => (
                    <tr key={i.instanceId} className={i.instanceId === stats.instanceId ? 'ssm-self' : undefined}>
                      <td className="ssm-mono">
                        {i.instanceId}
                        {i.instanceId === stats.instanceId && <span className="ssm-tag">this</span>}
                      </td>
                      <td className="num">{n(i.connections)}</td>
                      <td className="num">{formatDuration(i.lastSeenSeconds)} ago</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          <footer className="ssm-footer">
            Updated {feed.updatedAt ? new Date(feed.updatedAt).toLocaleTimeString() : '—'}
          </footer>
        </div>
      )}
    </div>
  );
}

/** "3 shards", or which are down: "shard 1 down" (undefined without redis.shards). */
function shardSummary(shards: { shard: number; status: string }[]): string | undefined {
  if (shards.length === 0) return undefined;
  const down = shards.filter((s) => s.status !== 'connected').map((s) => s.shard);
  if (down.length === 0) return `${shards.length} shards`;
  return `shard${down.length > 1 ? 's' : ''} ${down.join(', ')} down`;
}

function Card(p: { label: string; value: string; sub?: string; testId: string; tone?: 'ok' | 'bad' | undefined }) {
  return (
    <div className={`ssm-card${p.tone ? ` ssm-card-${p.tone}` : ''}`}>
      <div className="ssm-card-label">{p.label}</div>
      <div className="ssm-card-value" data-testid={p.testId}>
        {p.value}
      </div>
      {p.sub && <div className="ssm-card-sub">{p.sub}</div>}
    </div>
  );
}
