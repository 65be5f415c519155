// SPDX-License-Identifier: MIT
// http_call on Beast: tcp_stream deadlines for connect/write/read, a raced timer for DNS.
#include "outbound/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>

#include <stdexcept>
#include <variant>

namespace ssecast::outbound {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

namespace ssl = net::ssl;

struct TlsClient::Impl {
    ssl::context ctx{ssl::context::tls_client};
};

TlsClient::TlsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsClient::~TlsClient() = default;

std::shared_ptr<TlsClient> TlsClient::create(const std::string& ca_file) {
    auto impl = std::make_unique<Impl>();
    boost::system::error_code ec;
    impl->ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1);
    if (ca_file.empty()) {
        impl->ctx.set_default_verify_paths(ec);
    } else {
        impl->ctx.load_verify_file(ca_file, ec);
    }
    if (ec) {
        throw std::runtime_error("auth.tls_ca_file: cannot load " +
                                 (ca_file.empty() ? std::string("the system CAs") : ca_file) +
                                 ": " + ec.message());
    }
    impl->ctx.set_verify_mode(ssl::verify_peer);
    return std::shared_ptr<TlsClient>(new TlsClient(std::move(impl)));
}

namespace {

errc io_error(const boost::system::error_code& ec) {
    if (ec == beast::error::timeout) {
        return errc::timeout;
    }
    if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
        return errc::payload_too_large;
    }
    return errc::backend_unavailable;
}

/// The endpoints of `host`: an IP literal directly, a name through the resolver, raced
/// against `deadline` (the resolver has no timeout of its own).
net::awaitable<result<tcp::resolver::results_type>>
resolve(const config::HttpEndpoint& to, std::chrono::steady_clock::time_point deadline) {
    using namespace net::experimental::awaitable_operators;
    auto ex = co_await net::this_coro::executor;
    const std::string port = std::to_string(to.port);
    boost::system::error_code ec;
    const auto addr = net::ip::make_address(to.host, ec);
    tcp::resolver resolver(ex);
    if (!ec) {
        auto [rec, results] = co_await resolver.async_resolve(
            addr.to_string(), port, tcp::resolver::numeric_host, use_nothrow);
        if (rec) {
            co_return errc::backend_unavailable;
        }
        co_return results;
    }
    net::steady_timer timer(ex, deadline);
    auto winner = co_await (resolver.async_resolve(to.host, port, use_nothrow) ||
                            timer.async_wait(use_nothrow));
    if (winner.index() == 1) {
        co_return errc::timeout;
    }
    auto [rec, results] = std::get<0>(std::move(winner));
    if (rec) {
        co_return errc::backend_unavailable;
    }
    co_return results;
}

/// Writes `req` and reads the answer on `stream` (a tcp_stream or an ssl_stream over one).
template <class Stream>
net::awaitable<result<HttpReply>> exchange(Stream& stream, bhttp::request<bhttp::string_body>& req,
                                           std::size_t max_body_bytes) {
    auto [wec, wn] = co_await bhttp::async_write(stream, req, use_nothrow);
    if (wec) {
        co_return io_error(wec);
    }
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(max_body_bytes);
    auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, use_nothrow);
    if (rec) {
        co_return io_error(rec);
    }
    auto& msg = parser.get();
    HttpReply reply;
    reply.status = msg.result_int();
    reply.content_type = std::string(msg[bhttp::field::content_type]);
    reply.body = std::move(msg.body());
    co_return reply;
}

} // namespace

net::awaitable<result<HttpReply>> http_call(HttpCall call, std::chrono::milliseconds timeout,
                                            std::size_t max_body_bytes) {
    if (call.to.tls && !call.tls) {
        co_return errc::internal; // a bug: https without TLS settings
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto endpoints = co_await resolve(call.to, deadline);
    if (!endpoints) {
        co_return endpoints.error();
    }
    beast::tcp_stream plain(co_await net::this_coro::executor);
    plain.expires_at(deadline);
    auto [cec, ep] = co_await plain.async_connect(*endpoints, use_nothrow);
    if (cec) {
        co_return io_error(cec);
    }
    bhttp::request<bhttp::string_body> req;
    req.method_string(call.method);
    req.target(call.to.target);
    req.version(11);
    const bool v6 = call.to.host.find(':') != std::string::npos;
    const bool default_port = call.to.port == (call.to.tls ? 443 : 80);
    req.set(bhttp::field::host,
            (v6 ? "[" + call.to.host + "]" : call.to.host) +
                (default_port ? std::string() : ":" + std::to_string(call.to.port)));
    req.set(bhttp::field::user_agent, "ssecast");
    req.set(bhttp::field::connection, "close");
    for (const auto& [k, v] : call.headers) {
        req.set(k, v);
    }
    if (!call.body.empty()) {
        req.body() = std::move(call.body);
    }
    req.prepare_payload();
    if (!call.to.tls) {
        auto reply = co_await exchange(plain, req, max_body_bytes);
        boost::system::error_code ignored;
        plain.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return reply;
    }
    beast::ssl_stream<beast::tcp_stream> tls(std::move(plain), call.tls->impl().ctx);
    // SNI, and the certificate must name this host (an IP literal: its subjectAltName IP).
    if (!SSL_set_tlsext_host_name(tls.native_handle(), call.to.host.c_str())) {
        co_return errc::backend_unavailable;
    }
    tls.set_verify_callback(ssl::host_name_verification(call.to.host));
    auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, use_nothrow);
    if (hec) {
        co_return io_error(hec);
    }
    auto reply = co_await exchange(tls, req, max_body_bytes);
    // Connection: close; a peer that does not answer close_notify is not waited for.
    boost::system::error_code ignored;
    beast::get_lowest_layer(tls).socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return reply;
}

} // namespace ssecast::outbound
