// SPDX-License-Identifier: MIT
// `@ssecast/client`: framework-free parts. React bindings live in `@ssecast/client/react`.
export { SSEClient, type EventMap } from './client.js';
export { EventCache, isQuotaExceededError, type EventCacheOptions, type StorageLike } from './cache.js';
export { backoffCeiling, fullJitter, parseRetryAfter, reconnectDelay, DEFAULT_BACKOFF } from './backoff.js';
export { browserTabShareEnv, type BroadcastChannelLike, type LockManagerLike, type TabShareEnv } from './tab-share.js';
export { compareEventIds, maxEventId, parseEventId } from './event-id.js';
export {
  SSEError,
  SSEHttpError,
  SSEAuthError,
  SSENetworkError,
  SSEProtocolError,
  SSETokenError,
  type HubErrorBody,
  type TokenFailure,
} from './errors.js';
export {
  HISTORY_LOST_EVENT,
  TOKEN_EXPIRED_EVENT,
  type BackoffOptions,
  type CachedEvent,
  type ConnectionStatus,
  type EventOf,
  type EventSourceCtor,
  type HistoryLostInfo,
  type SSEClientOptions,
  type SSEEvent,
  type TabRole,
  type TimerApi,
  type TokenRequest,
  type TokenSource,
  type Transport,
} from './types.js';
