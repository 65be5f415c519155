// SPDX-License-Identifier: MIT
// Awaiting the callback-style backend interfaces (Broker, RateLimiter, ClientRegistry) from
// a session coroutine: the callback may run on any thread; the coroutine resumes on its own.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <utility>

namespace ssecast {

/// `co_await await_callback<T>(start)`: calls `start(std::function<void(T)>)` and resumes
/// with the T it is given, on the awaiting coroutine's executor. `start` must call the
/// callback exactly once.
template <class T, class Start> boost::asio::awaitable<T> await_callback(Start start) {
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(T)>(
        [start = std::move(start)](auto handler) mutable {
            // std::function needs a copyable callable; the coroutine handler is move-only.
            using Handler = decltype(handler);
            auto shared = std::make_shared<Handler>(std::move(handler));
            start([shared](T value) mutable {
                auto ex = boost::asio::get_associated_executor(*shared);
                boost::asio::post(ex, [shared, value = std::move(value)]() mutable {
                    std::move (*shared)(std::move(value));
                });
            });
        },
        boost::asio::use_awaitable);
}

} // namespace ssecast
