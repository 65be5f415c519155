// SPDX-License-Identifier: MIT
// A Lua script run by hash: SCRIPT LOAD once, EVALSHA after, reload on NOSCRIPT (Redis
// restarted or SCRIPT FLUSH).
#pragma once

#include "redis/connection.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ssecast::redis {

/// One script. Not thread-safe: use on the connection's thread.
class Script : public std::enable_shared_from_this<Script> {
  public:
    static std::shared_ptr<Script> create(std::string_view source) {
        return std::shared_ptr<Script>(new Script(source));
    }

    /// EVALSHA with `keys` and `args` on `conn`. `done` runs exactly once (see
    /// Connection::command); an error reply other than NOSCRIPT is passed through as a
    /// value. NOSCRIPT → SCRIPT LOAD and one retry.
    void eval(Connection& conn, const std::vector<std::string>& keys,
              const std::vector<std::string>& args, Connection::Done done);

  private:
    explicit Script(std::string_view source) : source_(source) {}
    void load_then_eval(Connection& conn, std::vector<std::string> cmd, Connection::Done done);

    std::string_view source_;
    std::string sha_; ///< "" until loaded
};

} // namespace ssecast::redis
