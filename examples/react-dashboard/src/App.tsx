// SPDX-License-Identifier: MIT
// The dashboard: live orders and metrics from ssecast through useSSE, with the event cache
// (a reload loses nothing), one stream for all tabs, a typed event map, onHistoryLost and a
// refreshing token.
import type { EventOf, SSEEvent } from '@ssecast/client';
import { useSSE } from '@ssecast/client/react';
import { useMemo, useState, useSyncExternalStore } from 'react';
import { EVENT_TYPES, type DashboardEvents } from './events';
import { getToken, tokenStore } from './token';

type DashboardEvent = EventOf<DashboardEvents>;

// ?hub=<url> overrides the hub that `npm start` configured (VITE_SSECAST_URL).
const HUB = new URLSearchParams(location.search).get('hub') ?? import.meta.env['VITE_SSECAST_URL'] ?? 'http://127.0.0.1:8090';

interface OrderRow {
  id: string;
  customer: string;
  total: number;
  status: string;
  at: number;
}

function ordersFrom(events: DashboardEvent[]): OrderRow[] {
  const rows = new Map<string, OrderRow>();
  for (const e of events) {
    switch (e.type) {
      case 'order.created': // e.data is { id, customer, total } here
        rows.set(e.data.id, { ...e.data, status: 'new', at: e.timestamp });
        break;
      case 'order.updated': {
        const row = rows.get(e.data.id);
        if (row) rows.set(e.data.id, { ...row, status: e.data.status, at: e.timestamp });
        break;
      }
      case 'metric':
        break;
    }
  }
  return [...rows.values()].sort((a, b) => b.at - a.at);
}

function latestMetric(events: DashboardEvent[], name: DashboardEvents['metric']['name']): number | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === 'metric' && e.data.name === name) return e.data.value;
  }
  return undefined;
}

const formatMs = (v: number | undefined) => (v === undefined ? '–' : `${v} ms`);

function describe(e: DashboardEvent): string {
  switch (e.type) {
    case 'order.created':
      return `Order ${e.data.id} from ${e.data.customer}: ${e.data.total.toFixed(2)} €`;
    case 'order.updated':
      return `Order ${e.data.id} is ${e.data.status}`;
    case 'metric':
      return `${e.data.name} = ${e.data.value}`;
  }
}

export function App() {
  const [historyLost, setHistoryLost] = useState<string | undefined>();
  const { events, status, role, error } = useSSE<DashboardEvents[keyof DashboardEvents]>({
    url: HUB,
    topics: ['orders', 'metrics'],
    token: getToken,
    events: EVENT_TYPES,
    enableCache: true,
    shareAcrossTabs: true,
    cache: { storageKey: 'react-dashboard', ttlMs: 3600_000, maxPerType: 200, maxTotal: 600 },
    onHistoryLost: ({ lastEventId }) => setHistoryLost(lastEventId), // reload your state from your API here
  });
  const typed = events as SSEEvent<unknown>[] as DashboardEvent[];
  const orders = useMemo(() => ordersFrom(typed), [typed]);
  const token = useSyncExternalStore(tokenStore.subscribe, tokenStore.get);
  const recent = typed.slice(-12).reverse();

  return (
    <main>
      <header>
        <h1>Orders, live</h1>
        <p className={`status status-${status}`} data-testid="status">
          {status}
        </p>
        <p className="muted" data-testid="role">
          {role === 'leader'
            ? 'this tab holds the stream for every tab'
            : role === 'follower'
              ? 'another tab holds the stream; this one gets its events'
              : 'this tab holds its own stream'}
        </p>
      </header>
      {error && <p className={error.fatal ? 'banner banner-error' : 'banner'}>{`${error.name}: ${error.message}`}</p>}
      {historyLost && (
        <p className="banner" data-testid="history-lost">
          The hub no longer has the events after {historyLost}; a real app reloads its state from its API now.
        </p>
      )}
      <section className="cards">
        <div className="card">
          <span>Orders</span>
          <strong>{orders.length}</strong>
        </div>
        <div className="card">
          <span>Checkout latency</span>
          <strong>{formatMs(latestMetric(typed, 'checkout.latency_ms'))}</strong>
        </div>
        <div className="card">
          <span>Open carts</span>
          <strong>{latestMetric(typed, 'carts.open') ?? '–'}</strong>
        </div>
        <div className="card">
          <span>Token</span>
          <strong data-testid="token-fetches">{token.fetched}×</strong>
          <small>
            {token.expiresAt ? `expires ${new Date(token.expiresAt).toLocaleTimeString()}` : 'none yet'}
            {token.lastReason ? ` · last: ${token.lastReason}` : ''}
          </small>
        </div>
      </section>
      <section className="columns">
        <div>
          <h2>Orders</h2>
          <table>
            <thead>
              <tr>
                <th>id</th>
                <th>customer</th>
                <th>total</th>
                <th>status</th>
              </tr>
            </thead>
            <tbody data-testid="orders">
              {orders.slice(0, 15).map((o) => (
                <tr key={o.id}>
                  <td>{o.id}</td>
                  <td>{o.customer}</td>
                  <td>{o.total.toFixed(2)} €</td>
                  <td>{o.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h2>Latest events</h2>
          <ol className="events" data-testid="events">
            {recent.map((e) => (
              <li key={e.id}>
                <code>{e.id}</code> {describe(e)}
              </li>
            ))}
          </ol>
        </div>
      </section>
    </main>
  );
}
