// SPDX-License-Identifier: MIT
// ssecast-bench shared vocabulary: options, URL templates, the shared monotonic clock.
#pragma once

#include <boost/asio.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <unistd.h>
#include <vector>

namespace ssecast::bench {

namespace net = boost::asio;
using tcp = net::ip::tcp;
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

/// CLOCK_MONOTONIC in ns: shared by all processes on the host, so a publish stamp taken in
/// the parent can be compared with a receive time taken in a worker.
inline std::uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

struct Url {
    std::string host;
    std::uint16_t port = 80;
    std::string target;
};

/// Parses http://IPv4[:port]/target; exits on anything else (loopback tool).
inline Url parse_url(const std::string& s) {
    Url u;
    const std::string scheme = "http://";
    if (s.rfind(scheme, 0) != 0) {
        std::fprintf(stderr, "only http:// URLs: %s\n", s.c_str());
        std::exit(2);
    }
    auto rest = s.substr(scheme.size());
    auto slash = rest.find('/');
    auto hostport = rest.substr(0, slash);
    u.target = slash == std::string::npos ? "/" : rest.substr(slash);
    auto colon = hostport.find(':');
    u.host = hostport.substr(0, colon);
    if (colon != std::string::npos) {
        u.port = static_cast<std::uint16_t>(std::stoi(hostport.substr(colon + 1)));
    }
    return u;
}

inline std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
        s.replace(pos, from.size(), to);
    }
    return s;
}

struct Options {
    std::size_t subs = 100;
    std::size_t events = 100;
    double rate = 100; // events/s; 0 = as fast as the publisher connections go
    std::size_t bytes = 256;
    std::size_t topics = 1;
    std::string topic_prefix = "bench";
    std::vector<std::string> sub_urls; // subscriber i uses sub_urls[i % size]
    /// publisher connection c uses pub_urls[c % size] (empty: http://127.0.0.1:8080/publish)
    std::vector<std::string> pub_urls;
    std::vector<std::string> sub_headers;
    std::vector<std::string> pub_headers;
    std::string pub_body = R"({"topic":"{topic}","data":"{payload}"})";
    std::size_t src_addrs = 0; // 0 = one per 8,000 subscribers
    std::size_t procs = 0;     // 0 = one per 18,000 subscribers
    std::size_t pub_conns = 4;
    std::size_t connect_concurrency = 256;
    double duration = 120; // hard cap on the whole run, seconds
    double drain = 5;      // wait for deliveries after the last publish, seconds
    double settle = 1;     // wait after connecting before the idle RSS sample, seconds
    std::vector<int> server_pids;
    std::string label;
    bool json_only = false;
};

inline std::string topic_name(const Options& o, std::size_t t) {
    return o.topics == 1 ? o.topic_prefix : o.topic_prefix + std::to_string(t);
}

inline std::string header_block(const Url& u, const std::vector<std::string>& extra) {
    std::string h = "Host: " + u.host + ":" + std::to_string(u.port) + "\r\n";
    for (const auto& e : extra) {
        h += e + "\r\n";
    }
    return h;
}

inline void write_all(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        auto n = ::write(fd, s.data() + off, s.size() - off);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return;
        }
        off += static_cast<std::size_t>(n);
    }
}

/// Parses the command line (exits 2 on a bad option, 0 after --help) and fills defaults.
Options parse_args(int argc, char** argv);

/// Runs `count` subscribers (global indices first..first+count) in this process: reports
/// "READY …" on res_fd once all have their response head, waits for "DRAIN <deadline>
/// <published per topic>…" on ctrl_fd, then reports "RESULT …" + "H <histogram>" and exits.
[[noreturn]] void run_worker(const Options& opt, std::size_t first, std::size_t count, int ctrl_fd,
                             int res_fd);

} // namespace ssecast::bench
