// SPDX-License-Identifier: MIT
// Fan-out on one shard: broker → inbox (any thread) → hub → streams (shard thread).
#include "hub/shard.hpp"

#include <boost/asio/post.hpp>

#include <vector>

namespace ssecast::hub {

void Shard::deliver(const EventPtr& event) {
    if (inbox_.push(event)) {
        boost::asio::post(ioc_, [this] { drain(); });
    }
}

void Shard::drain() {
    // Reused per thread: a burst allocates nothing once the vector has grown.
    thread_local std::vector<EventPtr> batch;
    inbox_.take(batch);
    std::size_t delivered = 0;
    std::size_t dropped = 0;
    for (const auto& event : batch) {
        const auto counts = hub_.dispatch(event);
        delivered += counts.delivered;
        dropped += counts.dropped;
    }
    batch.clear();
    // One notification per subscriber per burst; most streams write right here, without a
    // trip through the scheduler (http/event_stream.cpp, write_now).
    hub_.flush_ready();
    counters_.add(counters_.delivered, delivered);
    counters_.add(counters_.dropped, dropped);
}

} // namespace ssecast::hub
