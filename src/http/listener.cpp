// SPDX-License-Identifier: MIT
// Acceptors (SO_REUSEPORT, one per shard) and the accept loop.
#include "http/listener.hpp"

#include "config/endpoints.hpp"
#include "http/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <chrono>
#include <stdexcept>

namespace ssecast::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

namespace {

tcp::endpoint listen_endpoint(const std::string& listen) {
    const auto parsed = config::parse_listen(listen);
    if (!parsed) {
        throw std::runtime_error("http.listen: cannot parse '" + listen + "'");
    }
    boost::system::error_code ec;
    const tcp::endpoint endpoint(net::ip::make_address(parsed->first, ec), parsed->second);
    if (ec) {
        throw std::runtime_error("http.listen: bad address '" + parsed->first + "'");
    }
    return endpoint;
}

tcp::acceptor open_acceptor(net::io_context& ioc, const tcp::endpoint& ep) {
    tcp::acceptor acceptor(ioc);
    acceptor.open(ep.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    // One acceptor per shard on the same port: the kernel spreads connections over them.
    const int one = 1;
    ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    acceptor.bind(ep);
    acceptor.listen(4096);
    return acceptor;
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor, ServerContext& ctx, hub::Shard& shard) {
    std::chrono::steady_clock::time_point last_warning{};
    std::size_t unreported = 0;
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
        if (ec == net::error::operation_aborted || !acceptor.is_open()) {
            co_return;
        }
        if (ec) {
            // EMFILE and friends: back off briefly instead of spinning, and say so at most
            // every 10 s (at the open-file limit this repeats 20 times a second).
            const auto now = std::chrono::steady_clock::now();
            if (now - last_warning >= std::chrono::seconds(10)) {
                spdlog::warn("accept failed: {} ({} more since the last warning); new "
                             "connections wait in the backlog",
                             ec.message(), unreported);
                last_warning = now;
                unreported = 0;
            } else {
                ++unreported;
            }
            net::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(50));
            co_await t.async_wait(use_nothrow);
            continue;
        }
        net::co_spawn(acceptor.get_executor(), serve_session(std::move(socket), ctx, shard),
                      [](std::exception_ptr e) {
                          if (e) {
                              try {
                                  std::rethrow_exception(e);
                              } catch (const std::exception& ex) {
                                  spdlog::error("session ended by an exception (a bug): {}",
                                                ex.what());
                              }
                          }
                      });
    }
}

} // namespace

Listener::Listener(const std::string& listen,
                   const std::vector<std::unique_ptr<hub::Shard>>& shards) {
    const tcp::endpoint endpoint = listen_endpoint(listen);
    for (const auto& s : shards) {
        try {
            acceptors_.push_back(
                std::make_unique<tcp::acceptor>(open_acceptor(s->ioc(), endpoint)));
        } catch (const boost::system::system_error& e) {
            throw std::runtime_error("cannot listen on " + listen + ": " + e.code().message());
        }
    }
}

void Listener::start(ServerContext& ctx, const std::vector<std::unique_ptr<hub::Shard>>& shards) {
    for (std::size_t i = 0; i < shards.size(); ++i) {
        net::co_spawn(shards[i]->ioc(), accept_loop(*acceptors_[i], ctx, *shards[i]),
                      net::detached);
    }
}

void Listener::close(std::size_t i) {
    boost::system::error_code ignored;
    acceptors_[i]->close(ignored);
}

} // namespace ssecast::http
