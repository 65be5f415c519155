// SPDX-License-Identifier: MIT
// The service manager's notify protocol (sd_notify(3), through libsystemd): READY=1 once
// ssecast serves, STOPPING=1 on drain, WATCHDOG=1 while every event loop still runs.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ssecast::app {

/// Sends notify messages to $NOTIFY_SOCKET. Without NOTIFY_SOCKET (not started by systemd
/// with Type=notify) every call is a no-op, so nothing changes outside systemd. The
/// environment is read once, in the constructor; the calls are thread-safe (one datagram
/// each) and never throw (a failed send is logged at debug level and forgotten).
class SystemdNotifier {
  public:
    SystemdNotifier();

    /// True when NOTIFY_SOCKET is set.
    bool enabled() const { return enabled_; }
    /// The interval the manager wants WATCHDOG=1 within (WatchdogSec=), or nullopt.
    std::optional<std::chrono::microseconds> watchdog_timeout() const { return watchdog_; }

    /// READY=1 with a STATUS line; at most once per process (later calls do nothing).
    void ready(const std::string& status);
    /// STOPPING=1 with a STATUS line; at most once.
    void stopping(const std::string& status);
    /// STATUS=<text> alone.
    void status(const std::string& text);
    /// WATCHDOG=1.
    void watchdog();
    /// True once stopping() was called (any thread).
    bool is_stopping() const { return stopping_.load(); }

  private:
    void send(const std::string& message);

    bool enabled_ = false;
    std::optional<std::chrono::microseconds> watchdog_;
    std::atomic<bool> ready_sent_{false};
    std::atomic<bool> stopping_{false};
};

/// Runs on `loops.front()` (shard 0) for the life of the server. First waits until
/// `is_ready()` is true (null = ready at once; redis mode: Redis answered a round trip),
/// polling every 50 ms, then sends READY=1 with `ready_status`. The caller spawns it after
/// the acceptors listen, so READY always follows listening. If the manager asked for a
/// watchdog, every half WatchdogSec it posts a check-in to every loop in `loops` and sends
/// WATCHDOG=1 only when each loop ran the previous round's check-in: one wedged loop stops
/// the pings, and systemd restarts the service. Returns when its loop stops, at once when
/// `notifier` is disabled.
boost::asio::awaitable<void> notify_service_manager(SystemdNotifier& notifier,
                                                    std::function<bool()> is_ready,
                                                    std::string ready_status,
                                                    std::vector<boost::asio::io_context*> loops);

} // namespace ssecast::app
