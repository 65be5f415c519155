// SPDX-License-Identifier: MIT
// One bounded outgoing HTTP/1.1 request (the JWKS fetch, the connect hook). The only
// translation unit that includes Beast's HTTP client side (compile cost: STACK.md).
#pragma once

#include "common/errc.hpp"
#include "config/endpoints.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ssecast::outbound {

/// The TLS settings of https calls: peers must present a certificate that chains to the CA
/// bundle (or the system's CAs) and names the URL's host. Immutable once made; shared by
/// every call, from any thread.
class TlsClient {
  public:
    /// Start-up only: throws std::runtime_error naming `ca_file` when it cannot be loaded.
    static std::shared_ptr<TlsClient> create(const std::string& ca_file);
    ~TlsClient();
    struct Impl;
    Impl& impl() const { return *impl_; }

  private:
    explicit TlsClient(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

struct HttpCall {
    config::HttpEndpoint to;
    std::string method = "GET";
    std::vector<std::pair<std::string, std::string>> headers; ///< besides Host, User-Agent
    std::string body;                                         ///< sent when non-empty
    std::shared_ptr<TlsClient> tls = nullptr;                 ///< required when `to.tls`
};

struct HttpReply {
    unsigned status = 0;
    std::string content_type;
    std::string body;
};

/// Sends `call` on the calling coroutine's executor and reads the whole answer, all of it
/// (name resolution, connect, write, read) within `timeout`. Returns the answer whatever
/// its status, or errc::timeout past the deadline, errc::payload_too_large for a body over
/// `max_body_bytes`, errc::backend_unavailable when the server cannot be reached, fails the
/// TLS handshake or certificate check (https), or speaks no valid HTTP. Never throws for network or
/// input errors. One connection per call
/// (`Connection: close`): these calls are rare or cached.
boost::asio::awaitable<result<HttpReply>>
http_call(HttpCall call, std::chrono::milliseconds timeout, std::size_t max_body_bytes);

} // namespace ssecast::outbound
