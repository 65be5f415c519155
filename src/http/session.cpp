// SPDX-License-Identifier: MIT
// HTTP/1.1 request loop on Beast. The only translation unit that includes Beast's HTTP
// parser (compile cost: STACK.md).
#include "http/session.hpp"

#include "admin/stats_stream.hpp"
#include "http/admission.hpp"
#include "http/error_reply.hpp"
#include "http/event_stream.hpp"
#include "http/routes.hpp"
#include "sse/encoder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <optional>
#include <tuple>
#include <variant>

namespace ssecast::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

namespace {

Request to_request(const bhttp::request<bhttp::string_body>& msg, const tcp::endpoint& peer,
                   const ServerContext& ctx) {
    Request req;
    req.method = std::string(msg.method_string());
    const std::string_view target = msg.target();
    const auto q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) {
        req.query = parse_query(target.substr(q + 1));
    }
    for (const auto& field : msg) {
        std::string name(field.name_string());
        for (auto& c : name) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        auto [it, inserted] = req.headers.emplace(std::move(name), std::string(field.value()));
        if (!inserted) { // repeated header: join as a list (RFC 9110 §5.3)
            it->second += it->first == "cookie" ? "; " : ", ";
            it->second += field.value();
        }
    }
    req.body = msg.body();
    req.client_ip = resolve_client_ip(peer.address(), req.header("x-forwarded-for"),
                                      req.header("forwarded"), ctx.proxies);
    req.peer_is_loopback =
        peer.address().is_loopback() ||
        (peer.address().is_v6() && peer.address().to_v6().is_v4_mapped() &&
         net::ip::make_address_v4(net::ip::v4_mapped, peer.address().to_v6()).is_loopback());
    return req;
}

net::awaitable<boost::system::error_code> write_response(beast::tcp_stream& stream,
                                                         const Request* req, Response res,
                                                         bool keep_alive,
                                                         const ServerContext& ctx) {
    bhttp::response<bhttp::string_body> msg;
    msg.version(11);
    msg.result(res.status);
    msg.set(bhttp::field::server, "ssecast");
    if (!res.content_type.empty()) {
        msg.set(bhttp::field::content_type, res.content_type);
    }
    if (req != nullptr) {
        ctx.cors.apply(*req, res.headers);
    }
    for (auto& [k, v] : res.headers) {
        msg.insert(k, v);
    }
    const bool head = req != nullptr && req->method == "HEAD";
    msg.body() = std::move(res.body);
    msg.keep_alive(keep_alive);
    msg.prepare_payload();
    stream.expires_after(std::chrono::seconds(30));
    if (head) {
        bhttp::response_serializer<bhttp::string_body> sr(msg); // head only: no body
        auto [ec, n] = co_await bhttp::async_write_header(stream, sr, use_nothrow);
        co_return ec;
    }
    auto [ec, n] = co_await bhttp::async_write(stream, msg, use_nothrow);
    co_return ec;
}

/// Error reply for a request head or body that could not be read; nullopt = just close.
std::optional<Response> read_error_reply(const boost::system::error_code& ec) {
    if (ec == bhttp::error::header_limit) {
        return error_reply(errc::header_too_large);
    }
    if (ec == bhttp::error::body_limit) {
        return error_reply(errc::payload_too_large, "The body is over limits.max_body_bytes.");
    }
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == bhttp::error::partial_message) {
        return std::nullopt;
    }
    if (ec.category() ==
        bhttp::make_error_code(bhttp::error::bad_method).category()) { // any parse error
        return error_reply(errc::bad_request, "Malformed HTTP request: " + ec.message());
    }
    return std::nullopt;
}

/// A request head whose framing or routing cannot be trusted (RFC 9112 §6.3, §3.2), or
/// nullopt. A Transfer-Encoding whose final coding is not chunked (`identity`, `gzip`,
/// `xchunked`, `chunked, identity`) leaves the body's length unknown, and HTTP/1.0 has no
/// chunked coding: both are 400 and the connection is closed. An HTTP/1.1 request needs
/// exactly one Host; no request may carry two.
std::optional<Response>
framing_error(const bhttp::request_parser<bhttp::string_body>::value_type& msg) {
    if (msg.count(bhttp::field::transfer_encoding) > 0 && (!msg.chunked() || msg.version() < 11)) {
        return error_reply(errc::bad_request,
                           "Malformed HTTP request: a Transfer-Encoding must end in chunked, and "
                           "HTTP/1.0 has none.");
    }
    const std::size_t hosts = msg.count(bhttp::field::host);
    if (hosts > 1 || (hosts == 0 && msg.version() >= 11)) {
        return error_reply(errc::bad_request,
                           "Malformed HTTP request: HTTP/1.1 needs exactly one Host header.");
    }
    return std::nullopt;
}

void log_stream_end(std::exception_ptr e) {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        spdlog::error("stream ended by an exception (a bug): {}", ex.what());
    }
}

/// Holds the stats stream's slot while admin/ runs the stream.
net::awaitable<void> serve_stats(tcp::socket socket, std::string head, StreamSlot slot,
                                 const ServerContext& ctx) {
    co_await admin::stream_stats(std::move(socket), std::move(head), ctx.monitor,
                                 [&ctx] { return ctx.draining.load(std::memory_order_relaxed); });
    slot.release();
}

/// Admits a stream request (http/admission) and, when accepted, hands the socket to the
/// stream coroutine. Returns the refusal to send otherwise.
net::awaitable<std::optional<Response>> start_stream(beast::tcp_stream& stream, const Request& req,
                                                     Route route, ServerContext& ctx,
                                                     hub::Shard& shard) {
    Headers headers;
    if (route == Route::monitor_stream) {
        auto admitted = co_await admit_stats(req, ctx);
        if (auto* refused = std::get_if<Response>(&admitted)) {
            co_return std::move(*refused);
        }
        ctx.cors.apply(req, headers);
        stream.expires_never();
        tcp::socket socket = stream.release_socket();
        auto ex = socket.get_executor();
        net::co_spawn(ex,
                      serve_stats(std::move(socket),
                                  response_head(headers) + sse::encode_retry(ctx.cfg.sse.retry),
                                  std::move(std::get<StreamSlot>(admitted)), ctx),
                      log_stream_end);
        co_return std::nullopt;
    }
    auto admitted = co_await admit_stream(req, ctx);
    if (auto* refused = std::get_if<Response>(&admitted)) {
        co_return std::move(*refused);
    }
    auto& a = std::get<AdmittedStream>(admitted);
    ctx.cors.apply(req, a.headers);
    stream.expires_never();
    tcp::socket socket = stream.release_socket();
    auto ex = socket.get_executor();
    net::co_spawn(ex,
                  stream_events(std::move(socket), std::move(a.sub), std::move(a.slot),
                                std::move(a.headers), ctx.cfg, ctx.broker, shard),
                  log_stream_end);
    co_return std::nullopt;
}

} // namespace

net::awaitable<void> serve_session(tcp::socket socket, ServerContext& ctx, hub::Shard& shard) {
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    if (ec) {
        co_return;
    }
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(ctx.cfg.http.max_header_bytes));
        parser.body_limit(ctx.cfg.limits.max_body_bytes);
        stream.expires_after(ctx.cfg.http.header_timeout);
        auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, use_nothrow);
        std::optional<Response> refused_head;
        if (!hec) {
            refused_head = framing_error(parser.get());
        }
        if (refused_head) {
            // The body's length is unknown: answering and reading on would let whatever
            // follows run as a request of its own (smuggling). Answer, then close.
            co_await write_response(stream, nullptr, std::move(*refused_head), false, ctx);
            break;
        }
        auto [rec, n] = hec ? std::tuple(hec, hn)
                            : co_await bhttp::async_read(stream, buffer, parser, use_nothrow);
        if (rec) {
            if (auto res = read_error_reply(rec)) {
                co_await write_response(stream, nullptr, std::move(*res), false, ctx);
            }
            break;
        }
        const auto& msg = parser.get();
        Request req = to_request(msg, peer, ctx);
        const bool keep_alive = msg.keep_alive() && !ctx.draining.load();
        const Route route = route_of(req);
        if (route == Route::events || route == Route::monitor_stream) {
            auto refused = co_await start_stream(stream, req, route, ctx, shard);
            if (!refused) {
                co_return; // the stream owns the socket now
            }
            // Every 503 here means "this instance cannot take a stream now" (at its
            // connection limit, draining, event store down): shed the connection too, so a
            // flood does not hold sessions and descriptors until their header timeout, and
            // the client's retry can reach another instance behind the load balancer.
            const bool keep = keep_alive && refused->status != 503;
            if (co_await write_response(stream, &req, std::move(*refused), keep, ctx) || !keep) {
                break;
            }
            continue;
        }
        Response res = co_await handle_request(req, route, ctx);
        if (co_await write_response(stream, &req, std::move(res), keep_alive, ctx) || !keep_alive) {
            break;
        }
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

} // namespace ssecast::http
