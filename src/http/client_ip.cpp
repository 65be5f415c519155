// SPDX-License-Identifier: MIT
// CIDR matching and forwarded-header resolution.
#include "http/client_ip.hpp"
#include "common/strings.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

namespace ssecast::http {

namespace ip = boost::asio::ip;

namespace {

std::optional<ip::address> to_address(std::string_view s) {
    s = trim_ows(s);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
        s = s.substr(1, s.size() - 2);
    }
    if (!s.empty() && s.front() == '[') { // [v6]:port
        const auto close = s.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        s = s.substr(1, close - 1);
    } else if (std::count(s.begin(), s.end(), ':') == 1) { // v4:port
        s = s.substr(0, s.find(':'));
    }
    boost::system::error_code ec;
    auto a = ip::make_address(std::string(s), ec);
    if (ec) {
        return std::nullopt;
    }
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        return ip::make_address_v4(ip::v4_mapped, a.to_v6());
    }
    return a;
}

bool in_net(const ip::address& a, const ip::address& base, unsigned prefix) {
    if (a.is_v4() != base.is_v4()) {
        return false;
    }
    if (a.is_v4()) {
        const auto x = a.to_v4().to_uint();
        const auto y = base.to_v4().to_uint();
        const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
        return (x & mask) == (y & mask);
    }
    const auto x = a.to_v6().to_bytes();
    const auto y = base.to_v6().to_bytes();
    for (unsigned bit = 0; bit < prefix; bit += 8) {
        const unsigned n = std::min(8u, prefix - bit);
        const auto mask = static_cast<unsigned char>(0xFF << (8 - n));
        if ((x[bit / 8] & mask) != (y[bit / 8] & mask)) {
            return false;
        }
    }
    return true;
}
} // namespace

result<TrustedProxies> TrustedProxies::parse(const std::vector<std::string>& cidrs) {
    TrustedProxies out;
    for (const auto& text : cidrs) {
        const auto slash = text.find('/');
        const auto addr = to_address(std::string_view(text).substr(0, slash));
        if (!addr) {
            return errc::bad_request;
        }
        unsigned prefix = addr->is_v4() ? 32 : 128;
        if (slash != std::string::npos) {
            const std::string_view p = std::string_view(text).substr(slash + 1);
            const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
            if (ec != std::errc() || end != p.data() + p.size() ||
                prefix > (addr->is_v4() ? 32u : 128u)) {
                return errc::bad_request;
            }
        }
        out.nets_.push_back({*addr, prefix});
    }
    return out;
}

bool TrustedProxies::contains(const ip::address& a) const noexcept {
    for (const auto& n : nets_) {
        if (in_net(a, n.base, n.prefix)) {
            return true;
        }
    }
    return false;
}

std::string resolve_client_ip(const ip::address& peer_in, std::string_view xff,
                              std::string_view forwarded, const TrustedProxies& proxies) {
    ip::address peer = peer_in;
    if (peer.is_v6() && peer.to_v6().is_v4_mapped()) {
        peer = ip::make_address_v4(ip::v4_mapped, peer.to_v6());
    }
    if (!proxies.contains(peer)) {
        return peer.to_string();
    }
    // Collect the hops, nearest last.
    std::vector<ip::address> hops;
    if (!xff.empty()) {
        std::size_t start = 0;
        while (start <= xff.size()) {
            const auto comma = xff.find(',', start);
            const auto a = to_address(xff.substr(start, comma - start));
            if (!a) {
                return peer.to_string(); // a garbled chain is not believed
            }
            hops.push_back(*a);
            if (comma == std::string_view::npos) {
                break;
            }
            start = comma + 1;
        }
    } else if (!forwarded.empty()) {
        std::size_t pos = 0;
        while ((pos = forwarded.find("for=", pos)) != std::string_view::npos) {
            pos += 4;
            const auto end = forwarded.find_first_of(";,", pos);
            const auto a = to_address(forwarded.substr(pos, end - pos));
            if (!a) {
                return peer.to_string();
            }
            hops.push_back(*a);
        }
    }
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        if (!proxies.contains(*it)) {
            return it->to_string();
        }
    }
    return hops.empty() ? peer.to_string() : hops.front().to_string();
}

} // namespace ssecast::http
