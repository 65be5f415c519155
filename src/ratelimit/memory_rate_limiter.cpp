// SPDX-License-Identifier: MIT
// In-process sliding-log limiter: sharded maps of per-key timestamp logs.
#include "ratelimit/memory_rate_limiter.hpp"

#include <algorithm>
#include <functional>

namespace ssecast::ratelimit {

namespace {

Micros to_micros(std::chrono::seconds s) {
    return std::chrono::duration_cast<std::chrono::microseconds>(s).count();
}

} // namespace

MemoryRateLimiter::MemoryRateLimiter(std::vector<config::RateLimitRule> rules, const Clock& clock)
    : rules_(std::move(rules)), clock_(clock) {
    for (const auto& r : rules_) {
        (r.endpoint == config::RateLimitEndpoint::sse ? covers_sse_ : covers_publish_) = true;
    }
}

bool MemoryRateLimiter::covers(config::RateLimitEndpoint endpoint) const noexcept {
    return endpoint == config::RateLimitEndpoint::sse ? covers_sse_ : covers_publish_;
}

void MemoryRateLimiter::check(const Check& check, Done done) {
    done(check_now(check));
}

Micros MemoryRateLimiter::now_micros() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               clock_.steady_now().time_since_epoch())
        .count();
}

std::size_t MemoryRateLimiter::shard_of(const std::string& key) const noexcept {
    return std::hash<std::string>{}(key) % kShards;
}

Decision MemoryRateLimiter::check_now(const Check& check) {
    const auto applied = applicable_rules(rules_, check);
    if (applied.empty()) {
        return Decision{};
    }
    // Every shard touched by this request, locked in ascending order (no deadlock), so all
    // rules are checked and applied as one step, like the single Lua call in Redis.
    std::vector<std::size_t> shard_ids;
    shard_ids.reserve(applied.size());
    for (const auto& a : applied) {
        shard_ids.push_back(shard_of(a.key));
    }
    std::vector<std::size_t> lock_order = shard_ids;
    std::sort(lock_order.begin(), lock_order.end());
    lock_order.erase(std::unique(lock_order.begin(), lock_order.end()), lock_order.end());
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(lock_order.size());
    for (const auto id : lock_order) {
        locks.emplace_back(shards_[id].mutex);
    }

    // Read the clock under the locks so timestamps enter each log in ascending order.
    const Micros now = now_micros();
    std::vector<Entry*> entries(applied.size(), nullptr);
    std::vector<WindowVerdict> verdicts(applied.size());
    for (std::size_t i = 0; i < applied.size(); ++i) {
        auto& shard = shards_[shard_ids[i]];
        const Micros window = to_micros(applied[i].rule.window);
        Entry& e = shard.keys[applied[i].key];
        std::span<const Micros> live(e.log.data() + e.start, e.log.size() - e.start);
        e.start += first_in_window(live, now, window);
        live = std::span<const Micros>(e.log.data() + e.start, e.log.size() - e.start);
        verdicts[i] = decide(live, now, applied[i].rule.limit, window);
        entries[i] = &e;
    }
    const Decision d = combine(applied, verdicts);
    for (std::size_t i = 0; i < applied.size(); ++i) {
        Entry& e = *entries[i];
        if (d.allowed) {
            e.log.push_back(now);
            e.expires_at = now + to_micros(applied[i].rule.window);
        }
        if (e.start > 0 && e.start * 2 >= e.log.size()) {
            e.log.erase(e.log.begin(), e.log.begin() + static_cast<std::ptrdiff_t>(e.start));
            e.start = 0;
        }
    }
    // Amortised sweep: a shard is swept once it has seen as many checks as it kept keys at
    // its last sweep, so a sweep costs O(1) per check and a shard never holds more than
    // 2 × (keys live at the last sweep) + kMinSweepOps, however many new IPs arrive.
    for (const auto id : lock_order) {
        auto& shard = shards_[id];
        if (++shard.ops_since_sweep >= std::max(kMinSweepOps, shard.kept_by_last_sweep)) {
            sweep_locked(shard, now);
        }
    }
    return d;
}

std::size_t MemoryRateLimiter::sweep_locked(Shard& shard, Micros now) {
    shard.ops_since_sweep = 0;
    const std::size_t dropped = std::erase_if(shard.keys, [now](const auto& kv) {
        // A key that was only ever refused has expires_at 0 and an empty log: idle too.
        return kv.second.expires_at <= now;
    });
    shard.kept_by_last_sweep = shard.keys.size();
    return dropped;
}

std::size_t MemoryRateLimiter::sweep() {
    const Micros now = now_micros();
    std::size_t dropped = 0;
    for (auto& shard : shards_) {
        std::lock_guard lock(shard.mutex);
        dropped += sweep_locked(shard, now);
    }
    return dropped;
}

std::size_t MemoryRateLimiter::key_count() const {
    std::size_t n = 0;
    for (const auto& shard : shards_) {
        std::lock_guard lock(shard.mutex);
        n += shard.keys.size();
    }
    return n;
}

} // namespace ssecast::ratelimit
