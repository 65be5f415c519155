// SPDX-License-Identifier: MIT
// Subscribe admission in one place: every check a stream must pass before it answers, and
// the slot (capacity count + registry record) it holds until it ends.
#pragma once

#include "http/request.hpp"
#include "http/server_context.hpp"
#include "http/subscribe_request.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <variant>

namespace ssecast::http {

/// A stream's place on this instance: one count of ServerContext::open_streams
/// (limits.max_connections) and, for an event stream, its record in the ClientRegistry
/// (limits.max_connections_per_user). Move-only; gives both back exactly once, in
/// release() or the destructor, whichever comes first: the registry record, then the
/// count. Taken and released on the session's shard thread.
class StreamSlot {
  public:
    StreamSlot() = default;
    StreamSlot(StreamSlot&& other) noexcept;
    StreamSlot& operator=(StreamSlot&& other) noexcept;
    StreamSlot(const StreamSlot&) = delete;
    StreamSlot& operator=(const StreamSlot&) = delete;
    ~StreamSlot() { release(); }

    /// Idempotent; a default-constructed or moved-from slot holds nothing.
    void release() noexcept;
    /// registry::ConnectionInfo::id of the stream's record; 0 for the stats stream.
    std::uint64_t connection_id() const noexcept { return conn_.id; }

  private:
    friend class SlotTaker;
    std::atomic<std::size_t>* open_ = nullptr;
    registry::ClientRegistry* registry_ = nullptr; ///< null: no registry record held
    /// id and user only: the registry keeps its own record, so an idle stream does not hold
    /// a second copy of its topics.
    registry::ConnectionInfo conn_;
};

/// An accepted event stream: its request, its slot, and the headers its response carries
/// (rate-limit headers; CORS is added by the session).
struct AdmittedStream {
    SubscribeRequest sub;
    StreamSlot slot;
    Headers headers;
};

/// GET /events admission (SPEC §Subscribe), in this order: draining (503); identity from
/// the connect hook (503 when it cannot answer) or the token, with one JWKS refetch on an
/// unknown kid; topics and claims (parse_subscribe: 400/401/403); an admin block (403);
/// the sse rate limit (429); limits.max_connections (503); limits.max_connections_per_user
/// (429); then Broker::watch confirmed (503 otherwise), so live events published
/// after the replay read reach the stream. A refusal is the response to send, with its
/// rate-limit and Retry-After headers, and nothing stays taken. Runs on the session's shard.
boost::asio::awaitable<std::variant<AdmittedStream, Response>> admit_stream(const Request& req,
                                                                            ServerContext& ctx);

/// GET /api/admin/sse-monitor/stream admission: draining (503), the admin token (401),
/// limits.max_connections (503). The slot holds no registry record.
boost::asio::awaitable<std::variant<StreamSlot, Response>> admit_stats(const Request& req,
                                                                       ServerContext& ctx);

} // namespace ssecast::http
