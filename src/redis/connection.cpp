// SPDX-License-Identifier: MIT
// Self-healing Redis connection: handshake, pipeline, timeouts, reconnect.
#include "redis/connection.hpp"

#include "config/secret_file.hpp"
#include "redis/sentinel.hpp"

#include <boost/asio/post.hpp>

#include <hiredis/hiredis.h>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace ssecast::redis {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {
constexpr auto kSweepEvery = 100ms;
/// Replies that a subscribed connection gets without asking (RESP2 pub/sub frames).
constexpr std::string_view kPushKinds[] = {"message",     "pmessage",   "subscribe",
                                           "unsubscribe", "psubscribe", "punsubscribe"};

bool is_push(const redisReply& r) {
    if (r.type != REDIS_REPLY_ARRAY || r.elements == 0 ||
        r.element[0]->type != REDIS_REPLY_STRING) {
        return false;
    }
    const std::string_view kind(r.element[0]->str, r.element[0]->len);
    for (const auto k : kPushKinds) {
        if (kind == k) {
            return true;
        }
    }
    return false;
}
/// A repeated failure reason is logged again (at warn) after this long.
constexpr auto kRepeatLogEvery = 60s;
/// A NOPERM/NOAUTH reply keeps auth_failed() true this long (the readiness window).
constexpr auto kRefusalWindow = 3s;

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// Error replies that mean "these credentials may not do this", as opposed to a bad
/// command or a full disk. Inside a script Redis 7 words an ACL refusal as "ERR The user
/// executing the script can't run this command or subcommand" (or "... access at least
/// one of the keys ...").
bool is_refusal(std::string_view err) {
    for (const std::string_view code : {"NOAUTH", "NOPERM", "WRONGPASS"}) {
        if (err.starts_with(code)) {
            return true;
        }
    }
    return err.find("user executing the script can't") != std::string_view::npos;
}

/// Error replies that mean "this node is not (or not yet) a usable master": a reason to
/// reconnect and ask again where the master is (a demoted master answers READONLY to writes).
bool is_failover_reply(std::string_view err) {
    for (const std::string_view code : {"READONLY", "LOADING", "MASTERDOWN"}) {
        if (err.starts_with(code)) {
            return true;
        }
    }
    return false;
}

/// The role ROLE names ("master", "slave", "sentinel"), or "" for another shape.
std::string role_of(const Reply& r) {
    return r.is_array() && !r.elements.empty() ? r.elements[0].str : std::string();
}

/// `text` with every occurrence of `secret` replaced by ***: no Redis error reply we know of
/// echoes a password, but a log line must not depend on that.
std::string without(std::string text, const std::string& secret) {
    if (secret.empty()) {
        return text;
    }
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
        text.replace(pos, secret.size(), "***");
        pos += 3;
    }
    return text;
}

} // namespace

std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, std::minstd_rand& rng) {
    const auto ceiling = std::min<std::int64_t>(
        cap.count(), base.count() * (std::int64_t{1} << std::min(attempt, 16u)));
    const auto floor = std::min<std::int64_t>(base.count() / 2, ceiling);
    std::uniform_int_distribution<std::int64_t> pick(floor, ceiling);
    return std::chrono::milliseconds(pick(rng));
}

std::shared_ptr<Connection> Connection::create(net::io_context& ioc, ConnectionOptions opts) {
    return std::shared_ptr<Connection>(new Connection(ioc, std::move(opts)));
}

Connection::Connection(net::io_context& ioc, ConnectionOptions opts)
    : ioc_(ioc), opts_(std::move(opts)), connect_timer_(ioc), retry_timer_(ioc), sweep_timer_(ioc),
      rng_(std::random_device{}()) {}

Connection::~Connection() {
    stop();
}

void Connection::start() {
    net::post(ioc_, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self || self->state_ != State::idle) {
            return;
        }
        if (self->opts_.sentinel) { // on the loop: the sentinel's handler list is loop-only
            self->opts_.sentinel->on_switch([weak](const config::HostPort& to) {
                if (auto c = weak.lock()) {
                    c->master_switched(to);
                }
            });
        }
        self->connect();
    });
}

void Connection::connect() {
    if (state_ != State::idle) {
        return;
    }
    password_ = opts_.endpoint.password;
    if (!opts_.password_file.empty()) {
        std::string why;
        if (!config::read_secret_file(opts_.password_file, password_, why)) {
            failure_.store(Failure::auth, std::memory_order_relaxed);
            retry_later("redis.password_file " + opts_.password_file + ": " + why, false);
            return;
        }
    }
    state_ = State::connecting;
    if (!opts_.sentinel) {
        target_ = {opts_.endpoint.host, opts_.endpoint.port};
        open_link();
        return;
    }
    // Asked before every attempt, so a reconnect after a failover finds the new master.
    opts_.sentinel->resolve(
        [weak = weak_from_this()](std::optional<config::HostPort> master, const std::string& why) {
            auto self = weak.lock();
            if (!self || self->state_ != State::connecting || self->link_) {
                return; // stopped meanwhile
            }
            if (!master) {
                self->state_ = State::idle;
                self->failure_.store(Failure::none, std::memory_order_relaxed);
                self->retry_later(why, false);
                return;
            }
            self->target_ = *master;
            self->open_link();
        });
}

void Connection::open_link() {
    link_ = Transport::create(ioc_, opts_.tls);
    link_->connect(
        target_.host, target_.port,
        // The transport keeps this callback: a raw pointer to tell links apart
        // (a shared_ptr here would make the transport own itself and leak).
        [weak = weak_from_this(), link = link_.get()](const std::string& error, bool tls) {
            auto self = weak.lock();
            if (!self || self->link_.get() != link) {
                return;
            }
            if (!error.empty()) {
                self->failure_.store(tls ? Failure::tls : Failure::none, std::memory_order_relaxed);
                self->lose(error);
                return;
            }
            self->start_handshake();
        });
    connect_timer_.expires_after(opts_.connect_timeout);
    connect_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self) {
            return;
        }
        if (self->state_ == State::connecting && self->link_->tls_handshaking()) {
            self->failure_.store(Failure::tls, std::memory_order_relaxed);
            self->lose("TLS handshake timed out (is it a TLS port?)");
        } else if (self->state_ == State::connecting) {
            self->lose("connect timed out");
        } else if (self->state_ == State::handshaking) {
            // Connected but unanswered: a hung Redis (the kernel accepts for a stopped one).
            self->lose("no answer to " + self->steps_.front() + " within the connect timeout");
        }
    });
}

void Connection::retry_later(const std::string& why, bool was_connected, bool repeatable) {
    if (state_ == State::stopped) {
        return;
    }
    const auto delay = backoff_delay(attempt_, opts_.backoff_base, opts_.backoff_cap, rng_);
    const auto now = std::chrono::steady_clock::now();
    if (attempt_ == 0) {
        burst_started_ = now;
    }
    ++attempt_;
    // One line when a burst starts or its reason changes, then one a minute: an outage or
    // a wrong password must not write a line per attempt forever.
    bool news = was_connected || why != logged_why_ || now - logged_at_ >= kRepeatLogEvery;
    if (repeatable) {
        // A node that stays a replica would otherwise write a line per reconnect.
        news = why != repeated_why_ || now - repeated_at_ >= kRepeatLogEvery;
        if (news) {
            repeated_why_ = why;
            repeated_at_ = now;
        }
    }
    const auto level = news ? spdlog::level::warn : spdlog::level::debug;
    if (was_connected) {
        spdlog::log(level, "redis connection lost ({} {}): {}, retrying in {} ms", opts_.name,
                    where(), why, delay.count());
    } else if (why == logged_why_) {
        const auto for_s = std::chrono::duration_cast<std::chrono::seconds>(now - burst_started_);
        spdlog::log(level,
                    "redis connect still failing ({} {}, attempt {}, for {} s): {}, "
                    "retrying in {} ms",
                    opts_.name, where(), attempt_, for_s.count(), why, delay.count());
    } else {
        spdlog::log(level,
                    "redis connect failed ({} {}, attempt {}): {}, retrying in {} ms "
                    "(the same error again is logged once a minute)",
                    opts_.name, where(), attempt_, why, delay.count());
    }
    if (news) {
        logged_why_ = why;
        logged_at_ = now;
    }
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        if (auto self = weak.lock(); self && !ec) {
            self->connect();
        }
    });
}

void Connection::start_handshake() {
    state_ = State::handshaking;
    link_->start(
        [weak = weak_from_this()](const redisReply& r) {
            if (auto self = weak.lock()) {
                self->on_reply(r);
            }
        },
        [weak = weak_from_this(), link = link_.get()](const std::string& why) {
            if (auto self = weak.lock(); self && self->link_.get() == link) {
                self->lose(why);
            }
        });
    const auto& ep = opts_.endpoint;
    std::vector<std::vector<std::string>> commands;
    steps_.clear();
    if (!password_.empty()) {
        // SPEC §Redis in production: every connection authenticates before its first command.
        commands.push_back(ep.username.empty()
                               ? std::vector<std::string>{"AUTH", password_}
                               : std::vector<std::string>{"AUTH", ep.username, password_});
        steps_.emplace_back("AUTH");
    }
    if (ep.db != 0) {
        commands.push_back({"SELECT", std::to_string(ep.db)});
        steps_.push_back("SELECT " + std::to_string(ep.db));
    }
    if (opts_.sentinel) {
        // A sentinel may name a master that was demoted a moment ago: check, don't trust.
        commands.push_back({"ROLE"});
        steps_.emplace_back("ROLE");
    }
    if (commands.empty()) {
        commands.push_back({"PING"}); // a Redis that accepts but never answers is not up
        steps_.emplace_back("PING");
    }
    const auto deadline = std::chrono::steady_clock::now() + opts_.connect_timeout;
    for (std::size_t i = 0; i < commands.size(); ++i) {
        const bool last = i + 1 == commands.size();
        send(
            std::move(commands[i]), deadline,
            [this, weak = weak_from_this(), link = link_, step = steps_[i], last](result<Reply> r) {
                auto self = weak.lock();
                if (!self || link_ != link || state_ != State::handshaking || !r) {
                    return; // dropped meanwhile: lose() already handles the attempt
                }
                if (r->is_error()) {
                    const bool auth = step == "AUTH" || is_refusal(r->str);
                    failure_.store(auth ? Failure::auth : Failure::none, std::memory_order_relaxed);
                    lose(step + " refused: " + without(r->str, password_));
                    return;
                }
                if (step == "ROLE" && role_of(*r) != "master") {
                    lose(where() + " is a " + role_of(*r) + ", not the master (failover?)");
                    return;
                }
                if (last) {
                    finish_handshake();
                }
            });
    }
}

void Connection::finish_handshake() {
    connect_timer_.cancel();
    state_ = State::connected;
    password_.clear();
    failure_.store(Failure::none, std::memory_order_relaxed);
    if (attempt_ > 0) {
        spdlog::info("redis connected ({} {}) after {} failed attempt{}", opts_.name, where(),
                     attempt_, attempt_ == 1 ? "" : "s");
    } else {
        spdlog::info("redis connected ({} {})", opts_.name, where());
    }
    attempt_ = 0;
    logged_why_.clear();
    up_.store(true, std::memory_order_release);
    for (auto& fn : up_handlers_) {
        fn();
    }
}

bool Connection::auth_failed() const noexcept {
    if (failure_.load(std::memory_order_relaxed) == Failure::auth) {
        return true;
    }
    const auto window = std::chrono::duration_cast<std::chrono::nanoseconds>(kRefusalWindow);
    const auto at = refused_at_ns_.load(std::memory_order_relaxed);
    return at != 0 && steady_ns() - at < window.count();
}

bool Connection::tls_failed() const noexcept {
    return failure_.load(std::memory_order_relaxed) == Failure::tls;
}

void Connection::on_reply(const redisReply& r) {
    if (r.type == REDIS_REPLY_ERROR && is_refusal(std::string_view(r.str, r.len))) {
        refused_at_ns_.store(steady_ns(), std::memory_order_relaxed);
    }
    // hiredis' rule: once subscribed, what is not the answer to a queued command is a push
    // (including an error reply to SUBSCRIBE, say a channel the ACL refuses).
    if (subscribed_ && (order_.empty() || is_push(r))) {
        if (auto handler = push_) { // may be replaced or cleared while running
            handler(Reply::from(&r));
        }
        return;
    }
    if (order_.empty()) {
        lose("a reply nobody asked for (protocol out of step)");
        return;
    }
    const auto id = order_.front();
    order_.pop_front();
    if (r.type == REDIS_REPLY_ERROR && is_failover_reply(std::string_view(r.str, r.len))) {
        // Not the master (any more), or not ready: the caller sees a down Redis (503), and
        // the next attempt asks the sentinels again, or with redis:// resolves the name
        // again (a managed endpoint's DNS follows its failover; a connection left on the
        // demoted node would answer READONLY forever).
        const std::string why(r.str, r.len);
        complete(id, errc::backend_unavailable);
        lose(where() + " answered " + why.substr(0, why.find(' ')) +
                 (opts_.sentinel ? ": asking the sentinels again" : ": reconnecting"),
             true);
        return;
    }
    complete(id, Reply::from(&r)); // a timed-out id is gone from pending_: dropped
}

void Connection::master_switched(const config::HostPort& to) {
    if (state_ == State::stopped || to == target_) {
        return;
    }
    target_ = to;
    if (state_ == State::idle) {
        retry_timer_.cancel(); // waiting out a backoff: the new master is worth trying now
        connect();
    } else if (link_) {
        lose("the sentinels switched the master to " + to.host + ":" + std::to_string(to.port));
    }
}

std::string Connection::where() const {
    if (target_.host.empty()) {
        return "master " + (opts_.sentinel ? opts_.sentinel->master_name() : std::string("?"));
    }
    return target_.host + ":" + std::to_string(target_.port);
}

void Connection::lose(const std::string& why, bool repeatable) {
    if (!link_) {
        return;
    }
    const State was = state_;
    link_->close();
    link_.reset();
    connect_timer_.cancel();
    order_.clear();
    subscribed_ = false;
    push_ = nullptr;
    up_.store(false, std::memory_order_release);
    if (was != State::stopped) {
        state_ = State::idle;
    }
    // Before any handler: a command issued from a `done` below is refused (state idle).
    while (!pending_.empty()) {
        complete(pending_.begin()->first, errc::backend_unavailable);
    }
    if (was == State::stopped) {
        return;
    }
    if (was == State::connected) {
        for (auto& fn : down_handlers_) {
            fn(why);
        }
        retry_later(why, true, repeatable);
    } else {
        retry_later(why, false); // never announced up: a failed attempt, no down handlers
    }
}

void Connection::send(std::vector<std::string> args, std::chrono::steady_clock::time_point deadline,
                      Done done) {
    const std::uint64_t id = next_id_++;
    pending_.emplace(id, Pending{std::move(done), deadline});
    order_.push_back(id);
    link_->write(Transport::format(args));
    arm_sweep();
}

void Connection::command(std::vector<std::string> args, Done done,
                         std::optional<std::chrono::milliseconds> timeout) {
    if (state_ != State::connected || !link_ || subscribed_) {
        done(errc::backend_unavailable);
        return;
    }
    send(std::move(args),
         std::chrono::steady_clock::now() + timeout.value_or(opts_.command_timeout),
         std::move(done));
}

void Connection::pubsub(std::string_view verb, const std::vector<std::string>& names,
                        PushHandler on_push) {
    if (state_ != State::connected || !link_ || names.empty()) {
        return;
    }
    push_ = std::move(on_push);
    // From here on this link is in pub/sub mode (RESP2): replies are pushes (see on_reply).
    subscribed_ = true;
    std::vector<std::string> args{std::string(verb)};
    args.insert(args.end(), names.begin(), names.end());
    link_->write(Transport::format(args));
}

void Connection::complete(std::uint64_t id, result<Reply> r) {
    const auto it = pending_.find(id);
    if (it == pending_.end()) {
        return; // already timed out
    }
    Done done = std::move(it->second.done);
    pending_.erase(it);
    done(std::move(r));
}

void Connection::arm_sweep() {
    if (sweep_armed_) {
        return;
    }
    sweep_armed_ = true;
    sweep_timer_.expires_after(kSweepEvery);
    sweep_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (!self) {
            return;
        }
        self->sweep_armed_ = false;
        if (!ec) {
            self->sweep_timeouts();
        }
    });
}

void Connection::sweep_timeouts() {
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::uint64_t> expired;
    for (const auto& [id, p] : pending_) {
        if (p.deadline <= now) {
            expired.push_back(id);
        }
    }
    for (const auto id : expired) {
        complete(id, errc::timeout);
    }
    if (!expired.empty() && state_ == State::connected) {
        lose("no reply within the command timeout"); // an unanswered command: a dead link
    }
    if (!pending_.empty()) {
        arm_sweep();
    }
}

void Connection::stop() {
    state_ = State::stopped;
    connect_timer_.cancel();
    retry_timer_.cancel();
    sweep_timer_.cancel();
    up_.store(false, std::memory_order_release);
    if (link_) {
        lose("stopped");
    }
    while (!pending_.empty()) {
        complete(pending_.begin()->first, errc::backend_unavailable);
    }
    push_ = nullptr;
}

} // namespace ssecast::redis
