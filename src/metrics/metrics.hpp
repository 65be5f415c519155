// SPDX-License-Identifier: MIT
// Process metrics: per-shard counters (no cross-core contention on the hot path) summed
// at scrape time, and the Prometheus text exposition of /metrics.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ssecast::metrics {

/// Upper bounds (seconds) of the publish→socket-write latency histogram.
inline constexpr std::array<double, 14> kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

/// Counters written by one shard's thread only (relaxed atomics so the scraper can read).
struct alignas(64) ShardCounters {
    std::atomic<std::uint64_t> connections{0}; ///< gauge: open SSE streams
    std::atomic<std::uint64_t> connects{0};
    std::atomic<std::uint64_t> disconnects{0};
    std::atomic<std::uint64_t> delivered{0};    ///< events queued to a subscriber
    std::atomic<std::uint64_t> dropped{0};      ///< subscribers cut as slow consumers
    std::atomic<std::uint64_t> expired{0};      ///< streams ended because their token expired
    std::atomic<std::uint64_t> disconnected{0}; ///< streams ended by an admin disconnect
    std::atomic<std::uint64_t> bytes_written{0};
    std::array<std::atomic<std::uint64_t>, kLatencyBuckets.size() + 1> latency{};
    std::atomic<std::uint64_t> latency_sum_ns{0};

    void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void observe_latency(std::chrono::nanoseconds d) noexcept;
};

/// Process-wide counters touched by any thread (rare events only).
struct GlobalCounters {
    std::atomic<std::uint64_t> published{0};
    std::atomic<std::uint64_t> publish_rejected{0};
    std::atomic<std::uint64_t> requests_rejected{0};
    std::atomic<std::uint64_t> rate_limited_sse{0};
    std::atomic<std::uint64_t> rate_limited_publish{0};
    std::atomic<std::uint64_t> rate_allowed_sse{0};
    std::atomic<std::uint64_t> rate_allowed_publish{0};
    std::atomic<std::uint64_t> redis_up{0};
    std::atomic<std::uint64_t> rate_limit_fallback{0}; ///< gauge: limits per instance (outage)
    std::atomic<std::uint64_t> ingest_refused{0};      ///< ingest items the validator refused
    std::atomic<std::uint64_t> redis_ids_refused{0};   ///< ids from Redis ignored (bad/ahead)
    /// Publishes answered 503 because fewer than redis.min_replicas acknowledged them (WAIT).
    std::atomic<std::uint64_t> redis_unreplicated{0};
    std::atomic<std::uint64_t> redis_publish_ok{0}; ///< gauge: last publish check passed
};

/// Sum over shards, for the monitor and /metrics.
struct Totals {
    std::uint64_t connections = 0, connects = 0, disconnects = 0, delivered = 0, dropped = 0,
                  bytes_written = 0, published = 0, expired = 0, disconnected = 0;
};

/// Owns one ShardCounters per shard plus the global ones. Thread-safe as described above.
class Metrics {
  public:
    explicit Metrics(std::size_t shards);
    ShardCounters& shard(std::size_t i) { return *shards_[i]; }
    GlobalCounters& global() { return global_; }
    Totals totals() const;
    /// Prometheus text format 0.0.4, with HELP and TYPE for each family.
    std::string render_prometheus() const;

  private:
    std::vector<std::unique_ptr<ShardCounters>> shards_;
    GlobalCounters global_;
};

} // namespace ssecast::metrics
