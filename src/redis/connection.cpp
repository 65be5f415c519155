// SPDX-License-Identifier: MIT
// Self-healing hiredis connection.
#include "redis/connection.hpp"

#include "config/secret_file.hpp"
#include "redis/asio_adapter.hpp"

#include <boost/asio/post.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace ssecast::redis {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {
constexpr auto kSweepEvery = 100ms;
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

Connection* owner(const redisAsyncContext* ac) {
    return static_cast<Connection*>(ac->data);
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
        if (auto self = weak.lock(); self && self->state_ == State::idle) {
            self->connect();
        }
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
            auth_refused_.store(true, std::memory_order_relaxed);
            retry_later("redis.password_file " + opts_.password_file + ": " + why, false);
            return;
        }
    }
    redisAsyncContext* ac =
        redisAsyncConnect(opts_.endpoint.host.c_str(), static_cast<int>(opts_.endpoint.port));
    if (ac == nullptr) {
        retry_later("out of memory", false);
        return;
    }
    if (ac->err != 0) {
        const std::string why = ac->errstr;
        redisAsyncFree(ac); // never connected: no callback runs
        retry_later(why, false);
        return;
    }
    ac->data = this;
    if (!attach(ac, ioc_)) {
        redisAsyncFree(ac);
        retry_later("cannot watch the socket", false);
        return;
    }
    redisAsyncSetConnectCallback(ac, &Connection::on_connect_cb);
    redisAsyncSetDisconnectCallback(ac, &Connection::on_disconnect_cb);
    ctx_ = ac;
    state_ = State::connecting;
    connect_timer_.expires_after(opts_.connect_timeout);
    connect_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self) {
            return;
        }
        if (self->state_ == State::handshaking) {
            // Connected but unanswered (a hung Redis): freeing a connected context runs
            // on_disconnect_cb, which retries.
            self->drop_reason_ =
                "no answer to " + self->steps_.front() + " within the connect timeout";
            self->closing_ = true;
            redisAsyncFree(self->ctx_);
            return;
        }
        if (self->state_ != State::connecting) {
            return;
        }
        // hiredis has no connect timeout. Freeing a context that never connected runs
        // neither the connect nor the disconnect callback, so retry from here.
        auto* pending_ctx = self->ctx_;
        self->ctx_ = nullptr;
        self->state_ = State::idle;
        redisAsyncFree(pending_ctx);
        self->retry_later("connect timed out", false);
    });
}

void Connection::retry_later(const std::string& why, bool was_connected) {
    if (state_ == State::stopped) {
        return;
    }
    const auto delay = backoff_delay(attempt_, opts_.backoff_base, opts_.backoff_cap, rng_);
    const auto now = std::chrono::steady_clock::now();
    if (attempt_ == 0) {
        burst_started_ = now;
    }
    ++attempt_;
    const auto& ep = opts_.endpoint;
    // One line when a burst starts or its reason changes, then one a minute: an outage or
    // a wrong password must not write a line per attempt forever.
    const bool news = was_connected || why != logged_why_ || now - logged_at_ >= kRepeatLogEvery;
    const auto level = news ? spdlog::level::warn : spdlog::level::debug;
    if (was_connected) {
        spdlog::log(level, "redis connection lost ({} {}:{}): {}, retrying in {} ms", opts_.name,
                    ep.host, ep.port, why, delay.count());
    } else if (why == logged_why_) {
        const auto for_s = std::chrono::duration_cast<std::chrono::seconds>(now - burst_started_);
        spdlog::log(level,
                    "redis connect still failing ({} {}:{}, attempt {}, for {} s): {}, "
                    "retrying in {} ms",
                    opts_.name, ep.host, ep.port, attempt_, for_s.count(), why, delay.count());
    } else {
        spdlog::log(level,
                    "redis connect failed ({} {}:{}, attempt {}): {}, retrying in {} ms "
                    "(the same error again is logged once a minute)",
                    opts_.name, ep.host, ep.port, attempt_, why, delay.count());
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

void Connection::on_connect_cb(const redisAsyncContext* ac, int status) {
    Connection* self = owner(ac);
    if (status != REDIS_OK) {
        self->connect_timer_.cancel();
        // A failed connect never reaches on_disconnect_cb; hiredis frees `ac` after this.
        const std::string why = ac->errstr;
        self->ctx_ = nullptr;
        self->state_ = State::idle;
        self->retry_later(why, false);
        return;
    }
    // The connect timer keeps running: it also bounds the handshake.
    self->start_handshake();
}

void Connection::start_handshake() {
    // Runs inside hiredis' connect callback, where freeing the context is not allowed:
    // failures are handled from the reply callbacks (or the connect timer).
    state_ = State::handshaking;
    const auto& ep = opts_.endpoint;
    std::vector<std::vector<std::string>> commands;
    steps_.clear();
    steps_answered_ = 0;
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
    if (commands.empty()) {
        commands.push_back({"PING"}); // a Redis that accepts but never answers is not up
        steps_.emplace_back("PING");
    }
    for (const auto& args : commands) {
        std::vector<const char*> argv;
        std::vector<std::size_t> lens;
        for (const auto& a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        redisAsyncCommandArgv(ctx_, &Connection::on_handshake_cb, nullptr,
                              static_cast<int>(argv.size()), argv.data(), lens.data());
    }
}

void Connection::on_handshake_cb(redisAsyncContext* ac, void* reply, void* /*privdata*/) {
    Connection* self = owner(ac);
    if (reply == nullptr || self->state_ != State::handshaking || self->closing_) {
        return; // the context is being freed, or an earlier step already failed
    }
    const auto* r = static_cast<const redisReply*>(reply);
    const std::string& step = self->steps_.at(self->steps_answered_++);
    if (r->type == REDIS_REPLY_ERROR) {
        const std::string err(r->str, r->len);
        const bool auth = step == "AUTH" || is_refusal(err);
        self->fail_handshake(step + " refused: " + without(err, self->password_), auth);
        return;
    }
    if (self->steps_answered_ == self->steps_.size()) {
        self->finish_handshake();
    }
}

void Connection::fail_handshake(const std::string& why, bool auth) {
    auth_refused_.store(auth, std::memory_order_relaxed);
    drop_reason_ = why;
    closing_ = true;
    // Inside a reply callback hiredis defers the free until the callback returns, then runs
    // on_disconnect_cb (handshaking: a failed attempt, retried with backoff).
    redisAsyncFree(ctx_);
}

void Connection::finish_handshake() {
    connect_timer_.cancel();
    state_ = State::connected;
    closing_ = false;
    password_.clear();
    auth_refused_.store(false, std::memory_order_relaxed);
    const auto& ep = opts_.endpoint;
    if (attempt_ > 0) {
        spdlog::info("redis connected ({} {}:{}) after {} failed attempt{}", opts_.name, ep.host,
                     ep.port, attempt_, attempt_ == 1 ? "" : "s");
    } else {
        spdlog::info("redis connected ({} {}:{})", opts_.name, ep.host, ep.port);
    }
    attempt_ = 0;
    logged_why_.clear();
    up_.store(true, std::memory_order_release);
    for (auto& fn : up_handlers_) {
        fn();
    }
}

bool Connection::auth_failed() const noexcept {
    if (auth_refused_.load(std::memory_order_relaxed)) {
        return true;
    }
    const auto window = std::chrono::duration_cast<std::chrono::nanoseconds>(kRefusalWindow);
    const auto at = refused_at_ns_.load(std::memory_order_relaxed);
    return at != 0 && steady_ns() - at < window.count();
}

void Connection::note_refusal(const redisReply& r) {
    if (r.type == REDIS_REPLY_ERROR && is_refusal(std::string_view(r.str, r.len))) {
        refused_at_ns_.store(steady_ns(), std::memory_order_relaxed);
    }
}

void Connection::on_disconnect_cb(const redisAsyncContext* ac, int status) {
    Connection* self = owner(ac);
    std::string why = status == REDIS_OK ? (self->drop_reason_.empty() ? std::string("closed")
                                                                       : self->drop_reason_)
                                         : std::string(ac->errstr);
    self->drop_reason_.clear();
    self->ctx_ = nullptr;
    self->closing_ = false;
    if (self->state_ == State::handshaking) {
        // Never announced up: a failed attempt, not a lost connection (no down handlers).
        self->connect_timer_.cancel();
        self->state_ = State::idle;
        self->retry_later(why, false);
        return;
    }
    self->push_ = nullptr;
    self->up_.store(false, std::memory_order_release);
    // hiredis already failed every queued callback; anything left is ours to finish.
    while (!self->pending_.empty()) {
        self->complete(self->pending_.begin()->first, errc::backend_unavailable);
    }
    if (self->state_ == State::stopped) {
        return;
    }
    self->state_ = State::idle;
    for (auto& fn : self->down_handlers_) {
        fn(why);
    }
    self->retry_later(why, true);
}

void Connection::on_reply_cb(redisAsyncContext* ac, void* reply, void* privdata) {
    Connection* self = owner(ac);
    const auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(privdata));
    if (reply == nullptr) {
        // The context is being freed: fail this one and refuse new commands from callbacks.
        self->closing_ = true;
        self->complete(id, errc::backend_unavailable);
        return;
    }
    self->note_refusal(*static_cast<const redisReply*>(reply));
    self->complete(id, Reply::from(static_cast<redisReply*>(reply)));
}

void Connection::on_push_cb(redisAsyncContext* ac, void* reply, void* /*privdata*/) {
    Connection* self = owner(ac);
    if (reply == nullptr) {
        return;
    }
    self->note_refusal(*static_cast<const redisReply*>(reply)); // a SUBSCRIBE the ACL refused
    if (!self->push_) {
        return;
    }
    auto handler = self->push_; // may be replaced or cleared while running
    handler(Reply::from(static_cast<redisReply*>(reply)));
}

void Connection::command(std::vector<std::string> args, Done done,
                         std::optional<std::chrono::milliseconds> timeout) {
    if (state_ != State::connected || closing_ || ctx_ == nullptr) {
        done(errc::backend_unavailable);
        return;
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    const std::uint64_t id = next_id_++;
    const auto deadline =
        std::chrono::steady_clock::now() + timeout.value_or(opts_.command_timeout);
    pending_.emplace(id, Pending{std::move(done), deadline});
    if (redisAsyncCommandArgv(ctx_, &Connection::on_reply_cb,
                              reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)),
                              static_cast<int>(argv.size()), argv.data(),
                              lens.data()) != REDIS_OK) {
        complete(id, errc::backend_unavailable);
        return;
    }
    arm_sweep();
}

void Connection::subscribe(const std::vector<std::string>& channels, PushHandler on_message) {
    if (state_ != State::connected || closing_ || ctx_ == nullptr) {
        return;
    }
    push_ = std::move(on_message);
    std::vector<const char*> argv{"SUBSCRIBE"};
    std::vector<std::size_t> lens{9};
    for (const auto& c : channels) {
        argv.push_back(c.data());
        lens.push_back(c.size());
    }
    redisAsyncCommandArgv(ctx_, &Connection::on_push_cb, nullptr, static_cast<int>(argv.size()),
                          argv.data(), lens.data());
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
    if (!expired.empty()) {
        drop("no reply within the command timeout");
    }
    if (!pending_.empty()) {
        arm_sweep();
    }
}

void Connection::drop(const std::string& why) {
    if (state_ != State::connected || ctx_ == nullptr || closing_) {
        return;
    }
    drop_reason_ = why;
    closing_ = true;
    redisAsyncFree(ctx_); // fails pending callbacks, then on_disconnect_cb reconnects
}

void Connection::stop() {
    const State was = state_;
    state_ = State::stopped;
    connect_timer_.cancel();
    retry_timer_.cancel();
    sweep_timer_.cancel();
    up_.store(false, std::memory_order_release);
    if (ctx_ != nullptr && !closing_) {
        auto* ac = ctx_;
        closing_ = true;
        if (was != State::connected) {
            ctx_ = nullptr; // never connected: no disconnect callback will clear it
        }
        redisAsyncFree(ac);
    }
    while (!pending_.empty()) {
        complete(pending_.begin()->first, errc::backend_unavailable);
    }
    push_ = nullptr;
}

} // namespace ssecast::redis
