// SPDX-License-Identifier: MIT
// ssecast-bench command line.
#include "bench_common.hpp"

#include <algorithm>
#include <sstream>

namespace ssecast::bench {

namespace {
void usage() {
    std::puts(
        "ssecast-bench [options]\n"
        "  --subs N              subscribers (default 100)\n"
        "  --events M            events to publish (0 = idle run: connect, sample RSS, exit)\n"
        "  --rate R              events per second (0 = unpaced)      --bytes B  data size\n"
        "  --topics T            spread subscribers/events over T topics (default 1)\n"
        "  --topic-prefix P      topic names P, or P0..P(T-1) (default bench)\n"
        "  --sub-url URL         template with {topic} (default "
        "http://127.0.0.1:8080/events?topic={topic});\n"
        "                        repeat it to spread subscribers round-robin over several servers\n"
        "  --sub-header 'K: V'   extra subscribe header (repeatable)\n"
        "  --pub-url URL         template with {topic} (default http://127.0.0.1:8080/publish);\n"
        "                        repeat it to spread publisher connections round-robin\n"
        "  --pub-header 'K: V'   extra publish header (repeatable)\n"
        "  --pub-body-template S with {topic} and {payload} (default JSON for ssecast; '{payload}' "
        "for nchan)\n"
        "  --pub-conns P         keep-alive publisher connections (default 4)\n"
        "  --procs K             subscriber worker processes (default ceil(N/18000))\n"
        "  --src-addrs A         source addresses 127.0.0.2.. (default ceil(N/8000))\n"
        "  --server-pid PID[,PID] server processes to sample RSS/CPU from (repeatable; summed)\n"
        "  --duration S          hard cap on the run (default 120)  --drain S  (default 5)\n"
        "  --settle S            pause before the idle RSS sample (default 1)\n"
        "  --connect-concurrency C  connects in flight per worker (default 256)\n"
        "  --label L             copied into the JSON line          --json  JSON line only");
}

} // namespace

Options parse_args(int argc, char** argv) {
    Options o;
    auto need = [&](int& i) -> std::string {
        if (i + 1 >= argc) {
            std::fprintf(stderr, "missing value for %s\n", argv[i]);
            std::exit(2);
        }
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--subs") {
            o.subs = std::stoul(need(i));
        } else if (a == "--events") {
            o.events = std::stoul(need(i));
        } else if (a == "--rate") {
            o.rate = std::stod(need(i));
        } else if (a == "--bytes") {
            o.bytes = std::stoul(need(i));
        } else if (a == "--topics") {
            o.topics = std::max<std::size_t>(1, std::stoul(need(i)));
        } else if (a == "--topic-prefix") {
            o.topic_prefix = need(i);
        } else if (a == "--sub-url") {
            o.sub_urls.push_back(need(i));
        } else if (a == "--sub-header") {
            o.sub_headers.push_back(need(i));
        } else if (a == "--pub-url") {
            o.pub_urls.push_back(need(i));
        } else if (a == "--pub-header") {
            o.pub_headers.push_back(need(i));
        } else if (a == "--pub-body-template") {
            o.pub_body = need(i);
        } else if (a == "--pub-conns") {
            o.pub_conns = std::max<std::size_t>(1, std::stoul(need(i)));
        } else if (a == "--procs") {
            o.procs = std::stoul(need(i));
        } else if (a == "--src-addrs") {
            o.src_addrs = std::stoul(need(i));
        } else if (a == "--server-pid") {
            std::stringstream ss(need(i));
            std::string tok;
            while (std::getline(ss, tok, ',')) {
                if (!tok.empty()) {
                    o.server_pids.push_back(std::stoi(tok));
                }
            }
        } else if (a == "--duration") {
            o.duration = std::stod(need(i));
        } else if (a == "--drain") {
            o.drain = std::stod(need(i));
        } else if (a == "--settle") {
            o.settle = std::stod(need(i));
        } else if (a == "--connect-concurrency") {
            o.connect_concurrency = std::max<std::size_t>(1, std::stoul(need(i)));
        } else if (a == "--label") {
            o.label = need(i);
        } else if (a == "--json") {
            o.json_only = true;
        } else if (a == "-h" || a == "--help") {
            usage();
            std::exit(0);
        } else {
            std::fprintf(stderr, "unknown option %s (see --help)\n", a.c_str());
            std::exit(2);
        }
    }
    if (o.sub_urls.empty()) {
        o.sub_urls.emplace_back("http://127.0.0.1:8080/events?topic={topic}");
    }
    if (o.procs == 0) {
        o.procs = std::max<std::size_t>(1, (o.subs + 17999) / 18000);
    }
    o.procs = std::min(o.procs, std::max<std::size_t>(1, o.subs));
    if (o.src_addrs == 0) {
        // Keep each (source, destination) pair well below the 28k ephemeral ports: the
        // kernel's port search slows down sharply as the range fills.
        o.src_addrs = std::max<std::size_t>(1, (o.subs + 7999) / 8000);
    }
    o.src_addrs = std::min<std::size_t>(o.src_addrs, 250);
    return o;
}

} // namespace ssecast::bench
