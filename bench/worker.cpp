// SPDX-License-Identifier: MIT
// ssecast-bench subscriber worker: N SSE streams in one process, one thread, parsed and
// checked for loss (a bitmap of sequence numbers per stream) and latency.
#include "bench_common.hpp"
#include "latency_histogram.hpp"
#include "sse_stream.hpp"

#include <charconv>
#include <deque>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>

namespace ssecast::bench {

namespace {

struct Sub {
    explicit Sub(net::io_context& io) : sock(io) {}
    tcp::socket sock;
    SseStream sse;
    std::uint32_t topic = 0;
    bool connected = false;
    bool ended = false;
    std::uint32_t unique = 0;
    std::uint32_t dups = 0;
    std::uint32_t out_of_order = 0;
    std::int64_t max_seq = -1;
    std::vector<std::uint64_t> seen; // bitmap of received sequence numbers
};

struct Worker {
    const Options& opt;
    std::size_t first = 0; // global index of the first subscriber
    std::size_t count = 0;
    int res_fd = -1;
    net::io_context io{1};
    std::deque<Sub> subs;
    std::vector<tcp::endpoint> servers; // per sub URL
    std::vector<std::string> requests;  // per (sub URL, topic): [url * topics + topic]
    std::size_t in_flight = 0;
    std::size_t connected = 0;
    std::size_t failed = 0;
    std::size_t ended_early = 0;
    std::uint64_t t_start = 0;
    std::uint64_t t_all_connected = 0;
    bool ready_sent = false;
    bool draining = false;
    std::uint64_t received = 0;
    std::uint64_t bad_events = 0;
    std::uint64_t first_recv = 0;
    std::uint64_t last_recv = 0;
    LatencyHistogram hist;
    std::vector<char> buf = std::vector<char>(1 << 16);

    explicit Worker(const Options& o) : opt(o) {}

    void maybe_ready() {
        if (!ready_sent && connected + failed == count) {
            ready_sent = true;
            t_all_connected = now_ns();
            write_all(res_fd, "READY connected=" + std::to_string(connected) +
                                  " failed=" + std::to_string(failed) + " connect_ns=" +
                                  std::to_string(t_all_connected - t_start) + "\n");
        }
    }

    void on_event(Sub& s, std::string_view data, std::uint64_t now) {
        // data: "s=<seq> t=<ns> xxxx..."
        std::uint64_t seq = 0;
        std::uint64_t ts = 0;
        if (data.size() < 6 || data.substr(0, 2) != "s=") {
            ++bad_events;
            return;
        }
        auto r = std::from_chars(data.data() + 2, data.data() + data.size(), seq);
        const char* t = r.ptr;
        if (r.ec != std::errc{} || data.data() + data.size() - t < 4 || t[0] != ' ' ||
            t[1] != 't' || t[2] != '=') {
            ++bad_events;
            return;
        }
        std::from_chars(t + 3, data.data() + data.size(), ts);
        ++received;
        if (first_recv == 0) {
            first_recv = now;
        }
        last_recv = now;
        hist.add(now > ts ? (now - ts) / 1000 : 0);
        const std::size_t word = seq / 64;
        if (word >= s.seen.size()) {
            s.seen.resize(word + 1, 0);
        }
        const std::uint64_t bit = std::uint64_t{1} << (seq % 64);
        if ((s.seen[word] & bit) != 0) {
            ++s.dups;
            return;
        }
        s.seen[word] |= bit;
        ++s.unique;
        if (static_cast<std::int64_t>(seq) < s.max_seq) {
            ++s.out_of_order;
        }
        s.max_seq = std::max(s.max_seq, static_cast<std::int64_t>(seq));
    }

    net::awaitable<void> run_sub(Sub& s, std::size_t global) {
        boost::system::error_code ec;
        s.sock.open(tcp::v4(), ec);
        if (!ec) {
            int one = 1;
            // Let connect() pick the port per 4-tuple, so one source address is not
            // limited to the ephemeral range once for all destinations.
            ::setsockopt(s.sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                         sizeof one);
            // Source and destination chosen independently, so every pair gets its share.
            const std::size_t src_index = (global / servers.size()) % opt.src_addrs;
            auto src = net::ip::address_v4(
                static_cast<net::ip::address_v4::uint_type>(0x7f000002u + src_index));
            s.sock.bind(tcp::endpoint(src, 0), ec);
        }
        if (!ec) {
            std::tie(ec) =
                co_await s.sock.async_connect(servers[global % servers.size()], use_nothrow);
        }
        if (!ec) {
            const std::size_t r = (global % servers.size()) * opt.topics + s.topic;
            std::tie(ec, std::ignore) =
                co_await net::async_write(s.sock, net::buffer(requests[r]), use_nothrow);
        }
        if (ec) {
            --in_flight;
            ++failed;
            s.sock.close(ec);
            maybe_ready();
            co_return;
        }
        s.sock.non_blocking(true, ec);
        auto handler = [this, &s](std::string_view, std::string_view data) {
            on_event(s, data, last_read_ns_);
        };
        for (;;) {
            std::tie(ec) = co_await s.sock.async_wait(tcp::socket::wait_read, use_nothrow);
            if (ec) {
                break;
            }
            bool closed = false;
            for (;;) {
                std::size_t n = s.sock.read_some(net::buffer(buf), ec);
                if (ec == net::error::would_block) {
                    ec = {};
                    break;
                }
                if (ec || n == 0) {
                    closed = true;
                    break;
                }
                last_read_ns_ = now_ns();
                auto st = s.sse.feed(buf.data(), n, handler);
                if (!s.connected && st == SseStream::State::body) {
                    s.connected = true;
                    --in_flight;
                    ++connected;
                    maybe_ready();
                }
                if (st == SseStream::State::failed) {
                    closed = true;
                    break;
                }
                if (n < buf.size()) {
                    break;
                }
            }
            if (closed) {
                break;
            }
        }
        if (!s.connected) {
            --in_flight;
            ++failed;
            maybe_ready();
        } else if (!draining) {
            ++ended_early;
        }
        s.ended = true;
        s.sock.close(ec);
    }

    net::awaitable<void> launch() {
        net::steady_timer timer(io);
        for (std::size_t i = 0; i < count; ++i) {
            while (in_flight >= opt.connect_concurrency) {
                timer.expires_after(std::chrono::milliseconds(1));
                co_await timer.async_wait(use_nothrow);
            }
            ++in_flight;
            net::co_spawn(io, run_sub(subs[i], first + i), net::detached);
        }
    }

    /// Waits for "DRAIN <deadline_ns> <count per topic>..." then reports and stops.
    net::awaitable<void> control(int ctrl_fd) {
        net::posix::stream_descriptor ctrl(io, ctrl_fd);
        std::string line;
        auto [ec, n] =
            co_await net::async_read_until(ctrl, net::dynamic_buffer(line), '\n', use_nothrow);
        std::istringstream in(line.substr(0, n));
        std::string word;
        std::uint64_t deadline = 0;
        in >> word >> deadline;
        std::vector<std::uint64_t> published;
        std::uint64_t c = 0;
        while (in >> c) {
            published.push_back(c);
        }
        published.resize(opt.topics, 0);
        draining = true;
        net::steady_timer timer(io);
        for (;;) {
            bool done = true;
            for (auto& s : subs) {
                if (s.connected && !s.ended && s.unique < published[s.topic]) {
                    done = false;
                    break;
                }
            }
            if (done || ec || now_ns() >= deadline) {
                break;
            }
            timer.expires_after(std::chrono::milliseconds(5));
            co_await timer.async_wait(use_nothrow);
        }
        std::uint64_t expected = 0;
        std::uint64_t unique = 0;
        std::uint64_t dups = 0;
        std::uint64_t ooo = 0;
        std::uint64_t short_subs = 0;
        for (auto& s : subs) {
            if (!s.connected) {
                continue;
            }
            expected += published[s.topic];
            unique += s.unique;
            dups += s.dups;
            ooo += s.out_of_order;
            if (s.unique < published[s.topic]) {
                ++short_subs;
            }
        }
        write_all(res_fd,
                  "RESULT connected=" + std::to_string(connected) + " expected=" +
                      std::to_string(expected) + " received=" + std::to_string(received) +
                      " unique=" + std::to_string(unique) + " dups=" + std::to_string(dups) +
                      " ooo=" + std::to_string(ooo) + " short_subs=" + std::to_string(short_subs) +
                      " ended_early=" + std::to_string(ended_early) + " bad=" +
                      std::to_string(bad_events) + " first_recv=" + std::to_string(first_recv) +
                      " last_recv=" + std::to_string(last_recv) + "\nH " + hist.serialize() + "\n");
        io.stop();
    }

    std::uint64_t last_read_ns_ = 0;
};

} // namespace

[[noreturn]] void run_worker(const Options& opt, std::size_t first, std::size_t count, int ctrl_fd,
                             int res_fd) {
    Worker w(opt);
    w.first = first;
    w.count = count;
    w.res_fd = res_fd;
    for (const auto& url : opt.sub_urls) {
        const Url u = parse_url(url);
        w.servers.emplace_back(net::ip::make_address_v4(u.host), u.port);
        for (std::size_t t = 0; t < opt.topics; ++t) {
            Url ut = parse_url(replace_all(url, "{topic}", topic_name(opt, t)));
            w.requests.push_back("GET " + ut.target + " HTTP/1.1\r\n" +
                                 header_block(ut, opt.sub_headers) +
                                 "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n");
        }
    }
    for (std::size_t i = 0; i < count; ++i) {
        w.subs.emplace_back(w.io);
        w.subs.back().topic = static_cast<std::uint32_t>((first + i) % opt.topics);
    }
    w.t_start = now_ns();
    if (count == 0) {
        w.maybe_ready();
    }
    net::co_spawn(w.io, w.launch(), net::detached);
    net::co_spawn(w.io, w.control(ctrl_fd), net::detached);
    w.io.run();
    std::fflush(nullptr);
    ::_exit(0);
}

} // namespace ssecast::bench
