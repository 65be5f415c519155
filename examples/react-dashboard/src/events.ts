// SPDX-License-Identifier: MIT
// The typed event map of the dashboard: event type → shape of its data, as the backend
// publishes them (start.mjs plays the backend).
export interface DashboardEvents {
  'order.created': { id: string; customer: string; total: number };
  'order.updated': { id: string; status: 'paid' | 'shipped' | 'delivered' };
  metric: { name: 'checkout.latency_ms' | 'carts.open'; value: number };
}

export const EVENT_TYPES = ['order.created', 'order.updated', 'metric'] as const satisfies readonly (keyof DashboardEvents)[];
