// SPDX-License-Identifier: MIT
// SSE stream writer: one coroutine per stream, one write in flight, frames shared by pointer.
#include "http/event_stream.hpp"

#include "http/async_bridge.hpp"
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

hub::EventPtr history_lost_event(const std::string& last_event_id) {
    boost::json::object data;
    data["lastEventId"] = last_event_id;
    auto e = std::make_shared<hub::Event>();
    e->type = "ssecast.history-lost";
    e->frame = sse::encode_event("", e->type, boost::json::serialize(data));
    e->received_at = std::chrono::steady_clock::now();
    return e;
}

/// State shared between the writer coroutine and the callbacks that wake it.
struct StreamState {
    StreamState(tcp::socket s, metrics::ShardCounters& c)
        : socket(std::move(s)), wake(socket.get_executor()), counters(c) {}
    tcp::socket socket;
    net::steady_timer wake;
    metrics::ShardCounters& counters;
    hub::Subscriber* sub = nullptr; ///< null once the stream has ended
    bool live = false;              ///< head and replay are out: write_now() may run
    bool writing = false;           ///< the coroutine has an async_write in flight
    std::size_t offset = 0;         ///< bytes of the first pending frame already sent
    std::chrono::steady_clock::time_point last_write{};
};

/// Accounts for `n` bytes sent from the front of the queue: whole frames are consumed (and
/// their publish→write latency observed), a partly sent frame is remembered by offset.
void account_written(StreamState& st, std::size_t n) {
    auto& c = st.counters;
    c.add(c.bytes_written, n);
    st.last_write = std::chrono::steady_clock::now();
    const auto pending = st.sub->pending();
    std::size_t done = 0;
    std::size_t left = n + st.offset;
    while (done < pending.size() && left >= pending[done]->frame.size()) {
        left -= pending[done]->frame.size();
        c.observe_latency(st.last_write - pending[done]->received_at);
        ++done;
    }
    st.offset = left;
    st.sub->consumed(done);
}

/// Fills `iov` with up to kMaxFramesPerWrite pending frames (the first one from `offset`);
/// returns how many.
template <class Buffer> std::size_t gather(const StreamState& st, Buffer* out) {
    const auto pending = st.sub->pending();
    const std::size_t count = std::min(pending.size(), kMaxFramesPerWrite);
    for (std::size_t i = 0; i < count; ++i) {
        const std::string& f = pending[i]->frame;
        const std::size_t skip = i == 0 ? st.offset : 0;
        out[i] = Buffer{const_cast<char*>(f.data()) + skip, f.size() - skip};
    }
    return count;
}

/// The fast path (STYLE habit 2: one write in flight, no copy): write the pending frames
/// now, straight from the dispatch handler, with one non-blocking sendmsg. Whatever the
/// kernel does not take is left for the coroutine, which waits for writability. Saves the
/// timer cancel, the scheduler round trip and the coroutine resume per delivery.
void write_now(StreamState& st) {
    std::array<iovec, kMaxFramesPerWrite> iov{};
    const std::size_t count = gather(st, iov.data());
    if (count == 0) {
        return;
    }
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = count;
    const ssize_t n = ::sendmsg(st.socket.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            st.sub->close(errc::ok); // the peer is gone; the coroutine cleans up
        }
        return;
    }
    account_written(st, static_cast<std::size_t>(n));
}

/// The subscriber's wake callback: closing → stop the coroutine's waits; new frames →
/// try write_now(), and hand what is left to the coroutine.
void on_wake(StreamState& st) {
    if (st.sub == nullptr) {
        return;
    }
    if (st.sub->closed()) {
        st.wake.cancel();
        boost::system::error_code ignored;
        st.socket.cancel(ignored); // abort a stuck write too
        return;
    }
    if (st.writing) {
        return; // the coroutine picks the new frames up after its write
    }
    if (st.live) {
        write_now(st);
    }
    if (st.sub != nullptr && !st.sub->closed() && !st.sub->pending().empty()) {
        st.wake.cancel();
    }
}

/// Watches the read side: an SSE client never sends after its request, so readability
/// means EOF/reset (or junk we discard). Lets us notice a departed client without waiting
/// for the next write to fail.
void watch_peer(std::shared_ptr<StreamState> st) {
    st->socket.async_wait(tcp::socket::wait_read, [st](boost::system::error_code ec) {
        if (ec || st->sub == nullptr) {
            return; // cancelled: the stream is ending
        }
        std::array<char, 512> sink{};
        boost::system::error_code rec;
        const std::size_t n = st->socket.read_some(net::buffer(sink), rec);
        if (rec == net::error::would_block || (!rec && n > 0)) {
            watch_peer(st);
            return;
        }
        st->sub->close(errc::ok);
    });
}

} // namespace

void sweep_stuck_streams(Shard& shard, std::chrono::steady_clock::duration stuck_after) {
    const auto now = std::chrono::steady_clock::now();
    std::vector<hub::Subscriber*> stuck;
    shard.hub.for_each([&](const hub::Subscriber& s) {
        if (s.write_started != std::chrono::steady_clock::time_point{} &&
            now - s.write_started > stuck_after) {
            stuck.push_back(const_cast<hub::Subscriber*>(&s));
        }
    });
    for (auto* s : stuck) {
        spdlog::warn("cutting stream of {}: a write has been stuck for over {}s", s->user_id(),
                     std::chrono::duration_cast<std::chrono::seconds>(stuck_after).count());
        shard.counters->add(shard.counters->dropped);
        s->close(errc::slow_consumer);
    }
}

net::awaitable<void> stream_events(tcp::socket socket, SubscribeRequest req,
                                   registry::ConnectionInfo conn, Headers extra, ServerContext& ctx,
                                   Shard& shard) {
    auto& counters = *shard.counters;
    auto st = std::make_shared<StreamState>(std::move(socket), counters);
    st->socket.non_blocking(true);
    {
        // A vanished peer (half-open: no FIN, no RST) leaves heartbeat bytes unacknowledged;
        // after this long the kernel fails the connection and the next write ends the
        // stream, instead of TCP retransmitting for ~15 minutes.
        const auto timeout = std::max<std::chrono::milliseconds>(std::chrono::seconds(30),
                                                                 3 * ctx.cfg.sse.heartbeat);
        const unsigned ms = static_cast<unsigned>(timeout.count());
        ::setsockopt(st->socket.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
    }
    const auto& cfg = ctx.cfg;

    hub::Subscriber sub(req.who.user_id, std::move(req.patterns), cfg.limits.max_queue_bytes,
                        [st_raw = st.get()]() { on_wake(*st_raw); });
    st->sub = &sub;
    // SPEC §Resume: register first, then read history, so nothing falls in between.
    const bool resuming = req.last_event_id.has_value();
    if (resuming) {
        sub.begin_handoff();
    }
    shard.hub.add(&sub);
    counters.add(counters.connections);
    counters.add(counters.connects);
    // Counted in the registry by start_stream (try_connect); uncounted below.

    std::string head = response_head(extra) + sse::encode_retry(cfg.sse.retry);
    auto [hec, hn] = co_await net::async_write(st->socket, net::buffer(head), use_nothrow);
    counters.add(counters.bytes_written, hn);

    if (!hec && resuming) {
        if (!req.resume_from) {
            sub.push_control(history_lost_event(*req.last_event_id));
            sub.finish_handoff({}, std::nullopt);
        } else {
            auto replay = co_await await_callback<result<history::Replay>>(
                [&](auto done) { ctx.broker.replay(*req.resume_from, std::move(done)); });
            if (!replay) {
                // History unreadable (Redis down): end the stream; the client retries and
                // resumes from the same id later, so nothing is lost.
                sub.close(replay.error() == errc::timeout ? errc::timeout
                                                          : errc::backend_unavailable);
            } else {
                if (replay->lost) {
                    sub.push_control(history_lost_event(*req.last_event_id));
                }
                if (sub.finish_handoff(replay->events, req.resume_from) ==
                    hub::Subscriber::Offer::overflow) {
                    counters.add(counters.dropped);
                }
            }
        }
    }
    if (!hec) {
        watch_peer(st);
    }

    // Idle streams are the common case: keep nothing in this frame that only set-up needed.
    std::string().swap(head);
    Headers().swap(extra);
    req = SubscribeRequest();

    st->last_write = std::chrono::steady_clock::now();
    st->live = true;
    while (!hec && !sub.closed()) {
        if (sub.pending().empty()) {
            // Idle: wait for a wake-up (frames write_now() could not finish, or closing) or
            // for the heartbeat, counted from the last write of any kind.
            st->wake.expires_at(st->last_write + cfg.sse.heartbeat);
            auto [wec] = co_await st->wake.async_wait(use_nothrow);
            if (wec || !sub.pending().empty() || sub.closed() ||
                std::chrono::steady_clock::now() < st->last_write + cfg.sse.heartbeat) {
                continue;
            }
            sub.write_started = std::chrono::steady_clock::now();
            st->writing = true;
            auto [ec, n] = co_await net::async_write(
                st->socket, net::buffer(sse::kHeartbeat.data(), sse::kHeartbeat.size()),
                use_nothrow);
            st->writing = false;
            sub.write_started = {};
            counters.add(counters.bytes_written, n);
            hec = ec;
            st->last_write = std::chrono::steady_clock::now();
            continue;
        }
        // Slow path: the socket was full (or frames arrived while writing). Allocated per
        // write, not per stream: an idle stream holds no iovec array.
        std::vector<net::const_buffer> buffers(std::min(sub.pending().size(), kMaxFramesPerWrite));
        buffers.resize(gather(*st, buffers.data()));
        sub.write_started = std::chrono::steady_clock::now();
        st->writing = true;
        auto [ec, n] = co_await net::async_write(st->socket, buffers, use_nothrow);
        st->writing = false;
        sub.write_started = {};
        if (ec) {
            hec = ec;
            break;
        }
        account_written(*st, n);
    }
    if (sub.close_reason() == errc::slow_consumer) {
        spdlog::warn("closed slow stream of {}: outgoing queue over {} bytes (it can resume)",
                     sub.user_id(), cfg.limits.max_queue_bytes);
    }
    shard.hub.remove(&sub);
    st->sub = nullptr;
    counters.add(counters.connections, static_cast<std::uint64_t>(-1));
    counters.add(counters.disconnects);
    ctx.registry.disconnected(conn);
    ctx.open_streams.fetch_sub(1, std::memory_order_relaxed);
    boost::system::error_code ignored;
    st->socket.cancel(ignored);
    st->socket.shutdown(tcp::socket::shutdown_both, ignored);
    st->socket.close(ignored);
}

net::awaitable<void> stream_stats(tcp::socket socket, Headers extra, ServerContext& ctx,
                                  std::function<net::awaitable<std::string>()> render) {
    net::steady_timer timer(socket.get_executor());
    std::string head = response_head(extra) + sse::encode_retry(ctx.cfg.sse.retry);
    auto [ec, n] = co_await net::async_write(socket, net::buffer(head), use_nothrow);
    while (!ec && !ctx.draining.load(std::memory_order_relaxed)) {
        const std::string doc = co_await render();
        const std::string frame = sse::encode_event("", "stats", doc);
        std::tie(ec, n) = co_await net::async_write(socket, net::buffer(frame), use_nothrow);
        if (ec) {
            break;
        }
        timer.expires_after(std::chrono::seconds(1));
        co_await timer.async_wait(use_nothrow);
    }
    ctx.open_streams.fetch_sub(1, std::memory_order_relaxed);
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
}

} // namespace ssecast::http
