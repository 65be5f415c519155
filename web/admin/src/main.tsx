// SPDX-License-Identifier: MIT
// The /admin page: SSEMonitor against the hub that serves it (same origin).
import { SSEMonitor } from '@ssecast/client/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

// ssecast adds this meta tag only when it generated the admin token itself (none configured)
// and only for a visitor on its own machine, like the demo page's publish key.
const suggested = document.querySelector<HTMLMetaElement>('meta[name="ssecast-admin-token"]')?.content || undefined;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SSEMonitor {...(suggested && { suggestedToken: suggested })} />
  </StrictMode>,
);
