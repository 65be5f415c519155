// SPDX-License-Identifier: MIT
// `@ssecast/client/react`: the useSSE hook and the SSEMonitor admin component. The monitor's
// parts (charts, styles, the feed hook) are internals, not API (issue #14).
export { useSSE, type UseSSEOptions, type UseSSEResult, type UseSSECacheOptions } from './use-sse.js';
export { SSEMonitor, type SSEMonitorProps } from './sse-monitor.js';
