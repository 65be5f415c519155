// SPDX-License-Identifier: MIT
// `@ssecast/client/react`: the useSSE hook and the SSEMonitor admin component.
export { useSSE, type UseSSEOptions, type UseSSEResult, type UseSSECacheOptions } from './use-sse.js';
export { SSEMonitor, type SSEMonitorProps } from './sse-monitor.js';
export { LineChart, type LineChartProps, type ChartSeries } from './line-chart.js';
export { readMonitorStats, addSample, type MonitorStats, type Sample } from './monitor-types.js';
export { SSE_MONITOR_CSS } from './sse-monitor-styles.js';
