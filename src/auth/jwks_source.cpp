// SPDX-License-Identifier: MIT
// JWKS from a file and from a URL (outbound::http_call on the fetcher's own loop).
#include "auth/jwks_source.hpp"

#include "common/utf8.hpp"
#include "outbound/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ssecast::auth {

namespace net = boost::asio;

namespace {
/// Keys are refetched this often even when no token asks, so a key the provider withdrew
/// stops verifying within this time.
constexpr std::chrono::minutes kPeriodicRefresh{5};

std::string skipped_report(const Jwks& jwks) {
    std::string out;
    for (const auto& s : jwks.skipped) {
        out += (out.empty() ? "" : "; ") + s;
    }
    return out;
}
} // namespace

void load_jwks_file(const std::string& path, KeySet& keys) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("auth.jwks_file: cannot read " + path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto jwks = parse_jwks(text.str());
    if (!jwks) {
        throw std::runtime_error("auth.jwks_file: " + path +
                                 " is not a JWKS document ({\"keys\": [...]}, at most 64 keys)");
    }
    for (const auto& s : jwks->skipped) {
        spdlog::warn("auth.jwks_file {}: skipped {}", path, s);
    }
    if (jwks->keys.empty()) {
        throw std::runtime_error("auth.jwks_file: " + path + " has no usable key");
    }
    spdlog::info("auth.jwks_file: {} key(s) from {}", jwks->keys.size(), path);
    keys.replace(KeySet::Source::file, std::move(jwks->keys));
}

JwksFetcher::JwksFetcher(const config::AuthConfig& cfg, KeySet& keys)
    : cfg_(cfg), keys_(keys),
      tls_(cfg.jwks_url.starts_with("https://") ? outbound::TlsClient::create(cfg.tls_ca_file)
                                                : nullptr),
      work_(net::make_work_guard(ioc_)), periodic_(ioc_), thread_([this] { ioc_.run(); }) {
    net::post(ioc_, [this] {
        start_fetch();
        arm_periodic();
    });
}

JwksFetcher::~JwksFetcher() {
    net::post(ioc_, [this] { periodic_.cancel(); });
    work_.reset();
    ioc_.stop();
    thread_.join();
}

bool JwksFetcher::wait_first() {
    auto f = first_.get_future();
    if (f.wait_for(cfg_.jwks_timeout + std::chrono::milliseconds(200)) !=
        std::future_status::ready) {
        return false;
    }
    return f.get();
}

void JwksFetcher::refresh(std::function<void()> done) {
    net::post(ioc_, [this, done = std::move(done)]() mutable {
        if (in_flight_) {
            waiters_.push_back(std::move(done));
            return;
        }
        if (std::chrono::steady_clock::now() - last_start_ < cfg_.jwks_min_refresh) {
            done(); // SPEC §Keys: at most once per jwks_min_refresh_seconds
            return;
        }
        waiters_.push_back(std::move(done));
        start_fetch();
    });
}

void JwksFetcher::arm_periodic() {
    periodic_.expires_after(kPeriodicRefresh);
    periodic_.async_wait([this](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        if (!in_flight_) {
            start_fetch();
        }
        arm_periodic();
    });
}

void JwksFetcher::start_fetch() {
    in_flight_ = true;
    last_start_ = std::chrono::steady_clock::now();
    auto to = config::parse_http_url(cfg_.jwks_url); // validated at config load
    if (!to) {
        finish_fetch(false);
        return;
    }
    outbound::HttpCall call{
        .to = std::move(*to), .headers = {{"Accept", "application/json"}}, .body = {}, .tls = tls_};
    net::co_spawn(
        ioc_,
        [this, call = std::move(call)]() -> net::awaitable<void> {
            auto reply = co_await outbound::http_call(call, cfg_.jwks_timeout, kMaxJwksBytes);
            std::string why;
            if (!reply) {
                why = std::string(to_string(static_cast<errc>(reply.error().value())));
            } else if (reply->status != 200) {
                why = "HTTP " + std::to_string(reply->status);
            } else if (auto jwks = parse_jwks(reply->body); !jwks) {
                why = "not a JWKS document";
            } else if (jwks->keys.empty() && !jwks->skipped.empty()) {
                // Every key unusable looks like a broken provider, not a withdrawal of all
                // keys: keep the last good ones.
                why = "no usable key: " + skipped_report(*jwks);
            } else {
                const std::string report = skipped_report(*jwks);
                if (report != last_skipped_ && !report.empty()) {
                    spdlog::warn("auth.jwks_url: skipped {}", report);
                }
                last_skipped_ = report;
                if (failing_ || !first_done_) {
                    spdlog::info("auth.jwks_url: {} key(s) from {}", jwks->keys.size(),
                                 cfg_.jwks_url);
                }
                keys_.replace(KeySet::Source::url, std::move(jwks->keys));
                failing_ = false;
                finish_fetch(true);
                co_return;
            }
            if (!failing_) {
                spdlog::warn("auth.jwks_url: fetch from {} failed ({}); keeping the last good "
                             "keys, tokens signed with others stay 401",
                             cfg_.jwks_url, log_excerpt(why, 200));
            }
            failing_ = true;
            finish_fetch(false);
        },
        [this](std::exception_ptr e) {
            if (e) {
                spdlog::error("auth.jwks_url: fetch ended by an exception (a bug)");
                finish_fetch(false);
            }
        });
}

void JwksFetcher::finish_fetch(bool ok) {
    in_flight_ = false;
    if (!first_done_) {
        first_done_ = true;
        first_.set_value(ok);
    }
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& w : waiters) {
        w();
    }
}

} // namespace ssecast::auth
