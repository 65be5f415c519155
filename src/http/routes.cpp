// SPDX-License-Identifier: MIT
// The route table and the non-streaming endpoints.
#include "http/routes.hpp"

#include "admin/monitor_sources.hpp"
#include "common/async_bridge.hpp"
#include "http/admin_disconnect.hpp"
#include "http/error_reply.hpp"
#include "http/publish_request.hpp"
#include "http/static_files.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <charconv>

namespace ssecast::http {

namespace net = boost::asio;

namespace {

Response json_reply(unsigned status, std::string body) {
    Response res;
    res.status = status;
    res.body = std::move(body);
    return res;
}

Response failure_reply(const Failure& f) {
    return error_reply(f.code, f.message);
}

std::size_t limit_param(const Request& req) {
    const std::string_view text = req.param("limit");
    std::size_t limit = 100;
    if (!text.empty()) {
        std::from_chars(text.data(), text.data() + text.size(), limit);
    }
    return std::min<std::size_t>(limit, 10000);
}

publish::Limits publish_limits(const config::LimitsConfig& limits) {
    return {limits.max_body_bytes, limits.max_event_bytes};
}

net::awaitable<Response> publish(const Request& req, ServerContext& ctx) {
    if (ctx.draining.load(std::memory_order_relaxed)) {
        co_return error_reply(errc::draining);
    }
    auto who = ctx.auth.authenticate_publisher(req.header("authorization"));
    if (!who && who.error() == errc::unknown_key && ctx.refresh_keys) {
        // SPEC §Keys: as on subscribe, one JWKS refetch for an unknown kid, then once more.
        co_await await_callback<bool>(
            [&](auto done) { ctx.refresh_keys([done]() mutable { done(true); }); });
        who = ctx.auth.authenticate_publisher(req.header("authorization"));
    }
    if (!who) {
        ctx.metrics.global().publish_rejected++;
        co_return error_reply(errc::unauthorized,
                              "Publishing needs Authorization: Bearer <publish key or JWT>.");
    }
    Headers limit_headers;
    if (auto refused =
            co_await check_rate_limit(ctx.limiter, ctx.metrics, config::RateLimitEndpoint::publish,
                                      *who, req.client_ip, limit_headers)) {
        auto res = failure_reply(*refused);
        res.headers = std::move(limit_headers);
        co_return res;
    }
    PublishBatch batch;
    if (auto f = parse_publish(req.body, publish_limits(ctx.cfg.limits), *who, batch)) {
        ctx.metrics.global().publish_rejected++;
        auto res = failure_reply(*f);
        res.headers = std::move(limit_headers);
        co_return res;
    }
    const std::size_t count = batch.drafts.size();
    auto ids = co_await await_callback<result<std::vector<sse::EventId>>>(
        [&](auto done) { ctx.broker.publish(std::move(batch.drafts), std::move(done)); });
    Response res;
    if (!ids) {
        // SPEC: never a 200 for an event that was not stored and fanned out.
        ctx.metrics.global().publish_rejected++;
        res = error_reply(ids.error());
    } else {
        ctx.metrics.global().published += count;
        boost::json::object body;
        if (batch.array) {
            boost::json::array list;
            for (const auto& id : *ids) {
                list.emplace_back(id.str());
            }
            body["ids"] = std::move(list);
        } else {
            body["id"] = ids->front().str();
        }
        res = json_reply(200, boost::json::serialize(body));
    }
    res.headers = std::move(limit_headers);
    co_return res;
}

} // namespace

bool is_admin_request(const Request& req, const auth::Authenticator& auth) {
    return auth.is_admin(req.header("authorization"));
}

net::awaitable<std::optional<Failure>> check_rate_limit(ratelimit::RateLimiter& limiter,
                                                        metrics::Metrics& metrics,
                                                        config::RateLimitEndpoint endpoint,
                                                        const auth::Identity& who,
                                                        const std::string& ip, Headers& headers) {
    if (!limiter.covers(endpoint)) {
        co_return std::nullopt;
    }
    ratelimit::Check check{endpoint, who.anonymous ? std::string() : who.user_id, ip};
    const auto decision = co_await await_callback<ratelimit::Decision>(
        [&](auto done) { limiter.check(check, std::move(done)); });
    const bool sse = endpoint == config::RateLimitEndpoint::sse;
    auto& g = metrics.global();
    (decision.allowed ? (sse ? g.rate_allowed_sse : g.rate_allowed_publish)
                      : (sse ? g.rate_limited_sse : g.rate_limited_publish))++;
    for (auto& h : ratelimit::rate_limit_headers(decision, sse ? "sse" : "publish",
                                                 std::chrono::system_clock::now())) {
        headers.push_back(std::move(h));
    }
    if (!decision.allowed) {
        co_return Failure{errc::rate_limited,
                          fmt::format("Rate limit exceeded: at most {} requests per {} s; retry in "
                                      "{} s.",
                                      decision.limit, decision.window.count(),
                                      std::max<long>(1, decision.retry_after.count()))};
    }
    co_return std::nullopt;
}

Route route_of(const Request& req) {
    const std::string& path = req.path;
    const std::string& method = req.method;
    if (method == "OPTIONS") {
        return Route::preflight;
    }
    if (method == "GET" && path == "/events") {
        return Route::events;
    }
    if (method == "GET" && path == "/api/admin/sse-monitor/stream") {
        return Route::monitor_stream;
    }
    if (path == "/publish") {
        return method == "POST" ? Route::publish : Route::wrong_method;
    }
    if (path == "/api/admin/disconnect") {
        return method == "POST" ? Route::disconnect : Route::wrong_method;
    }
    if (method != "GET" && method != "HEAD") {
        return Route::wrong_method;
    }
    if (path == "/healthz") {
        return Route::healthz;
    }
    if (path == "/readyz") {
        return Route::readyz;
    }
    if (path == "/metrics") {
        return Route::metrics;
    }
    if (path == "/api/admin/sse-monitor") {
        return Route::monitor;
    }
    if (path == "/" || path == "/index.html") {
        return Route::demo;
    }
    if (path == "/admin" || path.starts_with("/admin/")) {
        return Route::admin_files;
    }
    return Route::not_found;
}

net::awaitable<Response> handle_request(const Request& req, Route route, ServerContext& ctx) {
    switch (route) {
    case Route::preflight:
        co_return ctx.cors.preflight(req);
    case Route::publish:
        co_return co_await publish(req, ctx);
    case Route::disconnect:
        co_return co_await admin_disconnect(req, ctx.auth, *ctx.control);
    case Route::wrong_method:
        if (req.path == "/publish") {
            co_return error_reply(errc::method_not_allowed, "Use POST /publish.");
        }
        if (req.path == "/api/admin/disconnect") {
            co_return error_reply(errc::method_not_allowed, "Use POST /api/admin/disconnect.");
        }
        co_return error_reply(errc::method_not_allowed);
    case Route::healthz:
        co_return json_reply(200, R"({"status":"ok"})");
    case Route::readyz: {
        const bool ready = !ctx.draining.load() && ctx.ready();
        if (!ctx.shard_status) {
            co_return json_reply(ready ? 200 : 503,
                                 ready ? R"({"status":"ready"})" : R"({"status":"not ready"})");
        }
        // redis.shards: say which shards are down; only shard 0 decides readiness.
        boost::json::array down;
        const auto shards = ctx.shard_status();
        for (std::size_t i = 0; i < shards.size(); ++i) {
            if (shards[i] != "connected") {
                down.push_back(i);
            }
        }
        co_return json_reply(ready ? 200 : 503, boost::json::serialize(boost::json::object{
                                                    {"status", ready ? "ready" : "not ready"},
                                                    {"shardsDown", std::move(down)}}));
    }
    case Route::metrics: {
        Response res;
        res.content_type = "text/plain; version=0.0.4; charset=utf-8";
        res.body = ctx.metrics.render_prometheus();
        co_return res;
    }
    case Route::monitor: {
        if (!is_admin_request(req, ctx.auth)) {
            co_return error_reply(errc::unauthorized, "Admin token required.");
        }
        auto res =
            json_reply(200, co_await admin::monitor_document(ctx.monitor, limit_param(req),
                                                             std::string(req.param("user"))));
        res.headers.emplace_back("Cache-Control", "no-store");
        co_return res;
    }
    case Route::demo:
        co_return demo_page(req, ctx.demo_publish_key);
    case Route::admin_files:
        co_return admin_file(req, ctx.admin);
    case Route::events:
    case Route::monitor_stream: // the session hands these to a stream before routing here
    case Route::not_found:
        break;
    }
    co_return error_reply(errc::not_found);
}

} // namespace ssecast::http
