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

/// Accounts for `n` bytes sent from the front of the queue: whole frames are consumed (and
/// their publish→write latency observed), a partly sent frame is remembered by offset.
void account_written(StreamState& st, std::size_t n) {
    auto& c = st.counters;
    c.add(c.bytes_written, n);
    const auto now = std::chrono::steady_clock::now();
    st.sub->last_write = now;
    const auto pending = st.sub->pending();
    std::size_t done = 0;
    std::size_t left = n + st.offset;
    while (done < pending.size() && left >= pending[done]->frame.size()) {
        left -= pending[done]->frame.size();
        if (pending[done]->received_at != std::chrono::steady_clock::time_point{}) {
            c.observe_latency(now - pending[done]->received_at);
        }
        ++done;
    }
    st.offset = left;
    st.sub->consumed(done);
    wake_replay(st);
}

/// Fills `iov` with up to kMaxFramesPerWrite pending frames (the first one from `offset`);
/// returns how many.
std::size_t gather(const StreamState& st, iovec* out) {
    const auto pending = st.sub->pending();
    const std::size_t count = std::min(pending.size(), kMaxFramesPerWrite);
    for (std::size_t i = 0; i < count; ++i) {
        const std::string& f = pending[i]->frame;
        const std::size_t skip = i == 0 ? st.offset : 0;
        out[i] = iovec{const_cast<char*>(f.data()) + skip, f.size() - skip};
    }
    return count;
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
        std::array<iovec, kMaxFramesPerWrite> iov{};
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

/// SPEC §Resume, paged (#12): reads history a page at a time, each page only once the queue
/// has drained to a quarter of limits.max_queue_bytes (backpressure from the socket), so a
/// backlog of any length that history still holds goes out while queue + held live events
/// stay within max_queue_bytes. Ends the handoff once a page read that began after the last
/// held-event drop reaches the end of history. Closes the stream when history is unreadable
/// (the client resumes later from the same id) or moved past the replay (it resumes and is
/// told history-lost). The caller owns `st` and `req` and awaits this directly.
net::awaitable<void> replay_backlog(StreamState& st, const SubscribeRequest& req,
                                    std::size_t max_queue_bytes, broker::Broker& broker) {
    auto& sub = *st.sub;
    const std::size_t quarter = std::max<std::size_t>(max_queue_bytes / 4, 1);
    history::ReplayQuery q{*req.resume_from, sub.patterns(), kReplayPageScan, quarter};
    st.low_water = quarter;
    // A finished stream (expired, disconnected) replays no further.
    const auto over = [&sub] { return sub.closed() || sub.ending(); };
    for (bool first = true; !over(); first = false) {
        while (!over() && sub.queued_bytes() > quarter) {
            st.drained.expires_at(net::steady_timer::time_point::max());
            co_await st.drained.async_wait(use_nothrow);
        }
        if (over()) {
            break;
        }
        const auto drops = sub.held_drops();
        auto page = co_await await_callback<result<history::Replay>>(
            [&](auto done) { broker.replay(q, std::move(done)); });
        if (over()) {
            break;
        }
        if (!page) {
            // History unreadable (Redis down): end the stream; the client retries and
            // resumes from the same id later, so nothing is lost.
            sub.close(page.error() == errc::timeout ? errc::timeout : errc::backend_unavailable);
            break;
        }
        if (page->lost && !first) {
            spdlog::warn("cutting stream of {}: history moved past its replay (it can resume)",
                         sub.user_id());
            st.counters.add(st.counters.dropped);
            sub.close(errc::slow_consumer);
            break;
        }
        if (page->lost) {
            sub.push_control(history_lost_event(*req.last_event_id));
            // Per-topic history: a later page may still start below this gap (another
            // topic's events come first); that is this loss again, not a new one.
            q.lost_reported_through = page->lost_through;
        }
        sub.push_replay(page->events, page->next_after);
        if (!page->more && sub.held_drops() == drops) {
            sub.finish_handoff();
            break;
        }
        q.after = page->next_after;
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
    // SPEC §Resume: register first, then read history, so nothing falls in between.
    const bool resuming = req.last_event_id.has_value();
    if (resuming) {
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
    if (!hec && resuming) {
        if (!req.resume_from) {
            sub.push_control(history_lost_event(*req.last_event_id));
            sub.finish_handoff();
        } else {
            co_await replay_backlog(*st, req, cfg.limits.max_queue_bytes, broker);
        }
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
