// SPDX-License-Identifier: MIT
// One SSEClient's membership in a share group (SPEC §Client package, "one stream for all tabs"):
// the leader relays its stream; followers deliver the relays; every member drops ids it already
// delivered, remembers recent events for joining tabs, and mirrors the leader's status/errors.
import { compareEventIds, parseEventId } from './event-id.js';
import { SSEAuthError, SSEError, SSEHttpError, SSENetworkError, SSEProtocolError, SSETokenError } from './errors.js';
import { TabLink, type RelayedError, type RelayedEvent, type TabMessage, type TabShareEnv } from './tab-share.js';
import type { ConnectionStatus, TabRole, TimerApi } from './types.js';

/** Events every member remembers, to answer a joining tab and to drop replayed duplicates... */
const RING_SIZE = 1000;
/** ...and at most this much data (UTF-16 code units), so big events cannot pile up. */
const RING_MAX_CHARS = 1 << 20;
/** A joining tab holds live relays this long waiting for the leader's catch-up, ms. */
const CATCHUP_WAIT_MS = 300;

/** What the group needs from its SSEClient. All calls are synchronous, on the page's thread. */
export interface ShareHost {
  /** The client's resume point: the leader's stream position, a follower's newest delivered id. */
  lastEventId(): string | undefined;
  setLastEventId(id: string): void;
  status(): ConnectionStatus;
  /** Whether the client's transport can restart from an older id (fetch can, EventSource not). */
  canRewind(): boolean;
  setStatus(status: ConnectionStatus): void;
  setRole(role: TabRole): void;
  /** Hands one event to the client's listeners (already deduplicated here). */
  dispatch(raw: RelayedEvent): void;
  /** Reports an error to the client's listeners only (not relayed again). */
  report(error: SSEError): void;
  close(): void;
  /** This tab is the leader now: open the stream (from lastEventId()). */
  startStream(): void;
  /** Leader: restart the stream at once from `id`, which is older than the current position. */
  rewindTo(id: string): void;
}

/**
 * Membership of one client in one share group (one lock + one channel, see TabLink).
 *
 * Guarantees, per member: every event is delivered at most once (by id: a recent-id set, and
 * for `<ms>-<seq>` ids the order, since one stream's ids increase), in the order the leader's
 * stream had; a member that joins with a resume id gets what it missed (catch-up from the
 * leader's memory, or a rewind of the leader's stream); status and errors of the leader are
 * every member's. `close()` is final and posts `bye` when leading.
 */
export class ShareGroup {
  readonly #host: ShareHost;
  readonly #timers: TimerApi;
  readonly #link: TabLink;
  #role: TabRole = 'follower';
  #closed = false;
  /** Recently delivered events (raw), oldest first; holds every event after #ringBase. */
  #ring: RelayedEvent[] = [];
  #ringChars = 0;
  #ringBase: string | undefined;
  /** Newest well-formed id delivered, and recent ids: replays are dropped. */
  #highest: string | undefined;
  readonly #recentIds = new Set<string>();
  /** Live relays held back until the leader's catch-up arrives (undefined = not waiting). */
  #pending: RelayedEvent[] | undefined;
  #pendingTimer: unknown;

  constructor(env: TabShareEnv, name: string, host: ShareHost, timers: TimerApi) {
    this.#host = host;
    this.#timers = timers;
    this.#ringBase = host.lastEventId();
    // Events up to the resume point count as delivered: a rewind's replay must not repeat them.
    if (this.#ringBase && parseEventId(this.#ringBase)) this.#highest = this.#ringBase;
    this.#link = new TabLink(env, name, { onLeader: () => this.#becomeLeader(), onMessage: (m) => this.#onMessage(m) });
  }

  get isLeader(): boolean {
    return this.#role === 'leader';
  }

  /** Joins as a follower and queues for the lock. */
  start(): void {
    this.#host.setRole('follower');
    this.#link.start();
    this.#sayHello();
  }

  /** Leader: an event of its own stream. Relayed as is (replays too), then delivered here. */
  fromStream(raw: RelayedEvent): void {
    if (this.isLeader) this.#post({ t: 'ev', from: this.#link.id, e: raw });
    this.#accept(raw, false);
  }

  /** Leader: its status, for every member. */
  postStatus(status: ConnectionStatus): void {
    if (this.isLeader && status !== 'closed') this.#post({ t: 'status', from: this.#link.id, s: status });
  }

  /** Leader: an error it reports, for every member (rebuilt there as the same class). */
  postError(error: SSEError): void {
    if (this.isLeader) this.#post({ t: 'error', from: this.#link.id, e: relayError(error) });
  }

  /**
   * Whether a `history-lost` for `lostId` concerns this member: not when it already delivered
   * newer events (another tab's rewind asked for the old id; this one lost nothing).
   */
  lostHistory(lostId: string): boolean {
    return !this.#highest || !lostId || compareEventIds(this.#highest, lostId) <= 0;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.isLeader) this.#post({ t: 'bye', from: this.#link.id });
    this.#link.close();
    if (this.#pendingTimer !== undefined) this.#timers.clearTimeout(this.#pendingTimer);
    this.#pendingTimer = undefined;
  }

  #post(m: TabMessage): void {
    this.#link.post(m);
  }

  /**
   * Delivers unless already delivered; a follower's resume point follows what it delivered.
   * `byOrder` false (a catch-up, which holds only events after this member's id) judges by the
   * recent ids alone, so a catch-up that arrives late still delivers what the member missed.
   */
  #accept(raw: RelayedEvent, relayed: boolean, byOrder = true): void {
    if (this.#closed) return;
    if (raw.id) {
      if (byOrder ? this.#seen(raw.id) : this.#recentIds.has(raw.id)) return;
      this.#remember(raw);
      // The resume point never moves back (a late catch-up can deliver an older id).
      if (relayed) this.#host.setLastEventId(parseEventId(raw.id) && this.#highest ? this.#highest : raw.id);
    }
    this.#host.dispatch(raw);
  }

  #seen(id: string): boolean {
    if (this.#recentIds.has(id)) return true;
    // Ids of one stream increase (SPEC §POST /publish); a well-formed id at or below the newest
    // delivered one is a replay. Malformed ids are judged by the recent set alone.
    return !!this.#highest && parseEventId(id) !== null && compareEventIds(id, this.#highest) <= 0;
  }

  #remember(raw: RelayedEvent): void {
    const id = raw.id!;
    this.#recentIds.add(id);
    if (this.#recentIds.size > 4 * RING_SIZE) this.#recentIds.delete(this.#recentIds.values().next().value as string);
    if (parseEventId(id) && (!this.#highest || compareEventIds(id, this.#highest) > 0)) this.#highest = id;
    this.#ring.push(raw);
    this.#ringChars += raw.data.length;
    while (this.#ring.length > RING_SIZE || (this.#ringChars > RING_MAX_CHARS && this.#ring.length > 1)) {
      const old = this.#ring.shift()!;
      this.#ringChars -= old.data.length;
      this.#ringBase = old.id;
    }
  }

  /** Asks the leader for what this member missed after its last id; live relays wait meanwhile. */
  #sayHello(): void {
    if (this.#closed || this.isLeader) return;
    const last = this.#host.lastEventId();
    if (last) {
      this.#pending ??= [];
      if (this.#pendingTimer !== undefined) this.#timers.clearTimeout(this.#pendingTimer);
      this.#pendingTimer = this.#timers.setTimeout(() => this.#flushPending(), CATCHUP_WAIT_MS);
    }
    this.#post(last ? { t: 'hello', from: this.#link.id, lastEventId: last } : { t: 'hello', from: this.#link.id });
  }

  #flushPending(): void {
    if (this.#pendingTimer !== undefined) this.#timers.clearTimeout(this.#pendingTimer);
    this.#pendingTimer = undefined;
    const held = this.#pending ?? [];
    this.#pending = undefined;
    for (const e of held) this.#accept(e, true);
  }

  #becomeLeader(): void {
    if (this.#closed) return;
    this.#flushPending();
    this.#role = 'leader';
    this.#host.setRole('leader');
    this.#post({ t: 'leader', from: this.#link.id });
    this.#host.startStream();
  }

  #onMessage(m: TabMessage): void {
    if (this.#closed) return;
    if (this.isLeader) {
      if (m.t === 'hello') this.#answerHello(m.from, m.lastEventId);
      return; // a leader takes events only from its own stream
    }
    switch (m.t) {
      case 'ev':
        if (this.#pending) this.#pending.push(m.e);
        else this.#accept(m.e, true);
        break;
      case 'catchup':
        // After a rewind the stream replays everything after our id, in order, from here on:
        // the live relays held meanwhile are older or will come again.
        if (m.rewind) this.#pending = [];
        for (const e of m.events) this.#accept(e, true, false);
        this.#flushPending();
        this.#host.setStatus(m.status === 'closed' ? 'reconnecting' : m.status);
        break;
      case 'leader':
        // A new leader (takeover): tell it where this member stands.
        this.#host.setStatus('reconnecting');
        this.#sayHello();
        break;
      case 'status':
        this.#host.setStatus(m.s === 'closed' ? 'reconnecting' : m.s);
        break;
      case 'bye':
        this.#host.setStatus('reconnecting');
        break;
      case 'error': {
        const err = reviveError(m.e);
        this.#host.report(err);
        // Same subscription, same token: the leader's fatal answer is every member's answer.
        if (err.fatal) this.#host.close();
        break;
      }
      case 'hello':
        break;
    }
  }

  /**
   * Leader: sends a joining member every remembered event after its id. When the memory does
   * not reach back that far, the stream itself restarts from the older id (a rewind); the
   * other members drop the replayed events they already have.
   */
  #answerHello(to: string, lastEventId: string | undefined): void {
    let events: RelayedEvent[] = [];
    let rewind = false;
    const position = this.#host.lastEventId();
    if (lastEventId && lastEventId !== position) {
      const at = this.#ring.findIndex((e) => e.id === lastEventId);
      const formed = parseEventId(lastEventId) !== null;
      if (at >= 0) events = this.#ring.slice(at + 1);
      else if (formed && this.#ringBase !== undefined && compareEventIds(lastEventId, this.#ringBase) >= 0) {
        events = this.#ring.filter((e) => !e.id || compareEventIds(e.id, lastEventId) > 0);
      } else if (formed && this.#host.canRewind()) {
        rewind = true;
        // A stream already behind that id (a rewind in progress) still brings all after it.
        if (!position || compareEventIds(lastEventId, position) < 0) this.#host.rewindTo(lastEventId);
      }
    }
    this.#post({ t: 'catchup', from: this.#link.id, to, status: this.#host.status(), events, ...(rewind && { rewind }) });
  }
}

function relayError(e: SSEError): RelayedError {
  const out: RelayedError = { name: e.name, message: e.message, fatal: e.fatal };
  if (e instanceof SSETokenError) out.reason = e.reason;
  if (e instanceof SSEHttpError) {
    out.status = e.status;
    if (e.body) {
      out.body = {
        ...(e.body.error !== undefined && { error: e.body.error }),
        ...(e.body.message !== undefined && { message: e.body.message }),
      };
    }
    if (e.retryAfterMs !== undefined) out.retryAfterMs = e.retryAfterMs;
  }
  return out;
}

/** Rebuilds the typed error a leader reported, so `instanceof` works in every tab. */
function reviveError(e: RelayedError): SSEError {
  switch (e.name) {
    case 'SSEAuthError':
      return new SSEAuthError(e.status === 403 ? 403 : 401, e.body);
    case 'SSEHttpError':
      return new SSEHttpError(e.status ?? 0, e.body, e.fatal, e.retryAfterMs);
    case 'SSENetworkError':
      return new SSENetworkError(e.message);
    case 'SSEProtocolError':
      return new SSEProtocolError(e.message);
    case 'SSETokenError':
      return new SSETokenError((['threw', 'empty', 'static', 'repeated'] as const).find((r) => r === e.reason) ?? 'threw', e.message);
    default:
      return new SSEError(e.message, e.fatal);
  }
}
