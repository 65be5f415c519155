// SPDX-License-Identifier: MIT
// Who the client really is: the peer address, or the X-Forwarded-For / Forwarded entry
// added by a trusted proxy (http.trusted_proxies), so nobody can pick their own identity.
#pragma once

#include "common/errc.hpp"

#include <boost/asio/ip/address.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ssecast::http {

/// A set of CIDRs (or single addresses). Immutable; thread-safe to read.
class TrustedProxies {
  public:
    /// errc::bad_request naming nothing; the config loader validates the text first.
    static result<TrustedProxies> parse(const std::vector<std::string>& cidrs);
    bool contains(const boost::asio::ip::address& a) const noexcept;
    bool empty() const noexcept { return nets_.empty(); }

  private:
    struct Net {
        boost::asio::ip::address base;
        unsigned prefix = 0;
    };
    std::vector<Net> nets_;
};

/// The client address for limits and anonymous ids. Forwarding headers count only when
/// the peer is trusted; then the right-most untrusted hop of X-Forwarded-For (or the
/// RFC 7239 `Forwarded: for=`) is the client.
std::string resolve_client_ip(const boost::asio::ip::address& peer, std::string_view xff,
                              std::string_view forwarded, const TrustedProxies& proxies);

} // namespace ssecast::http
