// SPDX-License-Identifier: MIT
// Unit-test doubles: a fetch whose responses are scripted streams, and manual timers.
import type { TimerApi } from '../types.js';

export interface FakeStream {
  push(text: string): void;
  end(): void;
  fail(err?: unknown): void;
}

export interface FakeCall {
  url: string;
  headers: Record<string, string>;
  signal: AbortSignal | undefined;
  method: string;
  body: string | undefined;
}

type Scripted = (call: FakeCall) => Response | Promise<Response>;

/** A fetch that answers each call with the next scripted response; records calls. */
export function fakeFetch(...script: Scripted[]) {
  const calls: FakeCall[] = [];
  let i = 0;
  const impl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const call: FakeCall = {
      url: String(input),
      headers: { ...(init?.headers as Record<string, string> | undefined) },
      signal: init?.signal ?? undefined,
      method: init?.method ?? 'GET',
      body: typeof init?.body === 'string' ? init.body : undefined,
    };
    calls.push(call);
    const next = script[Math.min(i++, script.length - 1)];
    if (!next) throw new TypeError('fake fetch: no script');
    return next(call);
  }) as typeof fetch;
  return { fetch: impl, calls };
}

/** A 200 text/event-stream response whose body the test writes; aborting the request errors it. */
export function sseResponse(call: FakeCall, headers: Record<string, string> = {}): { response: Response; stream: FakeStream } {
  const enc = new TextEncoder();
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctrl = c) });
  let done = false;
  const stream: FakeStream = {
    push: (t) => !done && ctrl.enqueue(enc.encode(t)),
    end: () => {
      if (!done) ((done = true), ctrl.close());
    },
    fail: (e = new Error('reset')) => {
      if (!done) ((done = true), ctrl.error(e));
    },
  };
  call.signal?.addEventListener('abort', () => stream.fail(new DOMException('aborted', 'AbortError')));
  return {
    response: new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream; charset=utf-8', ...headers } }),
    stream,
  };
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

/** Timers that only fire when the test says so; records requested delays. */
export function manualTimers() {
  let next = 1;
  const pending = new Map<number, { fn: () => void; ms: number }>();
  const delays: number[] = [];
  const api: TimerApi = {
    setTimeout: (fn, ms) => {
      const id = next++;
      pending.set(id, { fn, ms });
      delays.push(ms);
      return id;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  return {
    api,
    delays,
    pending,
    /** Fires every pending timer whose delay is >= minMs (idle watchdogs use large delays). */
    fire(filter: (ms: number) => boolean = () => true) {
      for (const [id, t] of [...pending]) {
        if (!filter(t.ms)) continue;
        pending.delete(id);
        t.fn();
      }
    },
  };
}

/** Lets queued microtasks and promise chains run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setTimeout(r, 0));
}
