// SPDX-License-Identifier: MIT
// floor-server: the least work any SSE hub must do on this machine, as a yardstick for
// bench/compare.sh. Plain epoll, one thread per core with SO_REUSEPORT listeners, no topics,
// no history, no auth, no queues: `GET <anything>` becomes a stream, `POST <anything>` sends
// its body as one `id:`/`data:` frame with one non-blocking send() per stream, then answers
// 200. A frame that does not fit a stream's socket buffer is counted and dropped (the bench
// reports it as loss). Not a product: it only shows the kernel's per-delivery cost (loopback
// TCP send + receive processing + wake-ups) that every server pays, so the ratios in
// docs/performance.md can be read against what is physically possible here.
//
// Usage: floor-server <port> [threads]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

struct Conn {
    int fd = -1;
    std::string in;
    bool stream = false;
};

struct Loop {
    int ep = -1;
    int listener = -1;
    int wake = -1; // eventfd: frames from other threads are waiting in `mailbox`
    std::mutex mutex;
    std::vector<std::shared_ptr<const std::string>> mailbox;
    std::vector<int> streams;
    std::unordered_map<int, Conn> conns;
};

std::vector<std::unique_ptr<Loop>> g_loops;
std::atomic<std::uint64_t> g_next_id{1};
std::atomic<std::uint64_t> g_dropped{0};

int listen_on(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, 4096) != 0) {
        std::perror("floor-server: bind/listen");
        std::exit(1);
    }
    return fd;
}

void watch(Loop& l, int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(l.ep, EPOLL_CTL_ADD, fd, &ev);
}

void close_conn(Loop& l, int fd) {
    auto it = l.conns.find(fd);
    if (it != l.conns.end() && it->second.stream) {
        std::erase(l.streams, fd);
    }
    l.conns.erase(fd);
    ::close(fd);
}

void send_all(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
            return;
        }
        off += static_cast<std::size_t>(n);
    }
}

void fan_out(Loop& l, const std::string& frame) {
    for (int fd : l.streams) {
        const ssize_t n = ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n != static_cast<ssize_t>(frame.size())) {
            g_dropped.fetch_add(1, std::memory_order_relaxed);
        }
    }
}

void publish(Loop& self, const std::string& body) {
    auto frame = std::make_shared<const std::string>(
        "id: " + std::to_string(g_next_id.fetch_add(1)) + "\ndata: " + body + "\n\n");
    for (auto& other : g_loops) {
        if (other.get() == &self) {
            continue;
        }
        {
            std::lock_guard lock(other->mutex);
            other->mailbox.push_back(frame);
        }
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(other->wake, &one, sizeof one);
    }
    fan_out(self, *frame);
}

/// Handles complete requests in `c.in`; false when the connection should close.
bool serve(Loop& l, Conn& c) {
    for (;;) {
        const auto end = c.in.find("\r\n\r\n");
        if (end == std::string::npos) {
            return true;
        }
        if (c.in.starts_with("GET ")) {
            c.stream = true;
            l.streams.push_back(c.fd);
            send_all(c.fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                           "Cache-Control: no-cache\r\nConnection: close\r\n\r\n");
            c.in.clear();
            return true;
        }
        std::size_t length = 0;
        const auto cl = c.in.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) {
            length = std::strtoul(c.in.c_str() + cl + 16, nullptr, 10);
        }
        if (c.in.size() < end + 4 + length) {
            return true;
        }
        publish(l, c.in.substr(end + 4, length));
        send_all(c.fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        c.in.erase(0, end + 4 + length);
    }
}

void run(Loop& l) {
    std::vector<epoll_event> events(256);
    char buf[65536];
    for (;;) {
        const int n = ::epoll_wait(l.ep, events.data(), static_cast<int>(events.size()), -1);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == l.listener) {
                for (;;) {
                    const int c = ::accept4(l.listener, nullptr, nullptr, SOCK_NONBLOCK);
                    if (c < 0) {
                        break;
                    }
                    const int one = 1;
                    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    l.conns[c].fd = c;
                    watch(l, c);
                }
            } else if (fd == l.wake) {
                std::uint64_t count = 0;
                [[maybe_unused]] auto r = ::read(l.wake, &count, sizeof count);
                std::vector<std::shared_ptr<const std::string>> frames;
                {
                    std::lock_guard lock(l.mutex);
                    frames.swap(l.mailbox);
                }
                for (const auto& f : frames) {
                    fan_out(l, *f);
                }
            } else {
                const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
                auto it = l.conns.find(fd);
                if (r <= 0 || it == l.conns.end()) {
                    if (r == 0 || (r < 0 && errno != EAGAIN)) {
                        close_conn(l, fd);
                    }
                    continue;
                }
                if (it->second.stream) {
                    continue; // a stream's client has nothing to say
                }
                it->second.in.append(buf, static_cast<std::size_t>(r));
                if (!serve(l, it->second)) {
                    close_conn(l, fd);
                }
            }
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: floor-server <port> [threads]\n");
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    std::signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < threads; ++i) {
        auto l = std::make_unique<Loop>();
        l->ep = ::epoll_create1(0);
        l->listener = listen_on(port);
        l->wake = ::eventfd(0, EFD_NONBLOCK);
        watch(*l, l->listener);
        watch(*l, l->wake);
        g_loops.push_back(std::move(l));
    }
    std::vector<std::thread> workers;
    for (auto& l : g_loops) {
        workers.emplace_back([&l] { run(*l); });
    }
    for (auto& w : workers) {
        w.join();
    }
}
