// SPDX-License-Identifier: MIT
// Injectable clocks: domain code takes a Clock& so tests can move time by hand.
#pragma once

#include <atomic>
#include <chrono>

namespace ssecast {

/// Source of time for domain logic (history expiry, rate-limit windows).
/// Thread-safe: implementations may be read from any shard.
class Clock {
  public:
    virtual ~Clock() = default;
    /// Monotonic time, for durations and windows.
    virtual std::chrono::steady_clock::time_point steady_now() const = 0;
    /// Wall time, for ids and Unix timestamps in headers.
    virtual std::chrono::system_clock::time_point system_now() const = 0;
};

/// The real clocks.
class SystemClock final : public Clock {
  public:
    std::chrono::steady_clock::time_point steady_now() const override {
        return std::chrono::steady_clock::now();
    }
    std::chrono::system_clock::time_point system_now() const override {
        return std::chrono::system_clock::now();
    }
    /// A process-wide instance.
    static SystemClock& instance() {
        static SystemClock clock;
        return clock;
    }
};

/// A clock that only moves when told to; both readings advance together.
class FakeClock final : public Clock {
  public:
    std::chrono::steady_clock::time_point steady_now() const override {
        return std::chrono::steady_clock::time_point(offset_.load());
    }
    std::chrono::system_clock::time_point system_now() const override {
        return std::chrono::system_clock::time_point(
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(
                       std::chrono::seconds(1'700'000'000))) +
               std::chrono::duration_cast<std::chrono::system_clock::duration>(offset_.load());
    }
    void advance(std::chrono::nanoseconds d) {
        auto cur = offset_.load();
        while (!offset_.compare_exchange_weak(cur, cur + d)) {
        }
    }

  private:
    std::atomic<std::chrono::nanoseconds> offset_{std::chrono::hours(1)};
};

} // namespace ssecast
