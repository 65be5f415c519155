// SPDX-License-Identifier: MIT
// The ingest list consumer.
#include "redis/ingest_consumer.hpp"

#include <algorithm>

#include "common/utf8.hpp"

#include <spdlog/spdlog.h>

#include <deque>

namespace ssecast::redis {

using namespace std::chrono_literals;

namespace {
constexpr auto kBlockSeconds = "1"; // BLMOVE server-side timeout
constexpr auto kBlockTimeout = 4s;  // client-side: the block plus slack
constexpr auto kRetryAfter = 500ms; // after a failed publish
constexpr int kRecoverBatch = 100;  // processing-list items re-published per round
} // namespace

std::optional<publish::Refusal>
check_ingest_item(std::string_view item, const publish::Limits& limits, publish::Body& out) {
    // SPEC: the ingest list takes exactly what POST /publish takes (one validator).
    return publish::parse_body(item, limits, out);
}

IngestConsumer::IngestConsumer(boost::asio::io_context& ioc, const Keys& keys,
                               publish::Limits limits, metrics::Metrics& metrics,
                               std::shared_ptr<Connection> conn,
                               std::shared_ptr<Connection> commands, RedisBroker& broker)
    : keys_(keys), limits_(limits), metrics_(metrics), conn_(std::move(conn)),
      cmd_(std::move(commands)), broker_(broker), retry_timer_(ioc) {
    conn_->on_up([this] { recover(++gen_); });
    conn_->on_down([this](const std::string&) { ++gen_; });
}

IngestConsumer::~IngestConsumer() {
    stop();
    cmd_->stop(); // pending publish/LREM callbacks capture `this`: finish them now
}

void IngestConsumer::start() {
    conn_->start();
}

void IngestConsumer::stop() {
    stopped_ = true;
    ++gen_;
    retry_timer_.cancel();
    conn_->stop();
}

void IngestConsumer::recover(std::uint64_t gen) {
    if (stopped_ || gen != gen_) {
        return;
    }
    // Items popped before a crash or outage but not published yet.
    conn_->command({"LRANGE", keys_.processing, "0", std::to_string(kRecoverBatch - 1)},
                   [this, gen](result<Reply> r) {
                       if (gen != gen_ || stopped_) {
                           return;
                       }
                       if (!r || !r->is_array()) {
                           retry_soon(gen);
                           return;
                       }
                       std::deque<std::string> items;
                       for (auto& e : r->elements) {
                           items.push_back(std::move(e.str));
                       }
                       if (items.empty()) {
                           pop(gen);
                       } else {
                           handle(gen, std::move(items));
                       }
                   });
}

void IngestConsumer::pop(std::uint64_t gen) {
    if (stopped_ || gen != gen_) {
        return;
    }
    conn_->command(
        {"BLMOVE", keys_.ingest, keys_.processing, "LEFT", "RIGHT", kBlockSeconds},
        [this, gen](result<Reply> r) {
            if (gen != gen_ || stopped_) {
                return;
            }
            if (!r || r->is_error()) {
                if (r) {
                    spdlog::error("redis ingest BLMOVE failed: {}", r->str);
                }
                retry_soon(gen);
                return;
            }
            if (r->is_nil()) {
                pop(gen); // block timed out: wait again
                return;
            }
            handle(gen, std::deque<std::string>{std::move(r->str)});
        },
        kBlockTimeout);
}

void IngestConsumer::handle(std::uint64_t gen, std::deque<std::string> items) {
    if (stopped_ || gen != gen_) {
        return;
    }
    if (items.empty()) {
        recover(gen); // the processing list may hold more; when empty, back to BLMOVE
        return;
    }
    std::string item = std::move(items.front());
    items.pop_front();
    publish::Body body;
    if (auto refused = check_ingest_item(item, limits_, body)) {
        metrics_.global().ingest_refused.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("redis ingest: dropping an item from {} ({}: {}): {}", keys_.ingest,
                     to_string(refused->code), log_excerpt(refused->message, 300),
                     log_excerpt(item, 200));
        cmd_->command({"LREM", keys_.processing, "1", item},
                      [this, gen, items = std::move(items)](result<Reply> r) mutable {
                          if (!r) {
                              retry_soon(gen);
                              return;
                          }
                          handle(gen, std::move(items));
                      });
        return;
    }
    if (sharded_ && !std::all_of(body.drafts.begin(), body.drafts.end(), here_)) {
        sharded_->publish(std::move(body.drafts), [this, gen, item, items = std::move(items)](
                                                      result<std::vector<sse::EventId>> r) mutable {
            if (!r) {
                retry_soon(gen); // still in the processing list
                return;
            }
            cmd_->command({"LREM", keys_.processing, "1", item},
                          [this, gen, items = std::move(items)](result<Reply> removed) mutable {
                              if (!removed) {
                                  retry_soon(gen); // requeued later: published again
                                  return;
                              }
                              handle(gen, std::move(items));
                          });
        });
        return;
    }
    broker_.publish_ingested(
        std::move(body.drafts), std::move(item),
        [this, gen, items = std::move(items)](result<std::vector<sse::EventId>> r) mutable {
            if (!r) {
                // Still in the processing list: recovered once Redis answers again.
                retry_soon(gen);
                return;
            }
            handle(gen, std::move(items));
        });
}

void IngestConsumer::retry_soon(std::uint64_t gen) {
    retry_timer_.expires_after(kRetryAfter);
    retry_timer_.async_wait([this, gen](boost::system::error_code ec) {
        if (!ec) {
            recover(gen);
        }
    });
}

} // namespace ssecast::redis
