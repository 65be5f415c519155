// SPDX-License-Identifier: MIT
// Reference-counted, batched Redis (P)SUBSCRIBE / (P)UNSUBSCRIBE with confirmation waiters.
#include "redis/subscriptions.hpp"

#include "common/errc.hpp"

#include <boost/asio/post.hpp>

namespace ssecast::redis {

namespace {
/// Channels per (P)SUBSCRIBE command: a reconnect storm of thousands of new topics becomes
/// a handful of commands, none of them huge.
constexpr std::size_t kPerCommand = 512;

bool is_confirmation(const std::string& kind) {
    return kind == "subscribe" || kind == "psubscribe" || kind == "unsubscribe" ||
           kind == "punsubscribe";
}
} // namespace

struct Subscriptions::Waiter {
    std::vector<std::string> names; ///< one per watched pattern (may repeat)
    std::size_t remaining = 0;      ///< entries not yet confirmed
    Done done;
    std::chrono::steady_clock::time_point deadline;
};

Subscriptions::Subscriptions(boost::asio::io_context& ioc, Connection& conn, const Keys& keys,
                             std::chrono::milliseconds confirm_timeout,
                             std::function<void(const Reply&)> on_push,
                             std::function<void()> on_resubscribed)
    : ioc_(ioc), conn_(conn), keys_(keys), confirm_timeout_(confirm_timeout),
      on_push_(std::move(on_push)), on_resubscribed_(std::move(on_resubscribed)) {}

std::string Subscriptions::name_of(const hub::TopicPattern& p, bool& is_pattern) const {
    is_pattern = p.is_prefix();
    return is_pattern ? keys_.channel_pattern(p.key()) : keys_.topic_channel(p.key());
}

Subscriptions::Entry& Subscriptions::entry_for(const std::string& name, bool is_pattern) {
    auto [it, fresh] = entries_.try_emplace(name);
    if (fresh) {
        it->second.is_pattern = is_pattern;
        it->second.state = State::queued;
        queued_.push_back(name);
        schedule_flush();
    }
    return it->second;
}

void Subscriptions::keep(const std::string& channel) {
    auto& e = entry_for(channel, false);
    e.permanent = true;
    ++e.refs;
}

void Subscriptions::watch(const std::vector<hub::TopicPattern>& patterns, Done done) {
    // While the connection is down a stream still opens (docs/redis.md §Outages: streams
    // ride an outage out): the entry is subscribed with the others on reconnect, and the
    // gap fill then delivers what was published meanwhile.
    const bool down = !conn_.up();
    auto w = std::make_shared<Waiter>();
    w->deadline = std::chrono::steady_clock::now() + confirm_timeout_;
    for (const auto& p : patterns) {
        bool is_pattern = false;
        std::string name = name_of(p, is_pattern);
        auto& e = entry_for(name, is_pattern);
        if (!e.topic) {
            e.topic = p;
        }
        ++e.refs;
        if (e.state != State::subscribed && !down) {
            ++w->remaining;
            e.waiters.push_back(w);
        }
        w->names.push_back(std::move(name));
    }
    if (w->remaining == 0) {
        done({});
        return;
    }
    w->done = std::move(done);
}

void Subscriptions::unwatch(const std::vector<hub::TopicPattern>& patterns) {
    for (const auto& p : patterns) {
        bool is_pattern = false;
        release(name_of(p, is_pattern));
    }
}

void Subscriptions::release(const std::string& name) {
    const auto it = entries_.find(name);
    if (it != entries_.end() && it->second.refs > 0) {
        --it->second.refs; // an idle entry is unsubscribed by tick(), or reused before
    }
}

void Subscriptions::fail(const std::shared_ptr<Waiter>& w, boost::system::error_code ec) {
    if (!w->done) {
        return; // already answered
    }
    Done done = std::move(w->done);
    w->done = nullptr;
    for (const auto& name : w->names) {
        auto it = entries_.find(name);
        if (it != entries_.end()) {
            auto& ws = it->second.waiters;
            std::erase(ws, w);
        }
        release(name);
    }
    done(ec);
}

void Subscriptions::confirmed(const std::string& name) {
    const auto it = entries_.find(name);
    if (it == entries_.end()) {
        return;
    }
    auto& e = it->second;
    if (e.state == State::subscribed) {
        return;
    }
    e.state = State::subscribed;
    const bool was_resubscribe = e.resubscribe;
    e.resubscribe = false;
    auto waiters = std::move(e.waiters);
    e.waiters.clear();
    for (const auto& w : waiters) {
        if (w->done && --w->remaining == 0) {
            Done done = std::move(w->done);
            w->done = nullptr;
            done({});
        }
    }
    if (was_resubscribe && resubscribing_ && --awaiting_resubscribe_ == 0) {
        resubscribing_ = false;
        on_resubscribed_();
    }
}

void Subscriptions::on_push(const Reply& r) {
    if (!r.is_array() || r.elements.size() < 3) {
        return;
    }
    const std::string& kind = r.elements[0].str;
    if (!is_confirmation(kind)) {
        on_push_(r);
        return;
    }
    const std::string& name = r.elements[1].str;
    if (kind == "subscribe" || kind == "psubscribe") {
        confirmed(name);
        on_push_(r); // the broker reacts to its ping channel's confirmation
        return;
    }
    // Unsubscribed. A client that came back while the UNSUBSCRIBE was in flight is
    // subscribed again only from here, so each entry has one command in flight and every
    // confirmation belongs to the entry's current state (the rule began as a workaround for
    // hiredis forgetting a channel's callback on this reply; docs/redis.md).
    const auto it = entries_.find(name);
    if (it == entries_.end() || it->second.state != State::unsubscribing) {
        return;
    }
    if (it->second.refs > 0) {
        it->second.state = State::queued;
        queued_.push_back(name);
        schedule_flush();
    } else {
        entries_.erase(it);
    }
}

void Subscriptions::schedule_flush() {
    if (flush_posted_) {
        return;
    }
    flush_posted_ = true;
    boost::asio::post(ioc_, [this] {
        flush_posted_ = false;
        flush();
    });
}

void Subscriptions::send(std::string_view verb, const std::vector<std::string>& names) {
    auto handler = [this](const Reply& r) { on_push(r); };
    for (std::size_t i = 0; i < names.size(); i += kPerCommand) {
        const auto first = names.begin() + static_cast<std::ptrdiff_t>(i);
        const auto last =
            names.begin() + static_cast<std::ptrdiff_t>(std::min(names.size(), i + kPerCommand));
        conn_.pubsub(verb, {first, last}, handler);
    }
}

void Subscriptions::flush() {
    if (!conn_.up()) {
        queued_.clear(); // connection_up() sends every wanted entry again
        return;
    }
    std::vector<std::string> channels;
    std::vector<std::string> patterns;
    for (auto& name : queued_) {
        const auto it = entries_.find(name);
        if (it == entries_.end() || it->second.state != State::queued) {
            continue;
        }
        it->second.state = State::sent;
        (it->second.is_pattern ? patterns : channels).push_back(std::move(name));
    }
    queued_.clear();
    send("SUBSCRIBE", channels);
    send("PSUBSCRIBE", patterns);
}

void Subscriptions::connection_up() {
    queued_.clear();
    awaiting_resubscribe_ = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->second.refs == 0) {
            it = entries_.erase(it);
            continue;
        }
        it->second.state = State::queued;
        it->second.resubscribe = true;
        queued_.push_back(it->first);
        ++awaiting_resubscribe_;
        ++it;
    }
    resubscribing_ = awaiting_resubscribe_ > 0;
    flush();
}

void Subscriptions::connection_down() {
    resubscribing_ = false;
    awaiting_resubscribe_ = 0;
    queued_.clear();
    std::vector<std::shared_ptr<Waiter>> waiting;
    for (auto& [name, e] : entries_) {
        e.state = State::queued;
        e.resubscribe = false;
        for (auto& w : e.waiters) {
            waiting.push_back(w);
        }
    }
    for (const auto& w : waiting) {
        fail(w, errc::backend_unavailable);
    }
}

void Subscriptions::tick() {
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<Waiter>> late;
    std::vector<std::string> channels;
    std::vector<std::string> patterns;
    for (auto& [name, e] : entries_) {
        for (const auto& w : e.waiters) {
            if (w->deadline <= now) {
                late.push_back(w);
            }
        }
        if (e.refs == 0 && !e.permanent && e.state == State::subscribed && conn_.up()) {
            e.state = State::unsubscribing;
            (e.is_pattern ? patterns : channels).push_back(name);
        }
    }
    for (const auto& w : late) {
        fail(w, errc::timeout);
    }
    send("UNSUBSCRIBE", channels);
    send("PUNSUBSCRIBE", patterns);
}

std::vector<hub::TopicPattern> Subscriptions::patterns() const {
    std::vector<hub::TopicPattern> out;
    for (const auto& [name, e] : entries_) {
        if (e.refs > 0 && e.topic) {
            out.push_back(*e.topic);
        }
    }
    return out;
}

} // namespace ssecast::redis
