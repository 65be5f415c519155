// SPDX-License-Identifier: MIT
// Master discovery and failover notices through Redis Sentinel.
#include "redis/sentinel.hpp"

#include <boost/asio/steady_timer.hpp>

#include <spdlog/spdlog.h>

#include "common/utf8.hpp"

#include <algorithm>
#include <charconv>

namespace ssecast::redis {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {
constexpr auto kPollConnected = 50ms; ///< while no sentinel is connected yet
constexpr std::string_view kSwitchChannel = "+switch-master";

std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v == 0 || v > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(v);
}

/// A master address a sentinel may name: an IP or DNS name (it goes to the resolver and into
/// log lines, so nothing else is taken from the wire).
bool is_host(std::string_view h) {
    return !h.empty() && h.size() <= 253 && std::all_of(h.begin(), h.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-' || c == '_' || c == ':';
    });
}

std::string shown(const config::HostPort& hp) {
    return hp.host + ":" + std::to_string(hp.port);
}
} // namespace

std::optional<config::HostPort> parse_switch_master(std::string_view message,
                                                    std::string_view master) {
    std::vector<std::string_view> words;
    while (!message.empty() && words.size() < 6) {
        const auto space = message.find(' ');
        words.push_back(message.substr(0, space));
        message = space == std::string_view::npos ? std::string_view() : message.substr(space + 1);
    }
    if (words.size() != 5 || words[0] != master || !is_host(words[3])) {
        return std::nullopt;
    }
    const auto port = parse_port(words[4]);
    if (!port) {
        return std::nullopt;
    }
    return config::HostPort{std::string(words[3]), *port};
}

std::shared_ptr<Sentinel> Sentinel::create(net::io_context& ioc, SentinelOptions opts) {
    return std::shared_ptr<Sentinel>(new Sentinel(ioc, std::move(opts)));
}

Sentinel::Sentinel(net::io_context& ioc, SentinelOptions opts) : ioc_(ioc), opts_(std::move(opts)) {
    for (const auto& s : opts_.sentinels) {
        auto options = [&](const char* role) {
            ConnectionOptions o;
            o.name = role; // the log line adds the address
            o.endpoint.host = s.host;
            o.endpoint.port = s.port;
            o.endpoint.password = opts_.password;
            o.connect_timeout = opts_.connect_timeout;
            o.command_timeout = opts_.command_timeout;
            return o;
        };
        queries_.push_back(Connection::create(ioc_, options("sentinel")));
        watchers_.push_back(Connection::create(ioc_, options("sentinel watch")));
    }
}

void Sentinel::start() {
    for (const auto& w : watchers_) {
        w->on_up([this, weak = std::weak_ptr<Connection>(w), alive = weak_from_this()] {
            const auto self = alive.lock();
            const auto c = weak.lock();
            if (self && c) {
                c->pubsub("SUBSCRIBE", {std::string(kSwitchChannel)},
                          [this, alive](const Reply& r) {
                              if (alive.lock()) {
                                  on_push(r);
                              }
                          });
            }
        });
    }
    for (auto& c : queries_) {
        c->start();
    }
    for (auto& c : watchers_) {
        c->start();
    }
}

void Sentinel::stop() {
    stopped_ = true;
    for (auto& c : queries_) {
        c->stop();
    }
    for (auto& c : watchers_) {
        c->stop();
    }
}

void Sentinel::on_push(const Reply& r) {
    if (!r.is_array() || r.elements.size() != 3 || r.elements[0].str != "message" ||
        r.elements[1].str != kSwitchChannel) {
        return; // the subscribe confirmation, or a channel we never asked for
    }
    const auto to = parse_switch_master(r.elements[2].str, opts_.master);
    if (!to) {
        return; // another master of the same sentinels
    }
    spdlog::warn("redis sentinel: +switch-master {}: the master is now {}", opts_.master,
                 shown(*to));
    for (auto& fn : switch_handlers_) {
        fn(*to);
    }
}

void Sentinel::resolve(Resolved done) {
    ask(0, std::chrono::steady_clock::now() + opts_.connect_timeout, {}, std::move(done));
}

void Sentinel::ask(std::size_t from, std::chrono::steady_clock::time_point deadline,
                   std::string why, Resolved done) {
    if (stopped_) {
        done(std::nullopt, "stopped");
        return;
    }
    std::size_t i = from;
    while (i < queries_.size() && !queries_[i]->up()) {
        ++i;
    }
    if (i == queries_.size()) {
        if (from == 0 && std::chrono::steady_clock::now() < deadline) {
            // None connected yet (start-up, or every sentinel just restarted): wait a little.
            auto timer = std::make_shared<net::steady_timer>(ioc_, kPollConnected);
            timer->async_wait([weak = weak_from_this(), timer, deadline,
                               done = std::move(done)](boost::system::error_code) mutable {
                if (auto self = weak.lock()) {
                    self->ask(0, deadline, {}, std::move(done));
                } else {
                    done(std::nullopt, "stopped");
                }
            });
            return;
        }
        done(std::nullopt,
             why.empty() ? "no sentinel of " + opts_.master + " is reachable" : std::move(why));
        return;
    }
    const auto& sentinel = opts_.sentinels[i];
    queries_[i]->command(
        {"SENTINEL", "get-master-addr-by-name", opts_.master},
        [weak = weak_from_this(), i, deadline, at = shown(sentinel),
         done = std::move(done)](result<Reply> r) mutable {
            const auto self = weak.lock();
            if (!self) {
                done(std::nullopt, "stopped");
                return;
            }
            std::string failed;
            if (!r) {
                failed = "sentinel " + at + " did not answer";
            } else if (r->is_nil()) {
                failed = "sentinel " + at + " knows no master named " + self->opts_.master;
            } else if (r->is_error()) {
                failed = "sentinel " + at + ": " + log_excerpt(r->str, 120);
            } else if (r->is_array() && r->elements.size() == 2 && is_host(r->elements[0].str)) {
                if (const auto port = parse_port(r->elements[1].str)) {
                    done(config::HostPort{r->elements[0].str, *port}, {});
                    return;
                }
                failed = "sentinel " + at + " answered a bad port";
            } else {
                failed = "sentinel " + at + " answered something else than [ip, port]";
            }
            self->ask(i + 1, deadline, std::move(failed), std::move(done)); // the next one
        });
}

} // namespace ssecast::redis
