// SPDX-License-Identifier: MIT
// sse-monitor JSON.
#include "admin/monitor.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace ssecast::admin {

std::string render_monitor(const MonitorInput& in) {
    namespace json = boost::json;
    json::object doc;
    doc["handler"] = in.handler;
    doc["instanceId"] = in.instance_id;
    doc["uptimeSeconds"] = in.uptime.count();
    doc["local"] = {{"connections", in.local_connections}, {"uniqueUsers", in.local_unique_users}};
    doc["global"] = {{"connections", in.global.connections},
                     {"uniqueUsers", in.global.unique_users},
                     {"instances", in.global.instances.size()}};
    json::array per_user;
    for (const auto& u : in.global.per_user) {
        per_user.push_back(json::object{{"userId", u.user_id}, {"connections", u.connections}});
    }
    doc["perUser"] = std::move(per_user);
    json::array instances;
    for (const auto& i : in.global.instances) {
        instances.push_back(json::object{{"instanceId", i.instance_id},
                                         {"connections", i.connections},
                                         {"lastSeenSeconds", i.last_seen.count()}});
    }
    doc["instances"] = std::move(instances);
    doc["redis"] = {{"status", in.redis_status}};
    if (!in.shard_status.empty()) {
        // SPEC §Scaling out: which shard is down (added field; "status" stays the summary).
        json::array shards;
        for (std::size_t i = 0; i < in.shard_status.size(); ++i) {
            shards.push_back(json::object{{"shard", i}, {"status", in.shard_status[i]}});
        }
        doc["redis"].as_object()["shards"] = std::move(shards);
    }
    doc["rateLimit"] = {{"mode", in.rate_limit_fallback  ? "local-fallback"
                                 : in.handler == "redis" ? "global"
                                                         : "local"}};
    doc["events"] = {{"published", in.totals.published},
                     {"delivered", in.totals.delivered},
                     {"dropped", in.totals.dropped}};
    if (in.connections) {
        // ?user=<id>: that user's streams, with the ids POST /api/admin/disconnect takes.
        json::array list;
        for (const auto& c : *in.connections) {
            json::array topics;
            for (const auto& t : c.topics) {
                topics.emplace_back(t);
            }
            list.push_back({{"id", c.id},
                            {"userId", c.user_id},
                            {"topics", std::move(topics)},
                            {"sinceUnixMs", c.since_unix_ms}});
        }
        doc["connections"] = std::move(list);
    }
    return json::serialize(doc);
}

} // namespace ssecast::admin
