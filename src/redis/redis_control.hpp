// SPDX-License-Identifier: MIT
// Admin orders across instances through Redis (docs/redis.md §Keys): an order is PUBLISHed
// on <prefix>control, every instance carries it out and adds its count to a reply hash the
// sender reads back; blocks live in the <prefix>blocks ZSET and in each instance's memory.
#pragma once

#include "broker/control.hpp"
#include "redis/connection.hpp"
#include "redis/keys.hpp"
#include "redis/script.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace ssecast::redis {

/// broker::Control for redis mode. Threading: Redis I/O and its callbacks run on `ioc`
/// (shard 0's loop); disconnect() and blocked() may be called from any thread.
/// A disconnect waits at most kAnswerWait for the instances PUBLISH reached; N counts the
/// ones that answered by then. Destroy only after that loop stopped running.
class RedisControl final : public broker::Control {
  public:
    /// `commands` is shared; `subscriber` is this object's own (it SUBSCRIBEs).
    RedisControl(boost::asio::io_context& ioc, Keys keys, std::shared_ptr<Connection> commands,
                 std::shared_ptr<Connection> subscriber);
    ~RedisControl() override;

    void start(LocalDisconnect local) override;
    /// errc::backend_unavailable when Redis cannot take the order (nothing was ended).
    void disconnect(broker::DisconnectOrder order, DisconnectDone done) override;
    bool blocked(std::string_view user) const override;

    static constexpr std::chrono::milliseconds kAnswerWait{2000};

  private:
    void on_subscriber_up();
    void load_blocks();
    void on_order(const std::string& payload);
    void collect(std::string reply_key, std::int64_t receivers,
                 std::chrono::steady_clock::time_point deadline, DisconnectDone done);

    boost::asio::io_context& ioc_;
    const Keys keys_;
    std::shared_ptr<Connection> cmd_;
    std::shared_ptr<Connection> sub_;
    std::shared_ptr<Script> answer_script_; ///< adds this instance's count (EVALSHA, no EVAL)
    LocalDisconnect local_;
    broker::BlockList blocks_;
    std::atomic<std::uint64_t> next_order_{1};
};

} // namespace ssecast::redis
