// SPDX-License-Identifier: MIT
// The /admin page: SSEMonitor against the hub that serves it (same origin).
import { SSEMonitor } from '@ssecast/client/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SSEMonitor />
  </StrictMode>,
);
