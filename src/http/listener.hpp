// SPDX-License-Identifier: MIT
// The listening side of the server: one SO_REUSEPORT acceptor per shard on http.listen, and
// the accept loop that starts a session per connection on that shard.
#pragma once

#include "http/server_context.hpp"
#include "hub/shard.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace ssecast::http {

/// Owns the acceptors, one per shard, all bound to the same port (the kernel spreads
/// connections over them). Built once by App before the loops run; outlives them.
class Listener {
  public:
    /// Opens and binds an acceptor on each shard's loop. Throws std::runtime_error at
    /// start-up only: `listen` ("host:port", http.listen) does not parse, or cannot be bound.
    Listener(const std::string& listen, const std::vector<std::unique_ptr<hub::Shard>>& shards);

    /// Spawns every shard's accept loop on its own loop: each accepted socket is served by
    /// serve_session on that shard, spawned with a handler that logs an escaped exception.
    /// A failed accept (EMFILE…) backs off 50 ms and warns at most every 10 s. `ctx` and the
    /// shards must outlive the loops.
    void start(ServerContext& ctx, const std::vector<std::unique_ptr<hub::Shard>>& shards);

    /// Stops accepting on shard `i`; call on that shard's thread (drain). Its accept loop ends.
    void close(std::size_t i);

  private:
    std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
};

} // namespace ssecast::http
