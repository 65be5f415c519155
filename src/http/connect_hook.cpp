// SPDX-License-Identifier: MIT
// ConnectHook: one bounded POST per uncached subscribe, answers cached by their inputs.
#include "http/connect_hook.hpp"

#include "auth/hook_reply.hpp"
#include "common/utf8.hpp"
#include "outbound/http_client.hpp"

#include <boost/json/serialize.hpp>

#include <spdlog/spdlog.h>

namespace ssecast::http {

namespace {
/// Cached answers at most; past it the expired ones go, then (a flood of distinct
/// credentials) all of them: memory stays bounded, the hook sees more calls.
constexpr std::size_t kMaxCached = 10000;
/// A failing hook is logged at most this often.
constexpr std::chrono::seconds kWarnEvery{10};
} // namespace

ConnectHook::ConnectHook(const config::AuthConfig& cfg)
    : to_(config::parse_http_url(cfg.connect_url).value()),
      tls_(to_.tls ? outbound::TlsClient::create(cfg.tls_ca_file) : nullptr),
      timeout_(cfg.connect_timeout), cache_for_(cfg.connect_cache) {}

boost::asio::awaitable<result<auth::Identity>> ConnectHook::authorize(const Request& req) {
    boost::json::array topics;
    for (const auto t : req.params("topic")) {
        topics.emplace_back(t);
    }
    boost::json::object body{{"cookie", req.header("cookie")},
                             {"authorization", req.header("authorization")},
                             {"ip", req.client_ip},
                             {"topics", std::move(topics)}};
    std::string text = boost::json::serialize(body);
    const auto now = std::chrono::steady_clock::now();
    if (cache_for_.count() > 0) {
        const std::lock_guard lock(mutex_);
        if (const auto it = cache_.find(text); it != cache_.end() && now < it->second.until) {
            co_return it->second.answer;
        }
    }
    outbound::HttpCall call{.to = to_,
                            .method = "POST",
                            .headers = {{"Content-Type", "application/json"}},
                            .body = text,
                            .tls = tls_};
    auto reply = co_await outbound::http_call(std::move(call), timeout_, auth::kMaxHookReplyBytes);
    result<auth::Identity> answer = errc::auth_unavailable;
    std::string why;
    if (!reply) {
        why = std::string(to_string(static_cast<errc>(reply.error().value())));
    } else {
        answer =
            auth::parse_hook_reply(reply->status, reply->body, std::chrono::system_clock::now());
        if (!answer && answer.error() == errc::auth_unavailable) {
            why = "HTTP " + std::to_string(reply->status) + " " + log_excerpt(reply->body, 120);
        }
    }
    const std::lock_guard lock(mutex_);
    if (!why.empty()) {
        // SPEC: a hook that is down, slow or broken answers 503 and never lets a request
        // through; not cached, so it is asked again as soon as it recovers.
        if (now - last_warning_ >= kWarnEvery) {
            spdlog::warn("auth.connect_url: no usable answer ({}); subscribes are 503", why);
            last_warning_ = now;
        }
        co_return answer;
    }
    if (cache_for_.count() > 0) {
        if (cache_.size() >= kMaxCached) {
            std::erase_if(cache_, [now](const auto& kv) { return kv.second.until <= now; });
            if (cache_.size() >= kMaxCached) {
                cache_.clear();
            }
        }
        cache_.insert_or_assign(std::move(text), Entry{now + cache_for_, answer});
    }
    co_return answer;
}

} // namespace ssecast::http
