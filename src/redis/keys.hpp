// SPDX-License-Identifier: MIT
// Every Redis key and channel ssecast uses, built once from redis.prefix (docs/redis.md
// §Keys). All live under the prefix; each is bounded (capped stream, TTLs, cleanup).
#pragma once

#include <string>
#include <string_view>

namespace ssecast::redis {

struct Keys {
    Keys(const std::string& p, const std::string& id)
        : prefix(p), instance_id(id), last_id(p + "stream:last-id"), origin(p + "stream:origin"),
          topics(p + "topics"), topic_sizes(p + "topic-sizes"), history_total(p + "history-total"),
          layout(p + "layout"), old_stream(p + "stream"), old_trimmed(p + "stream:trimmed"),
          ping(p + "ping:" + id), ingest(p + "ingest"), processing(p + "ingest:processing:" + id),
          instances(p + "instances"), alive(p + "instance:" + id + ":alive"),
          users(p + "instance:" + id + ":users"), conns(p + "instance:" + id + ":conns"),
          cleanup_lock(p + "cleanup:lock") {}

    std::string prefix;
    std::string instance_id;
    std::string last_id;       ///< newest id ever assigned, on any topic (ids never go back)
    std::string origin;        ///< first id of this incarnation of the data (data-loss detection)
    std::string topics;        ///< ZSET (score 0) of topic names with history, for prefix resumes
    std::string topic_sizes;   ///< ZSET topic → entries retained (history.max_total_events)
    std::string history_total; ///< entries retained over all topics
    std::string layout;        ///< version of the key layout below (upgrade.lua)
    std::string old_stream;    ///< the global stream of versions before per-topic history
    std::string old_trimmed;   ///< its trimmed-id key
    std::string ping;          ///< readiness round trip, this instance only
    std::string ingest;        ///< LIST backends RPUSH events into (publish without HTTP)
    std::string processing;    ///< this instance's popped-but-not-yet-published ingest items
    std::string instances;     ///< ZSET instance id → last heartbeat (Unix ms)
    std::string alive;         ///< this instance's heartbeat key (PX redis.instance_ttl)
    std::string users;         ///< HASH user → open streams on this instance
    std::string conns;         ///< HASH connection id → {"user","topics","since"} JSON
    std::string cleanup_lock;  ///< SET NX PX: one survivor cleans up dead instances

    // Per topic (publish.lua, replay.lua build the same names from the prefix; topic names
    // are [A-Za-z0-9._:/@-], so "topic:" and "topic-meta:" names never collide).
    /// Capped stream of one topic's events (MAXLEN history.max_events, MINID by age).
    std::string topic_stream(std::string_view topic) const { return cat("topic:", topic); }
    /// HASH {last, trimmed}: newest id on the topic and newest id trimmed from it.
    std::string topic_meta(std::string_view topic) const { return cat("topic-meta:", topic); }
    /// PUBLISH channel of one topic: "<id> <event json>".
    std::string topic_channel(std::string_view topic) const { return cat("events:", topic); }
    /// PSUBSCRIBE pattern for the topics starting with `topic_prefix` ("" = every topic).
    std::string channel_pattern(std::string_view topic_prefix) const {
        std::string out;
        for (const char c : prefix + "events:") {
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
                out += '\\'; // a glob character in redis.prefix matches only itself
            }
            out += c;
        }
        out += topic_prefix; // topic names hold no glob characters
        out += '*';
        return out;
    }

  private:
    std::string cat(std::string_view family, std::string_view topic) const {
        std::string out;
        out.reserve(prefix.size() + family.size() + topic.size());
        out.append(prefix).append(family).append(topic);
        return out;
    }
};

} // namespace ssecast::redis
