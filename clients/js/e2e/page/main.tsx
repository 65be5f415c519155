// SPDX-License-Identifier: MIT
// E2E test page: useSSE with the cache, rendering every event it holds. Query: ?hub=<url>&topic=<t>.
import { createRoot } from 'react-dom/client';
import { StrictMode } from 'react';
import { useSSE } from '../../src/react/index.js';

const q = new URLSearchParams(location.search);
const hub = q.get('hub') ?? '';
const topic = q.get('topic') ?? 't';

function App() {
  const { events, status, error } = useSSE<{ n: number }>({
    url: hub,
    topics: [topic],
    enableCache: true,
    cache: { storageKey: 'e2e', maxPerType: 10_000, maxTotal: 10_000 },
  });
  return (
    <main>
      <p data-testid="status">{status}</p>
      <p data-testid="error">{error ? `${error.name}: ${error.message}` : ''}</p>
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
