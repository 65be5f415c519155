// SPDX-License-Identifier: MIT
// RedisControl: PUBLISH an order, count the answers, keep blocks in a ZSET.
#include "redis/redis_control.hpp"

#include "redis/script.hpp"

#include "common/utf8.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace ssecast::redis {

namespace net = boost::asio;

namespace {

constexpr std::chrono::milliseconds kPollEvery{25};
/// The reply hash outlives any wait for it.
constexpr std::string_view kReplyTtlMs = "10000";
/// Adds one instance's count to the reply hash in one step.
constexpr std::string_view kAnswerScript = "redis.call('HINCRBY', KEYS[1], 'n', ARGV[1]) "
                                           "redis.call('HINCRBY', KEYS[1], 'answers', 1) "
                                           "redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1";

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::int64_t to_int(const Reply& r) {
    if (r.type == Reply::Type::integer) {
        return r.integer;
    }
    std::int64_t v = 0;
    std::from_chars(r.str.data(), r.str.data() + r.str.size(), v);
    return v;
}

/// An order id becomes part of a key: letters, digits and "._:-" only, bounded.
bool valid_order_id(std::string_view id) {
    return !id.empty() && id.size() <= 200 && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' ||
               c == '-';
    });
}

} // namespace

RedisControl::RedisControl(net::io_context& ioc, Keys keys, std::shared_ptr<Connection> commands,
                           std::shared_ptr<Connection> subscriber)
    : ioc_(ioc), keys_(std::move(keys)), cmd_(std::move(commands)), sub_(std::move(subscriber)),
      answer_script_(Script::create(kAnswerScript)) {}

RedisControl::~RedisControl() {
    sub_->stop();
}

void RedisControl::start(LocalDisconnect local) {
    local_ = std::move(local);
    sub_->on_up([this] { on_subscriber_up(); });
    cmd_->on_up([this] { load_blocks(); });
    sub_->start();
}

void RedisControl::on_subscriber_up() {
    sub_->pubsub("SUBSCRIBE", {keys_.control}, [this](const Reply& r) {
        if (r.is_array() && r.elements.size() >= 3 && r.elements[0].str == "message" &&
            r.elements[1].str == keys_.control) {
            on_order(r.elements[2].str);
        }
    });
    load_blocks(); // orders sent while this subscription was down: their blocks are there
}

void RedisControl::load_blocks() {
    if (!cmd_->up()) {
        return;
    }
    const std::string now = std::to_string(unix_ms(std::chrono::system_clock::now()));
    cmd_->command({"ZREMRANGEBYSCORE", keys_.blocks, "-inf", now}, [](result<Reply>) {});
    cmd_->command({"ZRANGEBYSCORE", keys_.blocks, "(" + now, "+inf", "WITHSCORES"},
                  [this](result<Reply> r) {
                      if (!r || !r->is_array()) {
                          return;
                      }
                      const auto& e = r->elements;
                      for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
                          const auto until = std::chrono::system_clock::time_point(
                              std::chrono::milliseconds(to_int(e[i + 1])));
                          blocks_.block(e[i].str, until);
                      }
                  });
}

void RedisControl::disconnect(broker::DisconnectOrder order, DisconnectDone done) {
    const std::string id = keys_.instance_id + "-" + std::to_string(next_order_++);
    net::post(ioc_, [this, order = std::move(order), done = std::move(done), id]() mutable {
        if (!cmd_->up()) {
            done(errc::backend_unavailable);
            return;
        }
        boost::json::object msg{{"id", id}};
        if (!order.user.empty()) {
            msg["user"] = order.user;
        } else {
            msg["connection"] = order.connection;
        }
        if (order.block.count() > 0) {
            const auto until = std::chrono::system_clock::now() + order.block;
            msg["until_ms"] = unix_ms(until);
            // Stored before the order goes out: an instance that misses the message (its
            // subscription is down) reads the block when it comes back.
            blocks_.block(order.user, until);
            cmd_->command({"ZADD", keys_.blocks, "GT", std::to_string(unix_ms(until)), order.user},
                          [](result<Reply>) {});
        }
        cmd_->command({"PUBLISH", keys_.control, boost::json::serialize(msg)},
                      [this, id, order, done = std::move(done)](result<Reply> r) mutable {
                          if (!r || r->is_error()) {
                              done(errc::backend_unavailable);
                              return;
                          }
                          const std::int64_t receivers = to_int(*r);
                          if (receivers == 0) {
                              // Not even this instance's control subscription heard it (it is
                              // reconnecting): carry it out here at least.
                              local_(order, [done = std::move(done)](std::size_t n) { done(n); });
                              return;
                          }
                          collect(keys_.control_reply + id, receivers,
                                  std::chrono::steady_clock::now() + kAnswerWait, std::move(done));
                      });
    });
}

void RedisControl::on_order(const std::string& payload) {
    // Anyone who may PUBLISH here is trusted like the events channel, but a malformed
    // order is still refused field by field.
    boost::system::error_code ec;
    const auto doc = boost::json::parse(payload, ec);
    const auto* o = ec ? nullptr : doc.if_object();
    const auto* id = o ? o->if_contains("id") : nullptr;
    if (!id || !id->is_string() || !valid_order_id(id->get_string())) {
        spdlog::warn("redis: ignored a malformed order on {}: {}", keys_.control,
                     log_excerpt(payload, 200));
        return;
    }
    broker::DisconnectOrder order;
    if (const auto* u = o->if_contains("user"); u && u->is_string()) {
        order.user = std::string(u->get_string().subview(0, 256));
    }
    if (const auto* c = o->if_contains("connection"); c && c->is_string()) {
        order.connection = std::string(c->get_string().subview(0, 256));
    }
    if (const auto* until = o->if_contains("until_ms");
        until && until->is_int64() && !order.user.empty()) {
        blocks_.block(order.user, std::chrono::system_clock::time_point(
                                      std::chrono::milliseconds(until->get_int64())));
    }
    const std::string reply_key = keys_.control_reply + std::string(id->get_string());
    local_(order, [this, reply_key](std::size_t n) {
        net::post(ioc_, [this, reply_key, n] {
            answer_script_->eval(*cmd_, {reply_key}, {std::to_string(n), std::string(kReplyTtlMs)},
                                 [](result<Reply>) {});
        });
    });
}

void RedisControl::collect(std::string reply_key, std::int64_t receivers,
                           std::chrono::steady_clock::time_point deadline, DisconnectDone done) {
    cmd_->command(
        {"HMGET", reply_key, "n", "answers"},
        [this, reply_key, receivers, deadline, done = std::move(done)](result<Reply> r) mutable {
            std::int64_t n = 0;
            std::int64_t answers = 0;
            if (r && r->is_array() && r->elements.size() == 2) {
                n = to_int(r->elements[0]);
                answers = to_int(r->elements[1]);
            }
            if (answers >= receivers || std::chrono::steady_clock::now() >= deadline) {
                if (answers < receivers) {
                    spdlog::warn("admin disconnect: {} of {} instances answered in time", answers,
                                 receivers);
                }
                done(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)));
                return;
            }
            auto timer = std::make_shared<net::steady_timer>(ioc_, kPollEvery);
            timer->async_wait([this, timer, reply_key, receivers, deadline,
                               done = std::move(done)](boost::system::error_code) mutable {
                collect(reply_key, receivers, deadline, std::move(done));
            });
        });
}

bool RedisControl::blocked(std::string_view user) const {
    return blocks_.blocked(user, std::chrono::system_clock::now());
}

} // namespace ssecast::redis
