// SPDX-License-Identifier: MIT
// http_call on Beast: tcp_stream deadlines for connect/write/read, a raced timer for DNS.
#include "outbound/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <variant>

namespace ssecast::outbound {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

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

} // namespace

net::awaitable<result<HttpReply>> http_call(HttpCall call, std::chrono::milliseconds timeout,
                                            std::size_t max_body_bytes) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto endpoints = co_await resolve(call.to, deadline);
    if (!endpoints) {
        co_return endpoints.error();
    }
    beast::tcp_stream stream(co_await net::this_coro::executor);
    stream.expires_at(deadline);
    auto [cec, ep] = co_await stream.async_connect(*endpoints, use_nothrow);
    if (cec) {
        co_return io_error(cec);
    }
    bhttp::request<bhttp::string_body> req;
    req.method_string(call.method);
    req.target(call.to.target);
    req.version(11);
    const bool v6 = call.to.host.find(':') != std::string::npos;
    req.set(bhttp::field::host,
            (v6 ? "[" + call.to.host + "]" : call.to.host) + ":" + std::to_string(call.to.port));
    req.set(bhttp::field::user_agent, "ssecast");
    req.set(bhttp::field::connection, "close");
    for (const auto& [k, v] : call.headers) {
        req.set(k, v);
    }
    if (!call.body.empty()) {
        req.body() = std::move(call.body);
    }
    req.prepare_payload();
    auto [wec, wn] = co_await bhttp::async_write(stream, req, use_nothrow);
    if (wec) {
        co_return io_error(wec);
    }
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(max_body_bytes);
    auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, use_nothrow);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
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

} // namespace ssecast::outbound
