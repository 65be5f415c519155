// SPDX-License-Identifier: MIT
// Every Redis key and channel ssecast uses, built once from redis.prefix (docs/redis.md
// §Keys). All live under the prefix; each is bounded (capped stream, TTLs, cleanup).
#pragma once

#include <string>

namespace ssecast::redis {

struct Keys {
    Keys(const std::string& p, const std::string& id)
        : prefix(p), instance_id(id), stream(p + "stream"), last_id(p + "stream:last-id"),
          origin(p + "stream:origin"), trimmed(p + "stream:trimmed"), events(p + "events"),
          ping(p + "ping:" + id), ingest(p + "ingest"), processing(p + "ingest:processing:" + id),
          instances(p + "instances"), alive(p + "instance:" + id + ":alive"),
          users(p + "instance:" + id + ":users"), conns(p + "instance:" + id + ":conns"),
          cleanup_lock(p + "cleanup:lock"), control(p + "control"), blocks(p + "blocks"),
          control_reply(p + "control:reply:") {}

    std::string prefix;
    std::string instance_id;
    std::string stream;        ///< XADD history (MAXLEN history.max_events, MINID by age)
    std::string last_id;       ///< newest id ever assigned (ids never go back)
    std::string origin;        ///< first id of this stream incarnation (data-loss detection)
    std::string trimmed;       ///< newest id trimmed out of the stream (history-lost detection)
    std::string events;        ///< PUBLISH channel: "<id> <event json>"
    std::string ping;          ///< readiness round trip, this instance only
    std::string ingest;        ///< LIST backends RPUSH events into (publish without HTTP)
    std::string processing;    ///< this instance's popped-but-not-yet-published ingest items
    std::string instances;     ///< ZSET instance id → last heartbeat (Unix ms)
    std::string alive;         ///< this instance's heartbeat key (PX redis.instance_ttl)
    std::string users;         ///< HASH user → open streams on this instance
    std::string conns;         ///< HASH connection id → {"user","topics","since"} JSON
    std::string cleanup_lock;  ///< SET NX PX: one survivor cleans up dead instances
    std::string control;       ///< PUBLISH channel: admin orders (disconnect) to every instance
    std::string blocks;        ///< ZSET user → blocked until (Unix ms); past entries pruned
    std::string control_reply; ///< + order id: HASH n / answers, summed answers (PX 10 s)
};

} // namespace ssecast::redis
