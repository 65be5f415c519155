// SPDX-License-Identifier: MIT
// POST /api/admin/disconnect.
#include "http/admin_disconnect.hpp"

#include "common/async_bridge.hpp"
#include "http/error_reply.hpp"
#include "http/routes.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace ssecast::http {

namespace {
/// The same bound as a JWT `sub`: user ids end up in Redis keys and log lines.
constexpr std::size_t kMaxTargetBytes = 256;
} // namespace

std::optional<Failure> parse_disconnect(std::string_view body, broker::DisconnectOrder& out) {
    boost::system::error_code ec;
    const auto doc = boost::json::parse(body, ec);
    if (ec) {
        return Failure{errc::bad_json, "The body is not valid JSON."};
    }
    const auto* obj = doc.if_object();
    if (!obj) {
        return Failure{errc::bad_request, R"(Expected {"user": "..."} or {"connection": "..."}.)"};
    }
    for (const auto& [key, value] : *obj) {
        if (key == "user" || key == "connection") {
            const auto* s = value.if_string();
            if (!s || s->empty() || s->size() > kMaxTargetBytes) {
                return Failure{errc::bad_request,
                               std::string(key) + " must be a string of 1 to 256 bytes."};
            }
            (key == "user" ? out.user : out.connection) = std::string(*s);
        } else if (key == "block_seconds") {
            const auto n = value.if_int64();
            if (!n || *n < 0 || *n > kMaxBlock.count()) {
                return Failure{errc::bad_request,
                               "block_seconds must be an integer from 0 to 31536000."};
            }
            out.block = std::chrono::seconds(*n);
        } else {
            return Failure{errc::bad_request, "Unknown field '" + std::string(key) + "'."};
        }
    }
    if (out.user.empty() == out.connection.empty()) {
        return Failure{errc::bad_request, "Give exactly one of user and connection."};
    }
    if (out.block.count() > 0 && out.user.empty()) {
        return Failure{errc::bad_request, "block_seconds needs a user."};
    }
    return std::nullopt;
}

boost::asio::awaitable<Response>
admin_disconnect(const Request& req, const auth::Authenticator& auth, broker::Control& control) {
    if (!is_admin_request(req, auth)) {
        co_return error_reply(errc::unauthorized, "Admin token required.");
    }
    broker::DisconnectOrder order;
    if (auto f = parse_disconnect(req.body, order)) {
        co_return error_reply(f->code, f->message);
    }
    auto n = co_await await_callback<result<std::size_t>>(
        [&](auto done) { control.disconnect(std::move(order), std::move(done)); });
    if (!n) {
        co_return error_reply(n.error(), "The order could not reach the other instances.");
    }
    Response res;
    res.body = boost::json::serialize(boost::json::object{{"disconnected", *n}});
    res.headers.emplace_back("Cache-Control", "no-store");
    co_return res;
}

} // namespace ssecast::http
