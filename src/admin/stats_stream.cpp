// SPDX-License-Identifier: MIT
// One coroutine per admin stats stream; a timer between documents.
#include "admin/stats_stream.hpp"

#include "sse/encoder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <tuple>

namespace ssecast::admin {

namespace net = boost::asio;
using tcp = net::ip::tcp;
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

net::awaitable<void> stream_stats(tcp::socket socket, std::string head, const MonitorSources& src,
                                  std::function<bool()> draining) {
    // The monitor page shows the top users; the JSON endpoint takes ?limit= for more.
    constexpr std::size_t kUsers = 100;
    net::steady_timer timer(socket.get_executor());
    auto [ec, n] = co_await net::async_write(socket, net::buffer(head), use_nothrow);
    while (!ec && !draining()) {
        const std::string doc = co_await monitor_document(src, kUsers);
        const std::string frame = sse::encode_event("", "stats", doc);
        std::tie(ec, n) = co_await net::async_write(socket, net::buffer(frame), use_nothrow);
        if (ec) {
            break;
        }
        timer.expires_after(std::chrono::seconds(1));
        co_await timer.async_wait(use_nothrow);
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
}

} // namespace ssecast::admin
