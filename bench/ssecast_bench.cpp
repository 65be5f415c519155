// SPDX-License-Identifier: MIT
// ssecast-bench: SSE load generator. Opens N subscribers (forked over K worker processes,
// source addresses spread over 127.0.0.2..), publishes M events at R/s over keep-alive
// connections, and reports connect time, deliveries/s, loss, latency, server RSS and CPU.
#include "bench_common.hpp"
#include "latency_histogram.hpp"
#include "publisher.hpp"

#include <csignal>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/resource.h>
#include <sys/wait.h>

namespace ssecast::bench {
namespace {

// ---------------------------------------------------------------- server sampling

struct ProcSample {
    std::uint64_t rss_kib = 0;
    std::uint64_t cpu_ticks = 0;
};

/// Sums VmRSS and utime+stime of the given pids (missing pids count as 0).
ProcSample sample_procs(const std::vector<int>& pids) {
    ProcSample s;
    for (int pid : pids) {
        std::ifstream st("/proc/" + std::to_string(pid) + "/status");
        std::string line;
        while (std::getline(st, line)) {
            if (line.rfind("VmRSS:", 0) == 0) {
                s.rss_kib += std::stoull(line.substr(6));
            }
        }
        std::ifstream sf("/proc/" + std::to_string(pid) + "/stat");
        std::string all((std::istreambuf_iterator<char>(sf)), std::istreambuf_iterator<char>());
        auto rp = all.rfind(')');
        if (rp == std::string::npos) {
            continue;
        }
        std::istringstream rest(all.substr(rp + 2));
        std::string tok;
        // Fields after the command: state(3) ... utime(14) stime(15).
        std::uint64_t ut = 0;
        std::uint64_t stt = 0;
        for (int f = 3; f <= 15 && rest >> tok; ++f) {
            if (f == 14) {
                ut = std::stoull(tok);
            } else if (f == 15) {
                stt = std::stoull(tok);
            }
        }
        s.cpu_ticks += ut + stt;
    }
    return s;
}

// ---------------------------------------------------------------- pipes
/// Reads one '\n'-terminated line from fd (blocking with poll), or "" at the deadline/EOF.
std::string read_line(int fd, std::string& carry, std::uint64_t deadline_ns) {
    for (;;) {
        auto nl = carry.find('\n');
        if (nl != std::string::npos) {
            std::string line = carry.substr(0, nl);
            carry.erase(0, nl + 1);
            return line;
        }
        const std::uint64_t now = now_ns();
        if (now >= deadline_ns) {
            return {};
        }
        pollfd p{fd, POLLIN, 0};
        int ms =
            static_cast<int>(std::min<std::uint64_t>((deadline_ns - now) / 1'000'000 + 1, 1000));
        if (::poll(&p, 1, ms) <= 0) {
            continue;
        }
        char buf[65536];
        auto n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            return {};
        }
        carry.append(buf, static_cast<std::size_t>(n));
    }
}

std::uint64_t kv(const std::string& line, const std::string& key) {
    auto pos = line.find(" " + key + "=");
    if (pos == std::string::npos) {
        return 0;
    }
    return std::strtoull(line.c_str() + pos + key.size() + 2, nullptr, 10);
}

// ---------------------------------------------------------------- parent

std::string fmt_double(double v, int prec = 2) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", prec, v);
    return b;
}

int run(const Options& opt) {
    const std::uint64_t start = now_ns();
    const auto hard_deadline = start + static_cast<std::uint64_t>(opt.duration * 1e9);
    const ProcSample before = sample_procs(opt.server_pids);

    struct Child {
        pid_t pid;
        int ctrl;
        int res;
        std::string carry;
    };
    std::vector<Child> children;
    std::size_t first = 0;
    for (std::size_t k = 0; k < opt.procs; ++k) {
        const std::size_t count = opt.subs / opt.procs + (k < opt.subs % opt.procs ? 1 : 0);
        int ctrl[2];
        int res[2];
        if (::pipe(ctrl) != 0 || ::pipe(res) != 0) {
            std::perror("pipe");
            return 1;
        }
        std::fflush(nullptr);
        pid_t pid = ::fork();
        if (pid == 0) {
            ::close(ctrl[1]);
            ::close(res[0]);
            for (auto& c : children) {
                ::close(c.ctrl);
                ::close(c.res);
            }
            run_worker(opt, first, count, ctrl[0], res[1]);
        }
        ::close(ctrl[0]);
        ::close(res[1]);
        children.push_back({pid, ctrl[1], res[0], {}});
        first += count;
    }

    // 1. All subscribers have their response head (or failed).
    std::uint64_t connected = 0;
    std::uint64_t failed = 0;
    std::uint64_t connect_ns = 0;
    for (auto& c : children) {
        std::string line = read_line(c.res, c.carry, hard_deadline);
        connected += kv(" " + line, "connected");
        failed += kv(" " + line, "failed");
        connect_ns = std::max(connect_ns, kv(" " + line, "connect_ns"));
        if (line.empty()) {
            std::fprintf(stderr, "worker %d did not connect its subscribers in time\n", c.pid);
        }
    }
    const std::uint64_t t_connected = now_ns();
    const double settle = opt.events == 0 ? opt.settle : 0.2;
    ::usleep(static_cast<useconds_t>(settle * 1e6));
    const ProcSample idle = sample_procs(opt.server_pids);

    // 2. Publish.
    Publisher pub(opt);
    if (opt.events > 0) {
        pub.run(hard_deadline);
    }
    const std::uint64_t t_pub_end = now_ns();
    std::string drain =
        "DRAIN " + std::to_string(std::min(
                       hard_deadline, t_pub_end + static_cast<std::uint64_t>(opt.drain * 1e9)));
    for (auto c : pub.ok_per_topic) {
        drain += ' ';
        drain += std::to_string(c);
    }
    drain += "\n";
    for (auto& c : children) {
        write_all(c.ctrl, drain);
    }

    // 3. Collect.
    LatencyHistogram hist;
    std::uint64_t expected = 0, received = 0, unique = 0, dups = 0, ooo = 0, short_subs = 0,
                  ended_early = 0, bad = 0, last_recv = 0;
    const std::uint64_t collect_deadline =
        std::max(hard_deadline, t_pub_end + static_cast<std::uint64_t>(opt.drain * 1e9)) +
        10'000'000'000ULL;
    for (auto& c : children) {
        std::string line(1, ' ');
        line += read_line(c.res, c.carry, collect_deadline);
        std::string h = read_line(c.res, c.carry, collect_deadline);
        expected += kv(line, "expected");
        received += kv(line, "received");
        unique += kv(line, "unique");
        dups += kv(line, "dups");
        ooo += kv(line, "ooo");
        short_subs += kv(line, "short_subs");
        ended_early += kv(line, "ended_early");
        bad += kv(line, "bad");
        last_recv = std::max(last_recv, kv(line, "last_recv"));
        if (h.size() > 2) {
            hist.merge(std::string_view(h).substr(2));
        }
    }
    const ProcSample after = sample_procs(opt.server_pids);
    for (auto& c : children) {
        ::kill(c.pid, SIGKILL);
        int st = 0;
        ::waitpid(c.pid, &st, 0);
        ::close(c.ctrl);
        ::close(c.res);
    }
    rusage ru{};
    ::getrusage(RUSAGE_CHILDREN, &ru);
    rusage self{};
    ::getrusage(RUSAGE_SELF, &self);
    const double bench_cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
                                                   self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
                               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec +
                                                   self.ru_utime.tv_usec + self.ru_stime.tv_usec) /
                                   1e6;

    std::uint64_t published = 0;
    for (auto c : pub.ok_per_topic) {
        published += c;
    }
    const double tick_s = 1.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double server_cpu_s = static_cast<double>(after.cpu_ticks - idle.cpu_ticks) * tick_s;
    const double window_s =
        opt.events > 0 && last_recv > pub.t0 ? static_cast<double>(last_recv - pub.t0) / 1e9 : 0;
    const double pub_s = opt.events > 0 ? static_cast<double>(pub.t_end - pub.t0) / 1e9 : 0;
    const double dps = window_s > 0 ? static_cast<double>(unique) / window_s : 0;
    const std::uint64_t lost = expected > unique ? expected - unique : 0;
    const double cpu_us_per_delivery =
        unique > 0 ? server_cpu_s * 1e6 / static_cast<double>(unique) : 0;
    const double rss_per_conn_kib =
        connected > 0 && !opt.server_pids.empty()
            ? (static_cast<double>(idle.rss_kib) - static_cast<double>(before.rss_kib)) /
                  static_cast<double>(connected)
            : 0;
    (void)t_connected;

    std::string j = "{";
    auto add = [&j](const std::string& k, const std::string& v) {
        if (j.size() > 1) {
            j += ",";
        }
        j += "\"" + k + "\":" + v;
    };
    add("label", "\"" + opt.label + "\"");
    add("subs", std::to_string(opt.subs));
    add("procs", std::to_string(opt.procs));
    add("connected", std::to_string(connected));
    add("connect_failed", std::to_string(failed));
    add("connect_s", fmt_double(static_cast<double>(connect_ns) / 1e9, 3));
    add("events", std::to_string(opt.events));
    add("rate", fmt_double(opt.rate, 1));
    add("bytes", std::to_string(opt.bytes));
    add("published", std::to_string(published));
    add("publish_errors", std::to_string(pub.errors));
    add("publish_s", fmt_double(pub_s, 3));
    add("publish_rtt_p50_us", std::to_string(pub.rtt.percentile(0.5)));
    add("publish_rtt_p99_us", std::to_string(pub.rtt.percentile(0.99)));
    add("expected", std::to_string(expected));
    add("received", std::to_string(received));
    add("unique", std::to_string(unique));
    add("lost", std::to_string(lost));
    add("loss_pct",
        fmt_double(expected > 0 ? 100.0 * static_cast<double>(lost) / static_cast<double>(expected)
                                : 0,
                   4));
    add("dups", std::to_string(dups));
    add("out_of_order", std::to_string(ooo));
    add("subs_with_gaps", std::to_string(short_subs));
    add("streams_ended_early", std::to_string(ended_early));
    add("bad_events", std::to_string(bad));
    add("deliveries_per_s", fmt_double(dps, 0));
    add("lat_p50_us", std::to_string(hist.percentile(0.50)));
    add("lat_p90_us", std::to_string(hist.percentile(0.90)));
    add("lat_p99_us", std::to_string(hist.percentile(0.99)));
    add("lat_max_us", std::to_string(hist.max()));
    add("server_rss_before_kib", std::to_string(before.rss_kib));
    add("server_rss_idle_kib", std::to_string(idle.rss_kib));
    add("server_rss_after_kib", std::to_string(after.rss_kib));
    add("rss_per_conn_kib", fmt_double(rss_per_conn_kib, 3));
    add("server_cpu_s", fmt_double(server_cpu_s, 3));
    add("cpu_us_per_delivery", fmt_double(cpu_us_per_delivery, 3));
    add("bench_cpu_s", fmt_double(bench_cpu_s, 3));
    j += "}";
    std::printf("%s\n", j.c_str());
    if (!opt.json_only) {
        std::fprintf(
            stdout,
            "\n%s subscribers=%zu (connected %llu, failed %llu) in %.2f s over %zu procs\n"
            "published %llu/%zu events (%zu B, target %.0f/s) in %.2f s, errors %llu, "
            "publish rtt p50 %llu us p99 %llu us\n"
            "deliveries %llu unique of %llu expected: lost %llu (%s %%), subs with gaps %llu, "
            "dups %llu, out of order %llu, streams ended early %llu\n"
            "deliveries/s %.0f   latency us p50 %llu p90 %llu p99 %llu max %llu\n"
            "server RSS %llu -> %llu KiB idle (%.2f KiB/conn) -> %llu KiB after; "
            "server CPU %.3f s = %.3f us/delivery; bench CPU %.2f s\n",
            opt.label.c_str(), opt.subs, static_cast<unsigned long long>(connected),
            static_cast<unsigned long long>(failed), static_cast<double>(connect_ns) / 1e9,
            opt.procs, static_cast<unsigned long long>(published), opt.events, opt.bytes, opt.rate,
            pub_s, static_cast<unsigned long long>(pub.errors),
            static_cast<unsigned long long>(pub.rtt.percentile(0.5)),
            static_cast<unsigned long long>(pub.rtt.percentile(0.99)),
            static_cast<unsigned long long>(unique), static_cast<unsigned long long>(expected),
            static_cast<unsigned long long>(lost),
            fmt_double(expected > 0
                           ? 100.0 * static_cast<double>(lost) / static_cast<double>(expected)
                           : 0,
                       4)
                .c_str(),
            static_cast<unsigned long long>(short_subs), static_cast<unsigned long long>(dups),
            static_cast<unsigned long long>(ooo), static_cast<unsigned long long>(ended_early), dps,
            static_cast<unsigned long long>(hist.percentile(0.5)),
            static_cast<unsigned long long>(hist.percentile(0.9)),
            static_cast<unsigned long long>(hist.percentile(0.99)),
            static_cast<unsigned long long>(hist.max()),
            static_cast<unsigned long long>(before.rss_kib),
            static_cast<unsigned long long>(idle.rss_kib), rss_per_conn_kib,
            static_cast<unsigned long long>(after.rss_kib), server_cpu_s, cpu_us_per_delivery,
            bench_cpu_s);
    }
    const bool ok = failed == 0 && lost == 0 && pub.errors == 0 && bad == 0;
    return ok ? 0 : 3;
}
} // namespace
} // namespace ssecast::bench

int main(int argc, char** argv) {
    using namespace ssecast::bench;
    Options opt = parse_args(argc, argv);
    std::signal(SIGPIPE, SIG_IGN);
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    // Safety net: the run ends by itself even if a worker or the server hangs.
    ::alarm(static_cast<unsigned>(opt.duration + opt.drain + 30));
    return run(opt);
}
