// SPDX-License-Identifier: MIT
// SSE stream writer: one coroutine per stream, one write in flight, frames shared by pointer.
#include "http/event_stream.hpp"

#include "common/async_bridge.hpp"
#include "http/stream_endings.hpp"
#include "sse/encoder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <memory>

namespace ssecast::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

namespace {

/// Frames gathered into one write: enough to amortise the syscall, small enough to keep
/// latency and the iovec array bounded.
constexpr std::size_t kMaxFramesPerWrite = 64;

/// Retained events one replay page looks at, at most (#12: the work one read may cause;
/// the page's bytes are bounded by a quarter of limits.max_queue_bytes).
constexpr std::size_t kReplayPageScan = 512;

} // namespace

std::string response_head(const Headers& extra) {
    std::string head = "HTTP/1.1 200 OK\r\n"
                       "Content-Type: text/event-stream; charset=utf-8\r\n"
                       "Cache-Control: no-cache, no-store\r\n"
                       "X-Accel-Buffering: no\r\n"
                       "Connection: close\r\n";
    for (const auto& [k, v] : extra) {
        head += k;
        head += ": ";
        head += v;
        head += "\r\n";
    }
    head += "\r\n";
    return head;
}

namespace {

hub::EventPtr history_lost_event(const std::string& last_event_id) {
    boost::json::object data;
    data["lastEventId"] = last_event_id;
    auto e = std::make_shared<hub::Event>();
    e->type = "ssecast.history-lost";
    e->frame = sse::encode_event("", e->type, boost::json::serialize(data));
    e->received_at = std::chrono::steady_clock::now();
    return e;
}

/// A stream over several shards (redis.shards) writes an id line of its own for each event,
/// carrying where it stands on each shard after it, followed by the shared frame after its
/// id line (encode once for the body), so the one Last-Event-ID the browser sends back
/// resumes every shard exactly (sse/shard_positions.hpp).
struct OwnIds {
    /// After the last frame fully written.
    sse::ShardPositions written;
    /// gather()'s scratch: after each frame of the write being built, each frame's id line
    /// and its bytes on the wire; valid until that write's account_written().
    sse::ShardPositions ahead;
    std::array<std::string, kMaxFramesPerWrite> lines;
    std::array<std::size_t, kMaxFramesPerWrite> wire_sizes{};
};

/// State shared between the stream's coroutine and the callbacks that write for it.
struct StreamState : std::enable_shared_from_this<StreamState> {
    StreamState(tcp::socket s, metrics::ShardCounters& c)
        : socket(std::move(s)), counters(c), drained(socket.get_executor()) {}
    tcp::socket socket;
    metrics::ShardCounters& counters;
    hub::Subscriber* sub = nullptr; ///< null once the stream has ended
    bool live = false;              ///< the head is out: write_now() may run
    bool awaiting_writable = false; ///< a wait for socket space is in flight
    std::size_t offset = 0;         ///< bytes of the first pending frame already sent
    /// While replaying: cancelled (woken) when the queue falls to low_water or the stream
    /// closes, so the replay asks for its next page as the socket takes the last one.
    net::steady_timer drained;
    std::size_t low_water = 0; ///< 0 = not replaying
    /// Null for a stream on one shard (so an idle stream holds none of it).
    std::unique_ptr<OwnIds> own_ids;
};

void wake_replay(StreamState& st) {
    if (st.low_water != 0 && (st.sub == nullptr || st.sub->closed() || st.sub->ending() ||
                              st.sub->queued_bytes() <= st.low_water)) {
        st.drained.cancel();
    }
}

/// The heartbeat as a queued frame, so it goes through the same partial-write bookkeeping
/// as events (half a heartbeat followed by an event would turn the event into a comment).
/// A zero received_at marks it as not an event for the latency histogram.
const hub::EventPtr& heartbeat_frame() {
    static const hub::EventPtr frame = [] {
        auto e = std::make_shared<hub::Event>();
        e->frame = std::string(sse::kHeartbeat);
        return e;
    }();
    return frame;
}

/// Accounts for `n` bytes sent from the front of the queue (as the last gather() laid them
/// out): whole frames are consumed (and their publish→write latency observed), a partly
/// sent frame is remembered by offset.
void account_written(StreamState& st, std::size_t n) {
    auto& c = st.counters;
    c.add(c.bytes_written, n);
    const auto now = std::chrono::steady_clock::now();
    st.sub->last_write = now;
    const auto pending = st.sub->pending();
    const std::size_t gathered = std::min(pending.size(), kMaxFramesPerWrite);
    std::size_t done = 0;
    std::size_t left = n + st.offset;
    const auto wire_size = [&](std::size_t i) {
        return st.own_ids ? st.own_ids->wire_sizes[i] : pending[i]->frame.size();
    };
    while (done < gathered && left >= wire_size(done)) {
        left -= wire_size(done);
        const auto& frame = *pending[done];
        if (frame.received_at != std::chrono::steady_clock::time_point{}) {
            c.observe_latency(now - frame.received_at);
        }
        if (st.own_ids && sse::id_line_size(frame.frame) > 0) {
            st.own_ids->written.set(frame.shard, frame.id);
        }
        ++done;
    }
    st.offset = left;
    st.sub->consumed(done);
    wake_replay(st);
}

/// At most two pieces per frame: a stream over several shards writes its own id line.
constexpr std::size_t kMaxPiecesPerWrite = 2 * kMaxFramesPerWrite;

/// Fills `iov` with up to kMaxFramesPerWrite pending frames (the first one from `offset`);
/// returns how many pieces (OwnIds: an event is its own id line, then the rest of its frame).
std::size_t gather(StreamState& st, iovec* out) {
    const auto pending = st.sub->pending();
    const std::size_t count = std::min(pending.size(), kMaxFramesPerWrite);
    std::size_t pieces = 0;
    std::size_t skip = st.offset;
    const auto add = [&](std::string_view piece) {
        if (skip >= piece.size()) {
            skip -= piece.size();
            return;
        }
        out[pieces++] = iovec{const_cast<char*>(piece.data()) + skip, piece.size() - skip};
        skip = 0;
    };
    if (!st.own_ids) {
        for (std::size_t i = 0; i < count; ++i) {
            add(pending[i]->frame);
        }
        return pieces;
    }
    auto& own = *st.own_ids;
    own.ahead = own.written;
    for (std::size_t i = 0; i < count; ++i) {
        const hub::Event& e = *pending[i];
        const std::string_view frame = e.frame;
        const std::size_t id_line = sse::id_line_size(frame);
        if (id_line == 0) { // not an event: heartbeat, history-lost, a closing notice
            own.wire_sizes[i] = frame.size();
            add(frame);
            continue;
        }
        own.ahead.set(e.shard, e.id);
        auto& line = own.lines[i];
        line.assign("id: ");
        own.ahead.append_to(line);
        line += '\n';
        own.wire_sizes[i] = line.size() + frame.size() - id_line;
        add(line);
        add(frame.substr(id_line));
    }
    return pieces;
}

void write_now(StreamState& st);

/// Frames are left that the kernel would not take: wait (once) for socket space, then
/// write on. The shard's sweep cuts the stream if no byte is taken for too long.
void await_writable(StreamState& st) {
    if (st.awaiting_writable) {
        return;
    }
    st.awaiting_writable = true;
    st.socket.async_wait(tcp::socket::wait_write,
                         [self = st.shared_from_this()](boost::system::error_code ec) {
                             self->awaiting_writable = false;
                             if (!ec && self->sub != nullptr && !self->sub->closed()) {
                                 write_now(*self);
                             }
                         });
}

/// The write path (STYLE habit 2: one write in flight, no copy): the pending frames go out
/// straight from the dispatch handler with non-blocking sendmsg calls, gathered up to
/// kMaxFramesPerWrite per call. No scheduler round trip, no timer, no coroutine resume per
/// delivery; only a full socket buffer costs an asynchronous wait.
void write_now(StreamState& st) {
    while (st.sub != nullptr && !st.sub->closed() && !st.sub->pending().empty()) {
        std::array<iovec, kMaxPiecesPerWrite> iov{};
        msghdr msg{};
        msg.msg_iov = iov.data();
        msg.msg_iovlen = gather(st, iov.data());
        const ssize_t n = ::sendmsg(st.socket.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (st.sub->write_started == std::chrono::steady_clock::time_point{}) {
                st.sub->write_started = std::chrono::steady_clock::now();
            }
            await_writable(st);
            return;
        }
        if (n < 0 && errno != EINTR) {
            st.sub->close(errc::ok); // the peer is gone (reset, or TCP_USER_TIMEOUT)
            return;
        }
        if (n > 0) {
            // Progress: "stuck" means no byte taken for a while, not a queue that is never
            // quite empty (a fast stream read just in time keeps the socket full).
            st.sub->write_started = {};
            account_written(st, static_cast<std::size_t>(n));
        }
    }
    if (st.sub != nullptr) {
        st.sub->write_started = {};
        // A finished stream (expired token, admin disconnect) closes once its last frame
        // is out.
        if (st.sub->ending() && !st.sub->closed() && st.sub->pending().empty()) {
            st.sub->close(st.sub->end_reason());
        }
    }
}

/// The subscriber's wake callback: closing → end the coroutine's wait; new frames → write.
void on_wake(StreamState& st) {
    if (st.sub == nullptr) {
        return;
    }
    if (st.sub->closed()) {
        boost::system::error_code ignored;
        st.socket.cancel(ignored); // ends the coroutine's wait and any wait for space
        wake_replay(st);
        return;
    }
    if (st.live && !st.awaiting_writable) {
        write_now(st);
    }
}

} // namespace

void sweep_streams(hub::Shard& shard, std::chrono::steady_clock::duration heartbeat,
                   std::chrono::steady_clock::duration stuck_after) {
    const auto now = std::chrono::steady_clock::now();
    const auto wall = std::chrono::system_clock::now();
    std::vector<hub::Subscriber*> stuck;
    std::vector<hub::Subscriber*> idle;
    std::vector<hub::Subscriber*> expired;
    shard.hub().for_each([&](hub::Subscriber& s) {
        // SPEC §Expiry on open streams: found here, in the pass the sweep makes anyway, so
        // expiry costs no timer per stream; the offer-time check keeps later events out
        // between exp and this pass.
        if (s.expires_at() && wall >= *s.expires_at() && !s.ending()) {
            expired.push_back(&s);
        }
        if (s.write_started != std::chrono::steady_clock::time_point{} &&
            now - s.write_started > stuck_after) {
            stuck.push_back(&s);
        } else if (s.last_write != std::chrono::steady_clock::time_point{} &&
                   now - s.last_write >= heartbeat) {
            idle.push_back(&s);
        }
    });
    for (auto* s : expired) {
        s->finish(token_expired_frame(), errc::unauthorized);
    }
    shard.counters().add(shard.counters().expired, expired.size());
    for (auto* s : stuck) {
        spdlog::warn("cutting stream of {}: a write has been stuck for over {}s", s->user_id(),
                     std::chrono::duration_cast<std::chrono::seconds>(stuck_after).count());
        shard.counters().add(shard.counters().dropped);
        s->close(errc::slow_consumer);
    }
    // Waking may write and close a stream, never remove it from the hub: the pointers hold.
    for (auto* s : idle) {
        s->push_heartbeat(heartbeat_frame());
    }
}

namespace {

/// Where a resume stands on one shard's history.
struct ShardCursor {
    history::ReplayQuery q; ///< q.shard; q.after: where its next page starts
    bool caught_up = false; ///< a page read that began at `caught_up_at` reached the end
    std::uint64_t caught_up_at = 0;
};

/// SPEC §Resume, paged (#12): reads history a page at a time, each page only once the queue
/// has drained to a quarter of limits.max_queue_bytes (backpressure from the socket), so a
/// backlog of any length that history still holds goes out while queue + held live events
/// stay within max_queue_bytes. A stream over several shards pages through each shard's
/// history from its own position (one page budget shared by all; admission gave it a
/// position on every shard: start_positions). The first page of every shard is read
/// before anything is queued, so history-lost comes first.
/// Ends the handoff once, for every shard, a page read that began after the last
/// held-event drop reached the end of history. Closes the stream when history is
/// unreadable (the client resumes later from the same id) or moved past the replay (it
/// resumes and is told history-lost). The caller owns `st` and `req` and awaits this.
net::awaitable<void> replay_backlog(StreamState& st, const SubscribeRequest& req,
                                    const std::vector<std::uint16_t>& shards,
                                    std::size_t max_queue_bytes, broker::Broker& broker) {
    auto& sub = *st.sub;
    const std::size_t quarter = std::max<std::size_t>(max_queue_bytes / 4, 1);
    const std::size_t page_bytes = std::max<std::size_t>(quarter / shards.size(), 1);
    std::vector<ShardCursor> cursors;
    for (const auto shard : shards) {
        std::optional<sse::EventId> at;
        if (req.resume_positions) {
            at = req.resume_positions->at(shard);
        } else if (shards.size() == 1) {
            at = req.resume_from;
        }
        if (!at && shards.size() == 1) { // the id is no position on the stream's shard
            sub.push_control(history_lost_event(*req.last_event_id));
            sub.finish_handoff(); // nothing to read: every held live event is new to it
            co_return;
        }
        if (!at) { // admission gives every shard a position: not reached
            sub.close(errc::backend_unavailable);
            co_return;
        }
        ShardCursor c{{*at, sub.patterns(), kReplayPageScan, page_bytes}};
        c.q.shard = shard;
        cursors.push_back(std::move(c));
    }
    bool lost = req.positions_filled_in;
    if (shards.size() > 1) {
        st.own_ids = std::make_unique<OwnIds>();
    }
    st.low_water = quarter;
    // A finished stream (expired, disconnected) replays no further.
    const auto over = [&sub] { return sub.closed() || sub.ending(); };
    const auto read = [&](ShardCursor& c) {
        return await_callback<result<history::Replay>>(
            [&](auto done) { broker.replay(c.q, std::move(done)); });
    };
    const auto unreadable = [&](const result<history::Replay>& page) {
        // History unreadable (Redis down): end the stream; the client retries and resumes
        // from the same id later, so nothing is lost.
        sub.close(page.error() == errc::timeout ? errc::timeout : errc::backend_unavailable);
    };
    const auto take = [&](ShardCursor& c, const history::Replay& page, std::uint64_t drops) {
        sub.push_replay(page.events, page.next_after, c.q.shard);
        c.q.after = page.next_after;
        if (!page.more) {
            c.caught_up = true;
            c.caught_up_at = drops;
        }
    };

    // The first page of every shard, before anything is queued.
    const auto drops_before = sub.held_drops();
    std::vector<history::Replay> first_pages;
    for (auto& c : cursors) {
        auto page = co_await read(c);
        if (over()) {
            co_return;
        }
        if (!page) {
            unreadable(page);
            co_return;
        }
        if (page->lost) {
            lost = true;
            // Per-topic history: a later page may still start below this gap (another
            // topic's events come first); that is this loss again, not a new one.
            c.q.lost_reported_through = page->lost_through;
        }
        if (st.own_ids) {
            st.own_ids->written.set(c.q.shard, c.q.after);
        }
        first_pages.push_back(std::move(*page));
    }
    if (lost) {
        sub.push_control(history_lost_event(*req.last_event_id));
    }
    for (std::size_t i = 0; i < cursors.size(); ++i) {
        take(cursors[i], first_pages[i], drops_before);
    }
    first_pages.clear();

    while (!over()) {
        const auto behind = std::find_if(cursors.begin(), cursors.end(), [&sub](const auto& c) {
            return !c.caught_up || c.caught_up_at != sub.held_drops();
        });
        if (behind == cursors.end()) {
            sub.finish_handoff();
            break;
        }
        while (!over() && sub.queued_bytes() > quarter) {
            st.drained.expires_at(net::steady_timer::time_point::max());
            co_await st.drained.async_wait(use_nothrow);
        }
        if (over()) {
            break;
        }
        const auto drops = sub.held_drops();
        auto page = co_await read(*behind);
        if (over()) {
            break;
        }
        if (!page) {
            unreadable(page);
            break;
        }
        if (page->lost) {
            spdlog::warn("cutting stream of {}: history moved past its replay (it can resume)",
                         sub.user_id());
            st.counters.add(st.counters.dropped);
            sub.close(errc::slow_consumer);
            break;
        }
        take(*behind, *page, drops);
    }
    st.low_water = 0;
}

} // namespace

net::awaitable<void> stream_events(tcp::socket socket, SubscribeRequest req, StreamSlot slot,
                                   Headers extra, const config::Config& cfg, broker::Broker& broker,
                                   hub::Shard& shard) {
    auto& counters = shard.counters();
    auto st = std::make_shared<StreamState>(std::move(socket), counters);
    st->socket.non_blocking(true);
    {
        // A vanished peer (half-open: no FIN, no RST) leaves heartbeat bytes unacknowledged;
        // after this long the kernel fails the connection and the next write ends the
        // stream, instead of TCP retransmitting for ~15 minutes.
        const auto timeout =
            std::max<std::chrono::milliseconds>(std::chrono::seconds(30), 3 * cfg.sse.heartbeat);
        const unsigned ms = static_cast<unsigned>(timeout.count());
        ::setsockopt(st->socket.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
    }

    // A raw pointer is enough (and keeps std::function from allocating): the subscriber
    // lives in this frame, and st outlives the frame.
    hub::Subscriber sub(req.who.user_id, std::move(req.patterns), cfg.limits.max_queue_bytes,
                        [st_raw = st.get()]() { on_wake(*st_raw); });
    st->sub = &sub;
    sub.set_expiry(req.who.expires_at);
    sub.connection_id = slot.connection_id();
    // SPEC §Resume: register first, then read history, so nothing falls in between. A
    // stream over several shards always starts this way: it needs a position on each.
    const auto shards = broker.shards_of(sub.patterns());
    const bool handoff = req.last_event_id.has_value() || shards.size() > 1;
    if (handoff) {
        sub.begin_handoff();
    }
    shard.hub().add(&sub);
    counters.add(counters.connections);
    counters.add(counters.connects);
    // Counted in the registry and open_streams by admit_stream; given back below.

    std::string head = response_head(extra) + sse::encode_retry(cfg.sse.retry);
    auto [hec, hn] = co_await net::async_write(st->socket, net::buffer(head), use_nothrow);
    counters.add(counters.bytes_written, hn);

    st->live = !hec; // replay frames go out as the socket takes them
    if (!hec && handoff) {
        co_await replay_backlog(*st, req, shards, cfg.limits.max_queue_bytes, broker);
    }

    // Idle streams are the common case: keep nothing in this frame that only set-up needed.
    std::string().swap(head);
    Headers().swap(extra);
    req = SubscribeRequest();

    // Live: from here on frames are written by write_now() from the dispatch handler and
    // heartbeats come from the shard's sweep (sweep_streams). This coroutine only watches
    // the read side: an SSE client never sends after its request, so readability means EOF
    // or reset (or junk we discard). The wait also ends when the subscriber closes
    // (on_wake cancels it).
    sub.last_write = std::chrono::steady_clock::now();
    if (!hec) {
        write_now(*st);
    }
    while (!hec && !sub.closed()) {
        auto [ec] = co_await st->socket.async_wait(tcp::socket::wait_read, use_nothrow);
        if (ec || sub.closed()) {
            break;
        }
        std::array<char, 512> sink{};
        boost::system::error_code rec;
        const std::size_t n = st->socket.read_some(net::buffer(sink), rec);
        if (rec != net::error::would_block && (rec || n == 0)) {
            sub.close(errc::ok);
        }
    }
    if (sub.close_reason() == errc::slow_consumer) {
        spdlog::warn("closed slow stream of {}: outgoing queue over {} bytes (it can resume)",
                     sub.user_id(), cfg.limits.max_queue_bytes);
    }
    shard.hub().remove(&sub);
    broker.unwatch(sub.patterns());
    st->sub = nullptr;
    counters.add(counters.connections, static_cast<std::uint64_t>(-1));
    counters.add(counters.disconnects);
    slot.release();
    boost::system::error_code ignored;
    st->socket.cancel(ignored);
    st->socket.shutdown(tcp::socket::shutdown_both, ignored);
    st->socket.close(ignored);
}

} // namespace ssecast::http
