// SPDX-License-Identifier: MIT
// E2E test page: useSSE with the cache, rendering every event it holds and every error it reported.
// Query: ?hub=<url>&topic=<t>[&backoffMs=<n>][&tokenUrl=<url>].
import { createRoot } from 'react-dom/client';
import { StrictMode, useEffect, useState } from 'react';
import { useSSE } from '../../src/react/index.js';

const q = new URLSearchParams(location.search);
const hub = q.get('hub') ?? '';
const topic = q.get('topic') ?? 't';
// ?backoffMs=<n>: small jitter ceilings, so a test can tell "waited for Retry-After" from luck.
const backoffMs = Number(q.get('backoffMs')) || undefined;
// ?tokenUrl=<url>: the token function fetches a fresh (short-lived) token there on every
// connect, as an application's would.
const tokenUrl = q.get('tokenUrl');
const token = tokenUrl ? async () => (await fetch(tokenUrl)).text() : undefined;

function App() {
  const { events, status, error } = useSSE<{ n: number }>({
    url: hub,
    topics: [topic],
    enableCache: true,
    ...(token && { token }),
    ...(backoffMs && { backoff: { initialMs: backoffMs, maxMs: 4 * backoffMs } }),
    cache: { storageKey: 'e2e', maxPerType: 10_000, maxTotal: 10_000 },
  });
  // Every error the hook reported, in order (the `error` field alone is cleared on reopen).
  const [errorLog, setErrorLog] = useState<string[]>([]);
  useEffect(() => {
    if (error) setErrorLog((l) => [...l, `${Math.round(performance.timeOrigin + performance.now())} ${error.message}`]);
  }, [error]);
  return (
    <main>
      <p data-testid="status">{status}</p>
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
