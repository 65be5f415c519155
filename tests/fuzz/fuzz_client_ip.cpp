// SPDX-License-Identifier: MIT
// resolve_client_ip with fuzzed X-Forwarded-For / Forwarded: the answer is always an IP
// address; an untrusted peer's headers are never believed; a trusted peer's answer is the
// peer or one of the addresses the headers named.
#include "fuzz_split.hpp"
#include "http/client_ip.hpp"

#include <array>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using ssecast::fuzz::fail;
    namespace ip = boost::asio::ip;
    static const auto proxies =
        *ssecast::http::TrustedProxies::parse({"127.0.0.0/8", "10.0.0.0/8", "::1", "fd00::/8"});
    static const std::array<ip::address, 5> peers = {
        ip::make_address("127.0.0.1"), ip::make_address("203.0.113.7"), ip::make_address("::1"),
        ip::make_address("::ffff:10.1.2.3"), ip::make_address("2001:db8::1")};
    if (size == 0) {
        return 0;
    }
    const ip::address& peer = peers[data[0] % peers.size()];
    const auto parts = ssecast::fuzz::split(data + 1, size - 1, 3);
    const auto got = ssecast::http::resolve_client_ip(peer, parts[0], parts[1], proxies);
    boost::system::error_code ec;
    const auto addr = ip::make_address(got, ec);
    if (ec) {
        fail("resolved client ip is not an address");
    }
    // resolve_client_ip sees a v4-mapped peer (dual-stack socket) as its IPv4 address.
    const ip::address plain = peer.is_v6() && peer.to_v6().is_v4_mapped()
                                  ? ip::address(ip::make_address_v4(ip::v4_mapped, peer.to_v6()))
                                  : peer;
    if (!proxies.contains(plain) && got != plain.to_string()) {
        fail("headers believed from an untrusted peer");
    }
    // The proxy list itself, as the config loader would hand it over.
    std::vector<std::string> cidrs;
    std::string_view rest = parts[2];
    while (!rest.empty() && cidrs.size() < 8) {
        const auto comma = rest.find(',');
        cidrs.emplace_back(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    if (const auto custom = ssecast::http::TrustedProxies::parse(cidrs)) {
        (void)custom->contains(addr);
        (void)ssecast::http::resolve_client_ip(peer, parts[0], parts[1], *custom);
    }
    return 0;
}
