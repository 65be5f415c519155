// SPDX-License-Identifier: MIT
// Event ids: "<unix-ms>-<seq>", the Redis Streams form, so memory and redis modes share one
// format and ids keep increasing across restarts and Redis data loss (they start at the clock).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ssecast::sse {

/// A totally ordered event id. Value type.
struct EventId {
    std::uint64_t ms = 0;  ///< Unix milliseconds when assigned (or later: never goes back)
    std::uint64_t seq = 0; ///< order within the same millisecond

    /// Parses "<ms>-<seq>" (or a bare "<ms>", meaning seq 0); nullopt for anything else.
    static std::optional<EventId> parse(std::string_view text) noexcept;
    /// "<ms>-<seq>".
    std::string str() const;
    /// The smallest id greater than this one.
    EventId next() const noexcept { return {ms, seq + 1}; }

    friend auto operator<=>(const EventId&, const EventId&) = default;
};

/// Assigns strictly increasing ids from a wall clock: ms = max(now, last.ms), seq bumps
/// within one millisecond, so a clock that steps back never produces a smaller id.
/// Not thread-safe; callers serialise (MemoryBroker holds its lock).
class EventIdGenerator {
  public:
    /// Next id for an event published at `now_ms`.
    EventId next(std::uint64_t now_ms) noexcept;
    /// Never assign an id ≤ `floor` (restores monotonicity after a restart).
    void raise_floor(EventId floor) noexcept;
    EventId last() const noexcept { return last_; }

  private:
    EventId last_{};
};

} // namespace ssecast::sse
