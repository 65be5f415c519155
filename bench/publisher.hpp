// SPDX-License-Identifier: MIT
// ssecast-bench publisher: paced POSTs over a few keep-alive connections; each event's data
// carries its sequence number and CLOCK_MONOTONIC send time.
#pragma once

#include "bench_common.hpp"
#include "latency_histogram.hpp"

#include <algorithm>
#include <cstdio>

namespace ssecast::bench {

struct Publisher {
    const Options& opt;
    net::io_context io{1};
    std::vector<tcp::endpoint> servers; // per --pub-url
    std::size_t next = 0;
    std::uint64_t t0 = 0;
    std::uint64_t deadline = 0;
    double interval_ns = 0;
    std::vector<std::uint64_t> ok_per_topic;
    std::uint64_t errors = 0;
    std::uint64_t reconnects = 0;
    std::uint64_t t_end = 0;
    LatencyHistogram rtt;
    std::vector<std::vector<std::string>> heads; // per --pub-url, per topic, to Content-Length

    explicit Publisher(const Options& o) : opt(o), ok_per_topic(o.topics, 0) {}

    std::string payload(std::uint64_t seq, std::uint64_t ts) const {
        std::string p = "s=" + std::to_string(seq) + " t=" + std::to_string(ts) + " ";
        if (p.size() < opt.bytes) {
            p.append(opt.bytes - p.size(), 'x');
        }
        return p;
    }

    /// Appends what the socket has next to `rb`; false on error or close.
    static net::awaitable<bool> read_more(tcp::socket& sock, std::string& rb) {
        char tmp[4096];
        auto [ec, n] = co_await sock.async_read_some(net::buffer(tmp), use_nothrow);
        rb.append(tmp, ec ? 0 : n);
        co_return !ec;
    }

    /// Reads one HTTP response; returns its status (0 on error). Sets `keep` to false when
    /// the server will close the connection.
    net::awaitable<int> read_response(tcp::socket& sock, std::string& rb, bool& keep) {
        std::size_t head_end = 0;
        while ((head_end = rb.find("\r\n\r\n")) == std::string::npos) {
            if (!co_await read_more(sock, rb)) {
                co_return 0;
            }
        }
        std::string head = rb.substr(0, head_end);
        for (auto& ch : head) {
            if (ch >= 'A' && ch <= 'Z') {
                ch = static_cast<char>(ch + 32);
            }
        }
        int status = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
        keep = head.find("\r\nconnection: close") == std::string::npos &&
               head.rfind("http/1.0", 0) != 0;
        rb.erase(0, head_end + 4);
        auto cl = head.find("\r\ncontent-length:");
        if (cl != std::string::npos) {
            std::size_t len = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
            while (rb.size() < len) {
                if (!co_await read_more(sock, rb)) {
                    co_return 0;
                }
            }
            rb.erase(0, len);
        } else if (head.find("transfer-encoding: chunked") != std::string::npos) {
            for (;;) { // body until "0\r\n\r\n"
                auto end = rb.find("0\r\n\r\n");
                if (end != std::string::npos && (end == 0 || rb[end - 1] == '\n')) {
                    rb.erase(0, end + 5);
                    break;
                }
                if (!co_await read_more(sock, rb)) {
                    co_return 0;
                }
            }
        } else if (status != 204 && status != 304) {
            keep = false; // body until close: we do not need it
        }
        co_return status;
    }

    net::awaitable<void> run_conn(std::size_t url) {
        tcp::socket sock(io);
        std::string rb;
        bool open = false;
        net::steady_timer timer(io);
        for (;;) {
            const std::size_t j = next++;
            if (j >= opt.events) {
                break;
            }
            if (opt.rate > 0) {
                const auto due =
                    t0 + static_cast<std::uint64_t>(static_cast<double>(j) * interval_ns);
                const auto now = now_ns();
                if (due > now) {
                    timer.expires_after(std::chrono::nanoseconds(due - now));
                    co_await timer.async_wait(use_nothrow);
                }
            }
            if (now_ns() >= deadline) {
                break;
            }
            const std::size_t topic = j % opt.topics;
            const std::uint64_t seq = j / opt.topics;
            if (!open) {
                boost::system::error_code ec;
                sock = tcp::socket(io);
                std::tie(ec) = co_await sock.async_connect(servers[url], use_nothrow);
                if (ec) {
                    ++errors;
                    continue;
                }
                sock.set_option(tcp::no_delay(true), ec);
                open = true;
                rb.clear();
            }
            const std::uint64_t ts = now_ns();
            const std::string body =
                replace_all(replace_all(opt.pub_body, "{payload}", payload(seq, ts)), "{topic}",
                            topic_name(opt, topic));
            std::string req = heads[url][topic] + std::to_string(body.size()) + "\r\n\r\n" + body;
            auto [wec, wn] = co_await net::async_write(sock, net::buffer(req), use_nothrow);
            bool keep = true;
            int status = wec ? 0 : co_await read_response(sock, rb, keep);
            if (status >= 200 && status < 300) {
                ++ok_per_topic[topic];
                rtt.add((now_ns() - ts) / 1000);
            } else {
                ++errors;
                if (errors <= 5) {
                    std::fprintf(stderr, "publish failed: status %d %s\n", status,
                                 wec ? wec.message().c_str() : "");
                }
            }
            if (!keep || status == 0) {
                boost::system::error_code ec;
                sock.close(ec);
                open = false;
                ++reconnects;
            }
        }
        t_end = std::max(t_end, now_ns());
    }

    void run(std::uint64_t hard_deadline) {
        std::vector<std::string> urls = opt.pub_urls;
        if (urls.empty()) {
            urls.emplace_back("http://127.0.0.1:8080/publish");
        }
        for (const auto& url : urls) {
            const Url u = parse_url(url);
            servers.emplace_back(net::ip::make_address_v4(u.host), u.port);
            auto& h = heads.emplace_back();
            for (std::size_t t = 0; t < opt.topics; ++t) {
                Url ut = parse_url(replace_all(url, "{topic}", topic_name(opt, t)));
                h.push_back("POST " + ut.target + " HTTP/1.1\r\n" +
                            header_block(ut, opt.pub_headers) + "Content-Length: ");
            }
        }
        interval_ns = opt.rate > 0 ? 1e9 / opt.rate : 0;
        t0 = now_ns();
        deadline = hard_deadline;
        for (std::size_t c = 0; c < opt.pub_conns; ++c) {
            net::co_spawn(io, run_conn(c % servers.size()), net::detached);
        }
        io.run();
    }
};

} // namespace ssecast::bench
