// SPDX-License-Identifier: MIT
// Subscribe admission checks and the StreamSlot they hand to the stream.
#include "http/admission.hpp"

#include "common/async_bridge.hpp"
#include "http/error_reply.hpp"
#include "http/routes.hpp"

#include <chrono>
#include <limits>
#include <optional>
#include <utility>

namespace ssecast::http {

namespace net = boost::asio;

StreamSlot::StreamSlot(StreamSlot&& other) noexcept
    : open_(std::exchange(other.open_, nullptr)),
      registry_(std::exchange(other.registry_, nullptr)), conn_(std::move(other.conn_)) {}

StreamSlot& StreamSlot::operator=(StreamSlot&& other) noexcept {
    if (this != &other) {
        release();
        open_ = std::exchange(other.open_, nullptr);
        registry_ = std::exchange(other.registry_, nullptr);
        conn_ = std::move(other.conn_);
    }
    return *this;
}

void StreamSlot::release() noexcept {
    if (registry_ != nullptr) {
        std::exchange(registry_, nullptr)->disconnected(conn_);
    }
    if (open_ != nullptr) {
        std::exchange(open_, nullptr)->fetch_sub(1, std::memory_order_relaxed);
    }
}

/// The only code that fills a StreamSlot: each step either takes its part or leaves the
/// slot as it was.
class SlotTaker {
  public:
    /// One count of `open` if that stays within `max`.
    static std::optional<StreamSlot> capacity(std::atomic<std::size_t>& open, std::size_t max) {
        if (open.fetch_add(1, std::memory_order_relaxed) >= max) {
            open.fetch_sub(1, std::memory_order_relaxed);
            return std::nullopt;
        }
        StreamSlot slot;
        slot.open_ = &open;
        return slot;
    }

    /// Records `conn` within `per_user`; false (nothing recorded) when the user is at it.
    /// Check and count are one registry step, so simultaneous opens on two shards cannot
    /// both pass.
    static bool record(StreamSlot& slot, registry::ClientRegistry& registry,
                       registry::ConnectionInfo conn, std::size_t per_user) {
        if (!registry.try_connect(conn, per_user)) {
            return false;
        }
        std::vector<std::string>().swap(conn.topics);
        slot.registry_ = &registry;
        slot.conn_ = std::move(conn);
        return true;
    }
};

namespace {

Response over_capacity() {
    auto res = error_reply(errc::over_capacity);
    res.headers.emplace_back("Retry-After", "5");
    return res;
}

registry::ConnectionInfo connection_record(const SubscribeRequest& sub, ServerContext& ctx) {
    registry::ConnectionInfo conn;
    conn.id = ctx.next_connection_id.fetch_add(1, std::memory_order_relaxed);
    conn.user_id = sub.who.user_id;
    conn.topics.reserve(sub.patterns.size());
    for (const auto& p : sub.patterns) {
        conn.topics.push_back(p.str());
    }
    conn.since_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    return conn;
}

/// Identity, topics and claims: the hook's answer or the token, checked by parse_subscribe.
/// Fills `sub`; returns the refusal otherwise.
net::awaitable<std::optional<Response>> identify(const Request& req, ServerContext& ctx,
                                                 SubscribeRequest& sub) {
    // SPEC §Connect hook: with auth.connect_url the application decides who this is; its
    // answer is then checked exactly like a token's claims.
    std::optional<auth::Identity> hooked;
    if (ctx.hook != nullptr) {
        auto who = co_await ctx.hook->authorize(req);
        if (!who) {
            const errc e = static_cast<errc>(who.error().value());
            auto res = error_reply(e, e == errc::auth_unavailable
                                          ? "The application's authorisation check did "
                                            "not answer; retry later."
                                          : "");
            if (e == errc::auth_unavailable) {
                res.headers.emplace_back("Retry-After", "2");
            }
            co_return res;
        }
        hooked = std::move(*who);
    }
    auto f =
        parse_subscribe(req, ctx.auth, ctx.cfg.sse.max_topics, sub, hooked ? &*hooked : nullptr);
    if (f && f->code == errc::unknown_key && ctx.refresh_keys) {
        // SPEC §Keys: an unknown kid may be a rotated key; refetch (at most once per
        // jwks_min_refresh_seconds) without blocking this loop, then check once more.
        co_await await_callback<bool>(
            [&](auto done) { ctx.refresh_keys([done]() mutable { done(true); }); });
        sub = SubscribeRequest();
        f = parse_subscribe(req, ctx.auth, ctx.cfg.sse.max_topics, sub,
                            hooked ? &*hooked : nullptr);
    }
    if (f) {
        co_return error_reply(f->code == errc::unknown_key ? errc::unauthorized : f->code,
                              f->message);
    }
    co_return std::nullopt;
}

/// An id newer than anything assigned: replay answers it with the shard's newest id
/// (history::Replay::next_after) and no events.
constexpr sse::EventId kPastEverything{std::numeric_limits<std::int64_t>::max(), 0};

/// A stream over several shards needs a position on each (docs/redis.md §Shards). Where
/// its Last-Event-ID names none (a new stream, a plain id, a shard it did not read
/// before), it starts at the shard's newest id, asked for *before* the watch: every event
/// stored after that id is then either live after the watch or replayed, so none is lost
/// between the response head and the first event. An error (that shard is down) → 503.
net::awaitable<std::optional<Response>> start_positions(broker::Broker& broker,
                                                        SubscribeRequest& sub) {
    const auto shards = broker.shards_of(sub.patterns);
    if (shards.size() < 2) {
        co_return std::nullopt;
    }
    auto& positions = sub.resume_positions;
    if (!positions) {
        positions.emplace();
    }
    for (const auto shard : shards) {
        if (positions->at(shard)) {
            continue;
        }
        history::ReplayQuery q{kPastEverything, sub.patterns, 1, 1};
        q.shard = shard;
        auto page = co_await await_callback<result<history::Replay>>(
            [&](auto done) { broker.replay(q, std::move(done)); });
        if (!page) {
            co_return error_reply(page.error() == errc::timeout ? errc::timeout
                                                                : errc::backend_unavailable,
                                  "A Redis shard of these topics is not reachable right now.");
        }
        positions->set(shard, page->next_after);
        sub.positions_filled_in = sub.last_event_id.has_value();
    }
    co_return std::nullopt;
}

} // namespace

net::awaitable<std::variant<AdmittedStream, Response>> admit_stream(const Request& req,
                                                                    ServerContext& ctx) {
    if (ctx.draining.load(std::memory_order_relaxed)) {
        co_return error_reply(errc::draining);
    }
    AdmittedStream a;
    if (auto refused = co_await identify(req, ctx, a.sub)) {
        co_return std::move(*refused);
    }
    if (ctx.control != nullptr && ctx.control->blocked(a.sub.who.user_id)) {
        co_return error_reply(errc::blocked, "This user was disconnected by an admin and "
                                             "may not subscribe again yet.");
    }
    if (auto refused =
            co_await check_rate_limit(ctx.limiter, ctx.metrics, config::RateLimitEndpoint::sse,
                                      a.sub.who, req.client_ip, a.headers)) {
        auto res = error_reply(refused->code, refused->message);
        res.headers = std::move(a.headers);
        co_return res;
    }
    auto slot = SlotTaker::capacity(ctx.open_streams, ctx.cfg.limits.max_connections);
    if (!slot) {
        co_return over_capacity();
    }
    if (!SlotTaker::record(*slot, ctx.registry, connection_record(a.sub, ctx),
                           ctx.cfg.limits.max_connections_per_user)) {
        auto res = error_reply(errc::too_many_connections, "Too many open streams for this user "
                                                           "(limits.max_connections_per_user).");
        res.headers = std::move(a.headers);
        res.headers.emplace_back("Retry-After", "5");
        co_return res;
    }
    if (auto refused = co_await start_positions(ctx.broker, a.sub)) {
        slot->release();
        refused->headers = std::move(a.headers);
        refused->headers.emplace_back("Retry-After", "2");
        co_return std::move(*refused);
    }
    // SPEC §Resume: the live channel is confirmed before the stream answers and reads
    // history, so no event falls between replay and live (redis: this instance's Redis
    // subscription to these topics; memory: at once).
    // (use_awaitable would throw a bare error_code: it travels in an optional.)
    using WatchError = std::optional<boost::system::error_code>;
    const auto failed = co_await await_callback<WatchError>([&](auto done) {
        ctx.broker.watch(a.sub.patterns, [done](boost::system::error_code ec) mutable {
            done(ec ? WatchError(ec) : std::nullopt);
        });
    });
    if (failed) {
        slot->release();
        auto res = error_reply(*failed == errc::timeout ? errc::timeout : errc::backend_unavailable,
                               "Redis cannot take new subscriptions right now.");
        res.headers = std::move(a.headers);
        res.headers.emplace_back("Retry-After", "2");
        co_return res;
    }
    a.slot = std::move(*slot);
    co_return a;
}

net::awaitable<std::variant<StreamSlot, Response>> admit_stats(const Request& req,
                                                               ServerContext& ctx) {
    if (ctx.draining.load(std::memory_order_relaxed)) {
        co_return error_reply(errc::draining);
    }
    if (!is_admin_request(req, ctx.auth)) {
        co_return error_reply(errc::unauthorized, "Admin token required.");
    }
    auto slot = SlotTaker::capacity(ctx.open_streams, ctx.cfg.limits.max_connections);
    if (!slot) {
        co_return over_capacity();
    }
    co_return std::move(*slot);
}

} // namespace ssecast::http
