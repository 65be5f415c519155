// SPDX-License-Identifier: MIT
// sd_notify from libsystemd (the reference implementation of the protocol, with its
// abstract-socket and WATCHDOG_PID rules) rather than a hand-written datagram sender.
#include "app/systemd_notify.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace ssecast::app {

namespace net = boost::asio;
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

SystemdNotifier::SystemdNotifier() {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket != nullptr && *socket != '\0';
    std::uint64_t usec = 0;
    if (enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        watchdog_ = std::chrono::microseconds(static_cast<std::int64_t>(usec));
    }
}

void SystemdNotifier::send(const std::string& message) {
    if (!enabled_) {
        return;
    }
    const int r = sd_notify(0, message.c_str());
    if (r < 0) {
        spdlog::debug("sd_notify failed: {}", std::strerror(-r));
    }
}

void SystemdNotifier::ready(const std::string& status) {
    if (!ready_sent_.exchange(true)) {
        send("READY=1\nSTATUS=" + status);
    }
}

void SystemdNotifier::stopping(const std::string& status) {
    if (!stopping_.exchange(true)) {
        send("STOPPING=1\nSTATUS=" + status);
    }
}

void SystemdNotifier::status(const std::string& text) {
    send("STATUS=" + text);
}

void SystemdNotifier::watchdog() {
    send("WATCHDOG=1");
}

net::awaitable<void> notify_service_manager(SystemdNotifier& notifier,
                                            std::function<bool()> is_ready,
                                            std::string ready_status,
                                            std::vector<net::io_context*> loops) {
    if (!notifier.enabled() || loops.empty()) {
        co_return;
    }
    net::steady_timer timer(co_await net::this_coro::executor);
    if (is_ready && !is_ready()) {
        notifier.status("waiting for Redis");
        while (!is_ready() && !notifier.is_stopping()) {
            timer.expires_after(std::chrono::milliseconds(50));
            if (auto [ec] = co_await timer.async_wait(use_nothrow); ec) {
                co_return;
            }
        }
    }
    if (!notifier.is_stopping()) {
        notifier.ready(ready_status);
    }
    const auto timeout = notifier.watchdog_timeout();
    if (!timeout) {
        co_return;
    }
    // Round r: each loop stores r when it runs the check-in. Shared with the posted
    // handlers, which may run after this coroutine is gone.
    auto seen = std::make_shared<std::vector<std::atomic<std::uint64_t>>>(loops.size());
    std::uint64_t round = 0;
    for (;;) {
        bool all_ran = true;
        for (const auto& s : *seen) {
            all_ran = all_ran && s.load() == round;
        }
        if (all_ran) {
            notifier.watchdog();
        } else {
            spdlog::warn("an event loop did not run its watchdog check-in; no WATCHDOG=1");
        }
        ++round;
        for (std::size_t i = 0; i < loops.size(); ++i) {
            net::post(*loops[i], [seen, i, round] { (*seen)[i].store(round); });
        }
        timer.expires_after(*timeout / 2);
        if (auto [ec] = co_await timer.async_wait(use_nothrow); ec) {
            co_return;
        }
    }
}

} // namespace ssecast::app
