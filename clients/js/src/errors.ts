// SPDX-License-Identifier: MIT
// Typed errors reported by SSEClient. Only SSEAuthError (401/403) and non-retryable 4xx stop the client.

/** JSON error body of ssecast (`{"error": "<code>", "message": "..."}`), when present. */
export interface HubErrorBody {
  error?: string;
  message?: string;
}

/** Base class: every error the client reports is an SSEError. */
export class SSEError extends Error {
  override name = 'SSEError';
  /** True when the client gave up and moved to `closed`. */
  readonly fatal: boolean;
  constructor(message: string, fatal: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.fatal = fatal;
  }
}

/** The hub answered with a non-200 status. */
export class SSEHttpError extends SSEError {
  override name = 'SSEHttpError';
  readonly status: number;
  readonly body: HubErrorBody | undefined;
  /** Parsed `Retry-After`, ms, for 429/503. */
  readonly retryAfterMs: number | undefined;
  constructor(status: number, body: HubErrorBody | undefined, fatal: boolean, retryAfterMs?: number) {
    super(`ssecast answered ${status}${body?.error ? ` ${body.error}` : ''}${body?.message ? `: ${body.message}` : ''}`, fatal);
    this.status = status;
    this.body = body;
    this.retryAfterMs = retryAfterMs;
  }
}

/** 401 (missing/invalid token) or 403 (topic not allowed): retrying cannot help, so the client stops. */
export class SSEAuthError extends SSEHttpError {
  override name = 'SSEAuthError';
  constructor(status: 401 | 403, body: HubErrorBody | undefined) {
    super(status, body, true);
  }
}

/** Why a token could not be had: see {@link SSETokenError}. */
export type TokenFailure = 'threw' | 'empty' | 'static' | 'repeated';

/**
 * The client needed a (new) token and could not get one, so it stopped (`fatal`):
 * `threw` — the token function threw or rejected (`cause` holds what it threw);
 * `empty` — asked to refresh (after `ssecast.token-expired` or a 401), it returned no token;
 * `static` — the token expired and `token` is a string, which cannot be refreshed;
 * `repeated` — the hub keeps ending streams with `ssecast.token-expired` right after a refresh.
 */
export class SSETokenError extends SSEError {
  override name = 'SSETokenError';
  readonly reason: TokenFailure;
  constructor(reason: TokenFailure, message: string, cause?: unknown) {
    super(message, true, cause === undefined ? undefined : { cause });
    this.reason = reason;
  }
}

/** fetch failed (DNS, refused, reset, CORS) or the stream broke; the client retries. */
export class SSENetworkError extends SSEError {
  override name = 'SSENetworkError';
  constructor(message: string, cause?: unknown) {
    super(message, false, { cause });
  }
}

/** A 200 that is not `text/event-stream`, or no readable body; the client retries. */
export class SSEProtocolError extends SSEError {
  override name = 'SSEProtocolError';
  constructor(message: string) {
    super(message, false);
  }
}
