// SPDX-License-Identifier: MIT
// Metric aggregation and Prometheus text rendering.
#include "metrics/metrics.hpp"

#include <fmt/format.h>

namespace ssecast::metrics {

void ShardCounters::observe_latency(std::chrono::nanoseconds d) noexcept {
    const double s = std::chrono::duration<double>(d).count();
    std::size_t i = 0;
    while (i < kLatencyBuckets.size() && s > kLatencyBuckets[i]) {
        ++i;
    }
    add(latency[i]);
    add(latency_sum_ns, static_cast<std::uint64_t>(d.count() > 0 ? d.count() : 0));
}

Metrics::Metrics(std::size_t shards) {
    for (std::size_t i = 0; i < shards; ++i) {
        shards_.push_back(std::make_unique<ShardCounters>());
    }
}

Totals Metrics::totals() const {
    Totals t;
    for (const auto& s : shards_) {
        t.connections += s->connections.load(std::memory_order_relaxed);
        t.connects += s->connects.load(std::memory_order_relaxed);
        t.disconnects += s->disconnects.load(std::memory_order_relaxed);
        t.delivered += s->delivered.load(std::memory_order_relaxed);
        t.dropped += s->dropped.load(std::memory_order_relaxed);
        t.expired += s->expired.load(std::memory_order_relaxed);
        t.disconnected += s->disconnected.load(std::memory_order_relaxed);
        t.bytes_written += s->bytes_written.load(std::memory_order_relaxed);
    }
    t.published = global_.published.load(std::memory_order_relaxed);
    return t;
}

namespace {
void family(std::string& out, const char* name, const char* type, const char* help) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}
void sample(std::string& out, const char* name, std::uint64_t v) {
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, v);
}
} // namespace

std::string Metrics::render_prometheus() const {
    const Totals t = totals();
    std::string out;
    out.reserve(4096);
    family(out, "ssecast_connections", "gauge", "Open SSE streams on this instance.");
    sample(out, "ssecast_connections", t.connections);
    family(out, "ssecast_connects_total", "counter", "SSE streams opened.");
    sample(out, "ssecast_connects_total", t.connects);
    family(out, "ssecast_disconnects_total", "counter", "SSE streams closed.");
    sample(out, "ssecast_disconnects_total", t.disconnects);
    family(out, "ssecast_events_published_total", "counter", "Events accepted by POST /publish.");
    sample(out, "ssecast_events_published_total", t.published);
    family(out, "ssecast_events_delivered_total", "counter",
           "Events queued to a subscriber on this instance.");
    sample(out, "ssecast_events_delivered_total", t.delivered);
    family(out, "ssecast_events_dropped_total", "counter",
           "Subscribers cut off because their outgoing queue overflowed.");
    sample(out, "ssecast_events_dropped_total", t.dropped);
    family(out, "ssecast_streams_expired_total", "counter",
           "SSE streams ended with ssecast.token-expired (token exp or hook expires_in).");
    sample(out, "ssecast_streams_expired_total", t.expired);
    family(out, "ssecast_streams_disconnected_total", "counter",
           "SSE streams ended by POST /api/admin/disconnect on this instance.");
    sample(out, "ssecast_streams_disconnected_total", t.disconnected);
    family(out, "ssecast_bytes_written_total", "counter", "SSE bytes written to sockets.");
    sample(out, "ssecast_bytes_written_total", t.bytes_written);
    family(out, "ssecast_publish_rejected_total", "counter", "Publish requests refused.");
    sample(out, "ssecast_publish_rejected_total", global_.publish_rejected.load());
    family(out, "ssecast_rate_limit_requests_total", "counter",
           "Requests checked by a rate limit, by endpoint and outcome.");
    fmt::format_to(
        std::back_inserter(out),
        "ssecast_rate_limit_requests_total{{endpoint=\"sse\",outcome=\"allowed\"}} {}\n"
        "ssecast_rate_limit_requests_total{{endpoint=\"sse\",outcome=\"limited\"}} {}\n"
        "ssecast_rate_limit_requests_total{{endpoint=\"publish\",outcome=\"allowed\"}} {}\n"
        "ssecast_rate_limit_requests_total{{endpoint=\"publish\",outcome=\"limited\"}} {}\n",
        global_.rate_allowed_sse.load(), global_.rate_limited_sse.load(),
        global_.rate_allowed_publish.load(), global_.rate_limited_publish.load());
    family(out, "ssecast_redis_up", "gauge", "1 when the Redis connection is up (redis mode).");
    sample(out, "ssecast_redis_up", global_.redis_up.load());
    family(out, "ssecast_redis_publish_ok", "gauge",
           "1 when this instance's last publish or publish check through Redis succeeded.");
    sample(out, "ssecast_redis_publish_ok", global_.redis_publish_ok.load());
    family(out, "ssecast_redis_ids_refused_total", "counter",
           "Event ids read from Redis that were malformed or implausibly far ahead (ignored).");
    sample(out, "ssecast_redis_ids_refused_total", global_.redis_ids_refused.load());
    family(out, "ssecast_redis_unreplicated_publishes_total", "counter",
           "Publish calls answered 503 because fewer than redis.min_replicas replicas "
           "acknowledged them in time (the events are on the master)");
    sample(out, "ssecast_redis_unreplicated_publishes_total", global_.redis_unreplicated.load());
    family(out, "ssecast_ingest_refused_total", "counter",
           "Items of the Redis ingest list refused by the publish body validator (removed).");
    sample(out, "ssecast_ingest_refused_total", global_.ingest_refused.load());
    family(out, "ssecast_rate_limit_fallback", "gauge",
           "1 while rate limits are enforced per instance because Redis is unreachable.");
    sample(out, "ssecast_rate_limit_fallback", global_.rate_limit_fallback.load());

    family(out, "ssecast_publish_to_write_seconds", "histogram",
           "Time from publish to the SSE frame being written to a subscriber socket.");
    std::uint64_t cumulative = 0;
    std::uint64_t sum_ns = 0;
    std::array<std::uint64_t, kLatencyBuckets.size() + 1> buckets{};
    for (const auto& s : shards_) {
        for (std::size_t i = 0; i < buckets.size(); ++i) {
            buckets[i] += s->latency[i].load(std::memory_order_relaxed);
        }
        sum_ns += s->latency_sum_ns.load(std::memory_order_relaxed);
    }
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
        cumulative += buckets[i];
        fmt::format_to(std::back_inserter(out),
                       "ssecast_publish_to_write_seconds_bucket{{le=\"{}\"}} {}\n",
                       kLatencyBuckets[i], cumulative);
    }
    cumulative += buckets.back();
    fmt::format_to(std::back_inserter(out),
                   "ssecast_publish_to_write_seconds_bucket{{le=\"+Inf\"}} {}\n"
                   "ssecast_publish_to_write_seconds_sum {}\n"
                   "ssecast_publish_to_write_seconds_count {}\n",
                   cumulative, static_cast<double>(sum_ns) / 1e9, cumulative);
    return out;
}

} // namespace ssecast::metrics
