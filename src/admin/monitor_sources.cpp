// SPDX-License-Identifier: MIT
// Gathers MonitorInput from the registry and metrics, then renders it.
#include "admin/monitor_sources.hpp"

#include "admin/monitor.hpp"
#include "common/async_bridge.hpp"

namespace ssecast::admin {

boost::asio::awaitable<std::string> monitor_document(const MonitorSources& src, std::size_t limit,
                                                     std::string user) {
    MonitorInput in;
    in.handler = src.handler;
    in.instance_id = src.instance_id;
    in.uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                 src.started);
    in.totals = src.metrics.totals();
    in.local_connections = in.totals.connections;
    in.redis_status = src.redis_status();
    if (src.shard_status) {
        in.shard_status = src.shard_status();
    }
    in.rate_limit_fallback = src.rate_limit_fallback();
    auto snap = co_await await_callback<result<registry::RegistrySnapshot>>(
        [&](auto done) { src.registry.snapshot(limit, std::move(done)); });
    if (snap) {
        in.global = std::move(*snap);
    } else {
        in.global.connections = in.local_connections;
        in.global.instances.push_back({src.instance_id, in.local_connections, {}});
    }
    in.local_unique_users = src.registry.local_unique_users();
    if (!user.empty()) {
        auto conns = co_await await_callback<result<std::vector<registry::ConnectionRecord>>>(
            [&](auto done) { src.registry.connections_of(user, limit, std::move(done)); });
        in.connections = conns ? std::move(*conns) : std::vector<registry::ConnectionRecord>{};
    }
    co_return render_monitor(in);
}

} // namespace ssecast::admin
