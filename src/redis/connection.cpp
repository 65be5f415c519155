// SPDX-License-Identifier: MIT
// Self-healing hiredis connection.
#include "redis/connection.hpp"

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
        if (ec || !self || self->state_ != State::connecting) {
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
    ++attempt_;
    const auto& ep = opts_.endpoint;
    if (was_connected) {
        spdlog::warn("redis connection lost ({} {}:{}): {}, retrying in {} ms", opts_.name, ep.host,
                     ep.port, why, delay.count());
    } else {
        spdlog::warn("redis connect failed ({} {}:{}, attempt {}): {}, retrying in {} ms",
                     opts_.name, ep.host, ep.port, attempt_, why, delay.count());
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
    self->connect_timer_.cancel();
    if (status != REDIS_OK) {
        // A failed connect never reaches on_disconnect_cb; hiredis frees `ac` after this.
        const std::string why = ac->errstr;
        self->ctx_ = nullptr;
        self->state_ = State::idle;
        self->retry_later(why, false);
        return;
    }
    self->state_ = State::connected;
    self->closing_ = false;
    self->attempt_ = 0;
    self->up_.store(true, std::memory_order_release);
    spdlog::info("redis connected ({} {}:{})", self->opts_.name, self->opts_.endpoint.host,
                 self->opts_.endpoint.port);
    if (self->opts_.endpoint.db != 0) {
        // Queued first, so every later command runs in the right database.
        self->command({"SELECT", std::to_string(self->opts_.endpoint.db)},
                      [name = self->opts_.name](result<Reply> r) {
                          if (r && r->is_error()) {
                              spdlog::error("redis SELECT failed ({}): {}", name, r->str);
                          }
                      });
    }
    for (auto& fn : self->up_handlers_) {
        fn();
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
    self->complete(id, Reply::from(static_cast<redisReply*>(reply)));
}

void Connection::on_push_cb(redisAsyncContext* ac, void* reply, void* /*privdata*/) {
    Connection* self = owner(ac);
    if (reply == nullptr || !self->push_) {
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

void Connection::pubsub(std::string_view verb, const std::vector<std::string>& names,
                        PushHandler on_push) {
    if (state_ != State::connected || closing_ || ctx_ == nullptr || names.empty()) {
        return;
    }
    push_ = std::move(on_push);
    std::vector<const char*> argv{verb.data()};
    std::vector<std::size_t> lens{verb.size()};
    argv.reserve(names.size() + 1);
    lens.reserve(names.size() + 1);
    for (const auto& c : names) {
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
