// SPDX-License-Identifier: MIT
// Where the public keys come from: auth.jwks_file (read once at start) and auth.jwks_url
// (fetched at start, every 5 minutes, and on an unknown kid at most once per
// auth.jwks_min_refresh_seconds), on a thread of its own so no event loop ever waits.
#pragma once

#include "auth/key_set.hpp"
#include "config/config.hpp"
#include "outbound/http_client.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace ssecast::auth {

/// Reads and parses the JWKS file at `path` into `keys` (Source::file). Start-up only:
/// throws std::runtime_error naming auth.jwks_file when the file cannot be read, is not a
/// JWKS document, or has no usable key; logs one warning per skipped key.
void load_jwks_file(const std::string& path, KeySet& keys);

/// Keeps `keys` (Source::url) in step with auth.jwks_url. A failed or refused fetch keeps
/// the last good keys and logs once per failure streak: an unreachable endpoint never adds
/// a key, so it never lets a token through, and tokens with keys not yet seen stay 401.
/// Owns one thread and its io_context; every fetch runs there.
class JwksFetcher {
  public:
    /// Starts the thread and the first fetch. `keys` must outlive this object. Throws
    /// std::runtime_error (start-up) when an https URL's CA bundle cannot be loaded.
    JwksFetcher(const config::AuthConfig& cfg, KeySet& keys);
    ~JwksFetcher();
    JwksFetcher(const JwksFetcher&) = delete;
    JwksFetcher& operator=(const JwksFetcher&) = delete;

    /// Waits (start-up thread only) until the first fetch is over, at most the fetch
    /// timeout; true when it brought keys.
    bool wait_first();

    /// A token named an unknown kid: fetch again unless the last fetch began less than
    /// jwks_min_refresh_seconds ago. `done` runs exactly once, on the fetcher's thread,
    /// when that fetch is over (or at once when none is allowed). Thread-safe.
    void refresh(std::function<void()> done);

  private:
    void start_fetch();
    void finish_fetch(bool ok);
    void arm_periodic();

    const config::AuthConfig cfg_;
    KeySet& keys_;
    std::shared_ptr<outbound::TlsClient> tls_; ///< null for an http:// URL
    boost::asio::io_context ioc_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    boost::asio::steady_timer periodic_;
    // Fetcher-thread state.
    bool in_flight_ = false;
    bool failing_ = false; ///< the last fetch failed (log once per streak)
    std::chrono::steady_clock::time_point last_start_{};
    std::string last_skipped_; ///< skipped-key report of the last document (log on change)
    std::vector<std::function<void()>> waiters_;
    std::promise<bool> first_;
    bool first_done_ = false;
    std::thread thread_; // last: starts after everything above exists
};

} // namespace ssecast::auth
