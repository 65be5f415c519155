// SPDX-License-Identifier: MIT
// Server start-up and wiring: shards and their threads, backends, periodic work, signals, drain.
#include "app/app.hpp"

#include "app/backends.hpp"
#include "app/systemd_notify.hpp"
#include "app/version.hpp"
#include "auth/authenticator.hpp"
#include "auth/jwks_source.hpp"
#include "http/event_stream.hpp"
#include "http/listener.hpp"
#include "http/server_context.hpp"
#include "http/stream_endings.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <random>
#include <thread>

namespace ssecast::app {

namespace net = boost::asio;
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

namespace {

void raise_open_file_limit() {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
        spdlog::info("open file limit: {}", lim.rlim_cur);
    }
}

std::string random_token(std::size_t n) {
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device rd;
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(kAlphabet[rd() % (sizeof(kAlphabet) - 1)]);
    }
    return out;
}

std::string default_instance_id() {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    return std::string(host) + "-" + random_token(6);
}

std::filesystem::path find_admin_dir(const std::string& configured) {
    if (!configured.empty()) {
        return configured;
    }
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    const std::vector<std::filesystem::path> candidates = {
        exe / "admin", exe / "../share/ssecast/admin", exe / "../../web/admin/dist",
        std::filesystem::path(source_dir()) / "web/admin/dist"};
    for (const auto& c : candidates) {
        if (std::filesystem::exists(c / "index.html", ec)) {
            return std::filesystem::weakly_canonical(c, ec);
        }
    }
    return candidates.back();
}

/// Bounded periodic work of one shard (Redis clientsCron style): heartbeats, stuck writers
/// and, on one shard, the backends' own (`backend_cron`, may be null). Ticks four times per
/// heartbeat interval (at most once a second), so a heartbeat goes out at most a quarter
/// interval late.
net::awaitable<void> shard_cron(hub::Shard& shard, const config::Config& cfg,
                                std::function<void()> backend_cron) {
    net::steady_timer timer(shard.ioc());
    const std::chrono::steady_clock::duration heartbeat = cfg.sse.heartbeat;
    const auto stuck_after =
        std::max<std::chrono::steady_clock::duration>(std::chrono::seconds(30), heartbeat * 2);
    const auto tick =
        std::min<std::chrono::steady_clock::duration>(std::chrono::seconds(1), heartbeat / 4);
    for (;;) {
        timer.expires_after(tick);
        auto [ec] = co_await timer.async_wait(use_nothrow);
        if (ec) {
            co_return;
        }
        http::sweep_streams(shard, heartbeat, stuck_after);
        if (backend_cron) {
            backend_cron();
        }
    }
}

} // namespace

int run_server(const config::Config& cfg_in) {
    config::Config cfg = cfg_in;
    raise_open_file_limit();

    std::string demo_key;
    if (!cfg.redis_mode() && cfg.auth.publish_keys.empty() && cfg.auth.jwt_secret.empty()) {
        // Out-of-the-box memory mode: nobody could publish at all. Make a key, log it, and
        // let the demo page (loopback visitors only) fill it in.
        demo_key = "demo-" + random_token(20);
        cfg.auth.publish_keys.push_back(demo_key);
        spdlog::info("no auth.publish_keys configured: demo publish key for this run is {}",
                     demo_key);
    }
    std::string admin_token;
    if (!cfg.redis_mode() && cfg.auth.admin_token.empty()) {
        // Issue #17: with no admin token, a first visit to /admin is a dead end (an admin JWT
        // needs `ssecast token --admin` first). Make a token, log it, and let /admin pre-fill
        // it for loopback visitors only, like the demo publish key. A configured token is
        // never replaced; an admin JWT still works beside the generated one.
        admin_token = "admin-" + random_token(24);
        cfg.auth.admin_token = admin_token;
        spdlog::info("no auth.admin_token configured: admin token for this run is {} "
                     "(pre-filled at /admin for visitors on this machine)",
                     admin_token);
    }
    const std::string instance_id =
        cfg.redis.instance_id.empty() ? default_instance_id() : cfg.redis.instance_id;

    const unsigned shard_count =
        cfg.http.threads > 0 ? cfg.http.threads : std::max(1u, std::thread::hardware_concurrency());
    metrics::Metrics metrics(shard_count);
    // SPEC §Keys: public keys are ready before the first request; a JWKS endpoint that does
    // not answer in time leaves the set empty (those tokens are 401) and is asked again on
    // the first unknown kid, off the event loops.
    auth::KeySet keys;
    if (!cfg.auth.jwks_file.empty()) {
        auth::load_jwks_file(cfg.auth.jwks_file, keys);
    }
    std::unique_ptr<auth::JwksFetcher> jwks_fetcher;
    if (!cfg.auth.jwks_url.empty()) {
        jwks_fetcher = std::make_unique<auth::JwksFetcher>(cfg.auth, keys);
        jwks_fetcher->wait_first();
    }
    auth::Authenticator authenticator(cfg.auth, cfg.anonymous_allowed(), SystemClock::instance(),
                                      &keys);
    auto proxies = http::TrustedProxies::parse(cfg.http.trusted_proxies);
    if (!proxies) {
        throw std::runtime_error("http.trusted_proxies: invalid CIDR");
    }

    std::vector<std::unique_ptr<hub::Shard>> shards;
    for (unsigned i = 0; i < shard_count; ++i) {
        shards.push_back(std::make_unique<hub::Shard>(i, metrics.shard(i)));
    }
    Backends backends = make_backends(cfg, instance_id, metrics, shards.front()->ioc());

    http::ServerContext ctx{.cfg = cfg,
                            .auth = authenticator,
                            .broker = *backends.broker,
                            .registry = *backends.registry,
                            .limiter = *backends.limiter,
                            .metrics = metrics,
                            .cors = http::Cors(cfg.http.cors_origins),
                            .proxies = *proxies,
                            .monitor = {.handler = std::string(backends.broker->name()),
                                        .instance_id = instance_id,
                                        .metrics = metrics,
                                        .registry = *backends.registry}};
    ctx.monitor.rate_limit_fallback = [limiter = backends.limiter.get()] {
        return limiter->local_fallback();
    };
    ctx.demo_publish_key = demo_key;
    ctx.admin.generated_token = admin_token;
    // SPEC §POST /api/admin/disconnect: an order (from this instance or, in redis mode, any)
    // runs on every shard; the answer is the sum.
    backends.control->start([&shards, instance_id](const broker::DisconnectOrder& order,
                                                   std::function<void(std::size_t)> done) {
        struct Tally {
            std::atomic<std::size_t> left{0};
            std::atomic<std::size_t> total{0};
            std::function<void(std::size_t)> done;
        };
        auto tally = std::make_shared<Tally>();
        tally->left = shards.size();
        tally->done = std::move(done);
        for (auto& s : shards) {
            net::post(s->ioc(), [tally, order, shard = s.get(), instance_id] {
                tally->total += http::disconnect_streams(*shard, order, instance_id);
                if (tally->left.fetch_sub(1) == 1) {
                    tally->done(tally->total.load());
                }
            });
        }
    });
    ctx.control = backends.control.get();
    std::unique_ptr<http::ConnectHook> hook;
    if (!cfg.auth.connect_url.empty()) {
        hook = std::make_unique<http::ConnectHook>(cfg.auth);
        ctx.hook = hook.get();
    }
    if (jwks_fetcher) {
        ctx.refresh_keys = [f = jwks_fetcher.get()](std::function<void()> done) {
            f->refresh(std::move(done));
        };
    }
    ctx.admin.files = admin::AdminFiles(find_admin_dir(cfg.http.admin_dir));
    if (backends.ready) {
        ctx.ready = backends.ready;
    }
    if (backends.redis_status) {
        ctx.monitor.redis_status = backends.redis_status;
    }
    ctx.monitor.shard_status = backends.shard_status;
    ctx.shard_status = backends.shard_status;

    // Fan-out: every event from the broker goes to every shard, in broker order
    // (hub::Shard::deliver; each shard drains its inbox in one handler per burst).
    backends.broker->start([&shards](const hub::EventPtr& event) {
        for (auto& s : shards) {
            s->deliver(event);
        }
    });

    http::Listener listener(cfg.http.listen, shards);
    listener.start(ctx, shards);
    for (auto& s : shards) {
        net::co_spawn(s->ioc(), shard_cron(*s, cfg, s == shards.front() ? backends.cron : nullptr),
                      net::detached);
    }
    // SIGTERM/SIGINT: stop accepting, close streams (clients resume elsewhere with
    // Last-Event-ID), give in-flight work shutdown.grace_seconds, then stop.
    net::signal_set signals(shards.front()->ioc(), SIGTERM, SIGINT);
    spdlog::info("ssecast {} listening on {} ({} mode, {} shard{}, instance {})", version(),
                 cfg.http.listen, backends.broker->name(), shard_count, shard_count == 1 ? "" : "s",
                 instance_id);
    // systemd Type=notify: READY=1 now that the acceptors listen (redis mode: once Redis
    // answers), WATCHDOG=1 while every loop runs. No NOTIFY_SOCKET: nothing happens.
    SystemdNotifier notifier;
    {
        std::vector<net::io_context*> loops;
        for (auto& s : shards) {
            loops.push_back(&s->ioc());
        }
        net::co_spawn(shards.front()->ioc(),
                      notify_service_manager(notifier, backends.ready,
                                             "listening on " + cfg.http.listen + " (" +
                                                 std::string(backends.broker->name()) + " mode)",
                                             std::move(loops)),
                      net::detached);
    }

    int exit_code = 0;
    signals.async_wait([&](boost::system::error_code ec, int sig) {
        if (ec) {
            return;
        }
        spdlog::info("signal {}: draining (grace {}s)", sig, cfg.shutdown.grace.count());
        notifier.stopping("draining");
        ctx.draining = true;
        for (std::size_t i = 0; i < shards.size(); ++i) {
            net::post(shards[i]->ioc(), [&, i] {
                listener.close(i);
                shards[i]->hub().close_all(errc::draining);
            });
        }
        net::co_spawn(
            shards.front()->ioc(),
            [&]() -> net::awaitable<void> {
                const auto deadline = std::chrono::steady_clock::now() + cfg.shutdown.grace;
                net::steady_timer t(shards.front()->ioc());
                while (ctx.open_streams.load() > 0 && std::chrono::steady_clock::now() < deadline) {
                    t.expires_after(std::chrono::milliseconds(20));
                    co_await t.async_wait(use_nothrow);
                }
                if (ctx.open_streams.load() > 0) {
                    spdlog::warn("grace period over with {} streams open", ctx.open_streams.load());
                }
                co_await backends.shutdown();
                for (auto& s : shards) {
                    s->ioc().stop();
                }
            },
            net::detached);
    });

    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < shards.size(); ++i) {
        threads.emplace_back([&, i] { shards[i]->ioc().run(); });
    }
    shards.front()->ioc().run();
    for (auto& t : threads) {
        t.join();
    }
    jwks_fetcher.reset(); // its pending callbacks post to the shards: stop it before them
    backends.broker->stop();
    spdlog::info("drained; exiting");
    return exit_code;
}

} // namespace ssecast::app
