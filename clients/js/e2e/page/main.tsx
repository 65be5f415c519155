// SPDX-License-Identifier: MIT
// E2E test page: useSSE with the cache, rendering every event it holds and every error it reported.
// Query: ?hub=<url>&topic=<t>[&backoffMs=<n>][&store=<cache key>][&share=0][&tokenUrl=<url>].
// tokenUrl: `token` is a function that fetches a fresh token from that URL (token refresh).
import { createRoot } from 'react-dom/client';
import { StrictMode, useEffect, useState } from 'react';
import { useSSE } from '../../src/react/index.js';
import type { TokenRequest } from '../../src/index.js';

const q = new URLSearchParams(location.search);
const hub = q.get('hub') ?? '';
const topic = q.get('topic') ?? 't';
// ?backoffMs=<n>: small jitter ceilings, so a test can tell "waited for Retry-After" from luck.
const backoffMs = Number(q.get('backoffMs')) || undefined;
const store = q.get('store') ?? 'e2e';
const share = q.get('share') !== '0';
const tokenUrl = q.get('tokenUrl');
// Like an app's auth layer: keeps its token until the client asks for a refresh.
let cached: string | null = null;
let tokenFetches = 0;
const token = tokenUrl
  ? async (request: TokenRequest) => {
      if (cached && !request.refresh) return cached;
      tokenFetches++;
      document.body.dataset.tokenFetches = String(tokenFetches);
      const r = await fetch(tokenUrl, { cache: 'no-store' });
      cached = r.ok ? (await r.text()).trim() : null;
      return cached;
    }
  : undefined;

function App() {
  const { events, status, error, role } = useSSE<{ n: number }>({
    url: hub,
    topics: [topic],
    ...(token && { token }),
    shareAcrossTabs: share,
    enableCache: true,
    ...(backoffMs && { backoff: { initialMs: backoffMs, maxMs: 4 * backoffMs } }),
    cache: { storageKey: store, maxPerType: 10_000, maxTotal: 10_000 },
  });
  // Every error the hook reported, in order (the `error` field alone is cleared on reopen).
  const [errorLog, setErrorLog] = useState<string[]>([]);
  useEffect(() => {
    if (error) setErrorLog((l) => [...l, `${Math.round(performance.timeOrigin + performance.now())} ${error.message}`]);
  }, [error]);
  return (
    <main>
      <p data-testid="status">{status}</p>
      <p data-testid="role">{role}</p>
      <p data-testid="error">{error ? `${error.name}: ${error.message}` : ''}</p>
      <ol data-testid="error-log">
        {errorLog.map((line, i) => (
          <li key={i}>{line}</li>
        ))}
      </ol>
      <ol data-testid="events">
        {events.map((e) => (
          <li key={e.id} data-id={e.id} data-n={e.data.n}>
            {e.id} {e.type} {JSON.stringify(e.data)}
          </li>
        ))}
      </ol>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
