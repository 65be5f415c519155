// SPDX-License-Identifier: MIT
// The connect hook (SPEC §Connect hook, auth.connect_url): asks the application whether a
// subscribe may go ahead, with the request's own cookies, and caches the answer briefly.
#pragma once

#include "auth/authenticator.hpp"
#include "config/config.hpp"
#include "config/endpoints.hpp"
#include "http/request.hpp"
#include "outbound/http_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ssecast::http {

/// Thread-safe: every shard calls authorize() on its own loop; the cache is shared.
class ConnectHook {
  public:
    /// `cfg.connect_url` must be set (validated at config load). Throws std::runtime_error
    /// (start-up) when an https URL's CA bundle cannot be loaded.
    explicit ConnectHook(const config::AuthConfig& cfg);

    /// POSTs `{"cookie", "authorization", "ip", "topics"}` (the request's Cookie and
    /// Authorization headers as sent, the client IP, the topic parameters as given) to
    /// auth.connect_url, on the calling coroutine's executor, within
    /// auth.connect_timeout_ms, and returns the identity its answer grants
    /// (auth::parse_hook_reply). errc::auth_unavailable (503) when the hook is down, slow or
    /// answers nonsense; errc::unauthorized / forbidden for its 401 / 403. Answers other than
    /// auth_unavailable are reused for the same four inputs for auth.connect_cache_seconds.
    boost::asio::awaitable<result<auth::Identity>> authorize(const Request& req);

  private:
    struct Entry {
        std::chrono::steady_clock::time_point until;
        result<auth::Identity> answer;
    };

    config::HttpEndpoint to_;
    std::shared_ptr<outbound::TlsClient> tls_; ///< null for an http:// URL
    std::chrono::milliseconds timeout_;
    std::chrono::seconds cache_for_;
    std::mutex mutex_; // guards cache_ and last_warning_
    std::unordered_map<std::string, Entry> cache_;
    std::chrono::steady_clock::time_point last_warning_{};
};

} // namespace ssecast::http
