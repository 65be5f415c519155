// SPDX-License-Identifier: MIT
// Connection over a scripted fake Redis on loopback: the handshake comes first, replies split
// across reads and pipelined replies reach the right commands, a refused AUTH is
// auth_failed, and a server that never answers is not up.
#include "redis/connection.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include <sys/socket.h>

namespace ssecast::redis {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

/// A one-connection server on its own thread: for each expected request (exact RESP bytes)
/// it reads that many bytes, checks them, and writes the scripted answer in `pieces`.
class FakeRedis {
  public:
    struct Step {
        std::string expect;
        std::vector<std::string> pieces; ///< written one by one, with a pause between
    };

    explicit FakeRedis(std::vector<Step> steps)
        : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)),
          thread_([this, steps = std::move(steps)] { serve(steps); }) {}
    ~FakeRedis() {
        boost::system::error_code ec;
        acceptor_.close(ec);
        {
            // The server thread's socket may be gone already: shut down by descriptor, and
            // only while that thread still holds it (it clears fd_ before closing).
            const std::lock_guard lock(mutex_);
            if (fd_ >= 0) {
                ::shutdown(fd_, SHUT_RDWR);
            }
        }
        thread_.join();
    }
    FakeRedis(const FakeRedis&) = delete;
    FakeRedis& operator=(const FakeRedis&) = delete;

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string mismatch; ///< set by the server thread if a request differed

  private:
    void serve(const std::vector<Step>& steps) {
        boost::system::error_code ec;
        tcp::socket s(ioc_);
        acceptor_.accept(s, ec);
        if (ec) {
            return;
        }
        {
            const std::lock_guard lock(mutex_);
            fd_ = s.native_handle();
        }
        struct Forget {
            FakeRedis& self;
            ~Forget() {
                const std::lock_guard lock(self.mutex_);
                self.fd_ = -1;
            }
        } forget{*this};
        for (const auto& step : steps) {
            std::string got(step.expect.size(), '\0');
            net::read(s, net::buffer(got), ec);
            if (ec || got != step.expect) {
                mismatch = got;
                return;
            }
            for (const auto& p : step.pieces) {
                net::write(s, net::buffer(p), ec);
                std::this_thread::sleep_for(5ms);
            }
        }
        // Then read (and never answer) until the client goes away: a hung Redis.
        char sink[256];
        while (!ec) {
            s.read_some(net::buffer(sink), ec);
        }
    }

    net::io_context ioc_;
    tcp::acceptor acceptor_;
    std::mutex mutex_; ///< guards fd_
    int fd_ = -1;      ///< the served connection's descriptor while serve() holds it
    std::thread thread_;
};

std::string resp(std::vector<std::string> args) {
    return Transport::format(args);
}

ConnectionOptions options(std::uint16_t port, std::string password = "", unsigned db = 0) {
    ConnectionOptions o;
    o.name = "test";
    o.endpoint.host = "127.0.0.1";
    o.endpoint.port = port;
    o.endpoint.username = password.empty() ? "" : "app";
    o.endpoint.password = std::move(password);
    o.endpoint.db = db;
    o.connect_timeout = 500ms;
    o.command_timeout = 500ms;
    o.backoff_base = 10s; // one attempt per test
    return o;
}

TEST(Connection, HandshakeFirstThenSplitAndPipelinedReplies) {
    FakeRedis fake(
        {{resp({"AUTH", "app", "s3cret"}) + resp({"SELECT", "2"}), {"+OK\r\n+O", "K\r\n"}},
         {resp({"GET", "a"}) + resp({"GET", "b"}), {"$3\r\nv", "al\r\n$-1\r\n"}}});
    net::io_context ioc;
    auto c = Connection::create(ioc, options(fake.port(), "s3cret", 2));
    std::vector<std::string> got;
    c->on_up([&] {
        c->command({"GET", "a"}, [&](result<Reply> r) { got.push_back(r ? r->str : "error"); });
        c->command({"GET", "b"}, [&](result<Reply> r) {
            got.push_back(r && r->is_nil() ? "nil" : "error");
            ioc.stop();
        });
    });
    c->start();
    ioc.run_for(3s);
    EXPECT_TRUE(fake.mismatch.empty()) << fake.mismatch;
    EXPECT_EQ(got, (std::vector<std::string>{"val", "nil"}));
    EXPECT_TRUE(c->up());
    EXPECT_FALSE(c->auth_failed());
    c->stop();
}

TEST(Connection, RefusedAuthIsAuthFailedAndNeverUp) {
    FakeRedis fake({{resp({"AUTH", "app", "wrong"}),
                     {"-WRONGPASS invalid username-password pair or user is disabled.\r\n"}}});
    net::io_context ioc;
    auto c = Connection::create(ioc, options(fake.port(), "wrong"));
    bool up = false;
    c->on_up([&] { up = true; });
    c->start();
    ioc.run_for(1s);
    EXPECT_FALSE(up);
    EXPECT_FALSE(c->up());
    EXPECT_TRUE(c->auth_failed());
    bool refused = false;
    c->command({"PING"}, [&](result<Reply> r) { refused = !r; });
    EXPECT_TRUE(refused); // down: completes at once, never sent unauthenticated
    c->stop();
}

TEST(Connection, ServerThatNeverAnswersIsNotUp) {
    FakeRedis fake({}); // accepts, reads, never answers the PING
    net::io_context ioc;
    auto c = Connection::create(ioc, options(fake.port()));
    bool up = false;
    c->on_up([&] { up = true; });
    c->start();
    ioc.run_for(1s); // connect timeout 500 ms
    EXPECT_FALSE(up);
    EXPECT_FALSE(c->up());
    EXPECT_FALSE(c->auth_failed());
    c->stop();
}

TEST(Connection, UnansweredCommandTimesOut) {
    FakeRedis fake({{resp({"PING"}), {"+PONG\r\n"}}}); // then silence
    net::io_context ioc;
    auto c = Connection::create(ioc, options(fake.port()));
    std::optional<result<Reply>> outcome;
    const auto t0 = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration took{};
    c->on_up([&] {
        c->command({"GET", "k"}, [&](result<Reply> r) {
            outcome = std::move(r);
            took = std::chrono::steady_clock::now() - t0;
            ioc.stop();
        });
    });
    c->start();
    ioc.run_for(3s);
    ASSERT_TRUE(outcome.has_value());
    ASSERT_FALSE(*outcome);
    EXPECT_EQ(outcome->error(), errc::timeout);
    EXPECT_LT(took, 1500ms); // command timeout 500 ms, swept every 100 ms
    EXPECT_FALSE(c->up());   // an unanswered command drops the link
    c->stop();
}

} // namespace
} // namespace ssecast::redis
