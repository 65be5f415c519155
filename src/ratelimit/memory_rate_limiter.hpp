// SPDX-License-Identifier: MIT
// MemoryRateLimiter: exact sliding-log windows in process memory, for memory mode and as
// the per-instance fallback while Redis is down (SPEC §Rate limiting).
#pragma once

#include "common/clock.hpp"
#include "ratelimit/rate_limiter.hpp"
#include "ratelimit/sliding_window.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace ssecast::ratelimit {

/// Every [[rule]] in `rules`, per identifier, with the guarantee of decide(): over any
/// window of `window` seconds at most `limit` accepted. A request is accepted only if every
/// applicable rule accepts it, and is then counted in all of them; a refused one is counted
/// in none. Thread-safe: check() may run on every shard at once; it locks only the shards of
/// the request's keys, never does I/O, and calls `done` synchronously on the caller's thread
/// after releasing its locks. Memory: at most `limit` live timestamps per key and rule; idle
/// keys (nothing left in their window) are dropped by sweep() and by an amortised sweep that
/// check() runs per shard, so each of the 64 shards holds at most 2 × its live keys + 256.
/// `clock` must outlive the limiter.
class MemoryRateLimiter final : public RateLimiter {
  public:
    MemoryRateLimiter(std::vector<config::RateLimitRule> rules, const Clock& clock);

    bool covers(config::RateLimitEndpoint endpoint) const noexcept override;
    void check(const Check& check, Done done) override;

    /// Synchronous form of check(), for tests and for the Redis backend's fallback.
    Decision check_now(const Check& check);

    /// Drops every key whose window is empty at the current time. Returns how many were
    /// dropped. Safe to call from any thread at any time; O(keys).
    std::size_t sweep();

    /// Keys currently held (all shards); for tests and the monitor.
    std::size_t key_count() const;

  private:
    /// One key's log: entries [start, log.size()) are the live ones, ascending. The dead
    /// prefix is compacted lazily so pruning is amortised O(1) and the log stays contiguous.
    struct Entry {
        std::vector<Micros> log;
        std::size_t start = 0;
        Micros expires_at = 0; ///< newest accepted + window: idle (sweepable) from then on
    };
    struct Shard {
        mutable std::mutex mutex; // guards the three members below
        std::unordered_map<std::string, Entry> keys;
        std::size_t ops_since_sweep = 0;
        std::size_t kept_by_last_sweep = 0; ///< keys still live after the last sweep
    };
    static constexpr std::size_t kShards = 64;
    static constexpr std::size_t kMinSweepOps = 256;

    Micros now_micros() const;
    std::size_t shard_of(const std::string& key) const noexcept;
    static std::size_t sweep_locked(Shard& shard, Micros now);

    const std::vector<config::RateLimitRule> rules_;
    const Clock& clock_;
    bool covers_sse_ = false;
    bool covers_publish_ = false;
    std::array<Shard, kShards> shards_;
};

} // namespace ssecast::ratelimit
