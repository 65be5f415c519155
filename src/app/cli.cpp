// SPDX-License-Identifier: MIT
// Subcommands: `serve` runs the hub, `token` mints a JWT, `publish` posts one event,
// `config check` validates a configuration without starting; `--version`.
#include "app/cli.hpp"

#include "app/app.hpp"
#include "app/version.hpp"
#include "auth/authenticator.hpp"
#include "common/log.hpp"
#include "config/endpoints.hpp"
#include "config/loader.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <iostream>

namespace ssecast::app {

namespace {

struct PublishArgs {
    std::string url = "http://127.0.0.1:8080";
    std::string key;
    std::vector<std::string> topics;
    std::string type = "message";
    std::string data;
};

int publish_event(const PublishArgs& a) {
    namespace net = boost::asio;
    namespace beast = boost::beast;
    namespace bhttp = beast::http;
    auto url = boost::urls::parse_uri(a.url);
    if (!url || url->scheme() != "http") {
        std::cerr << "--url: expected http://host:port, got " << a.url << "\n";
        return 2;
    }
    boost::system::error_code jec;
    boost::json::value data = boost::json::parse(a.data, jec);
    if (jec) {
        data = boost::json::string(a.data); // not JSON: send as a plain string
    }
    boost::json::object body{{"type", a.type}, {"data", data}};
    boost::json::array topics;
    for (const auto& t : a.topics) {
        topics.emplace_back(t);
    }
    body["topics"] = std::move(topics);

    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    boost::system::error_code ec;
    net::ip::tcp::resolver resolver(ioc);
    const std::string host = url->host();
    const std::string port = url->has_port() ? std::string(url->port()) : "80";
    auto results = resolver.resolve(host, port, ec);
    if (!ec) {
        stream.connect(results, ec);
    }
    if (ec) {
        std::cerr << "cannot reach " << a.url << ": " << ec.message() << "\n";
        return 1;
    }
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/publish", 11};
    req.set(bhttp::field::host, host);
    req.set(bhttp::field::content_type, "application/json");
    if (!a.key.empty()) {
        req.set(bhttp::field::authorization, "Bearer " + a.key);
    }
    req.body() = boost::json::serialize(body);
    req.prepare_payload();
    bhttp::write(stream, req, ec);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    if (!ec) {
        bhttp::read(stream, buffer, res, ec);
    }
    if (ec) {
        std::cerr << "publish failed: " << ec.message() << "\n";
        return 1;
    }
    std::cout << res.body() << "\n";
    return res.result_int() == 200 ? 0 : 1;
}

/// `ssecast config check`: every problem on stderr (file:line: key: why), exit 0 or 1.
int check_configuration(const config::Overrides& flags, char** envp) {
    const auto env = config::environment_from(envp);
    const auto errors = config::check_config(flags, env);
    const auto file = config::config_file(flags, env);
    const std::string what = file ? *file : std::string("defaults and environment (no file)");
    if (errors.empty()) {
        std::cout << "ssecast: configuration OK: " << what << "\n";
        const auto cfg = config::load_config(flags, env);
        if (cfg.redis_mode()) {
            // Shown redacted, so an operator can check the address without leaking a password.
            const auto urls = cfg.redis_urls();
            for (std::size_t i = 0; i < urls.size(); ++i) {
                std::cout << "redis" << (urls.size() > 1 ? " shard " + std::to_string(i) : "")
                          << ": " << config::redact_redis_url(urls[i]) << "\n";
            }
        }
        return 0;
    }
    for (const auto& e : errors) {
        std::cerr << "error: " << e << "\n";
    }
    std::cerr << "ssecast: " << errors.size() << " configuration error"
              << (errors.size() == 1 ? "" : "s") << " in " << what << "\n";
    return 1;
}

} // namespace

int run_cli(int argc, char** argv, char** envp) {
    CLI::App cli{"ssecast: a Server-Sent Events hub"};
    cli.require_subcommand(1);
    cli.set_version_flag("--version", version_line(), "Print the version and commit, then exit");
    config::Overrides flags;
    auto add_config_flags = [&](CLI::App* cmd) {
        cmd->add_option_function<std::string>(
            "--config", [&](const std::string& v) { flags.config_path = v; },
            "TOML config file (or SSECAST_CONFIG)");
        cmd->add_option_function<std::string>(
            "--listen", [&](const std::string& v) { flags.listen = v; },
            "host:port to listen on (http.listen)");
        cmd->add_option_function<std::string>(
            "--redis", [&](const std::string& v) { flags.redis = v; },
            "redis[s]://[[user]:password@]host[:port][/db] or redis+sentinel://[[user]:"
            "password@]host[:port][,...]/MASTER[/db]: run in redis mode (redis.url); prefer "
            "redis.password_file for the password");
    };

    auto* serve = cli.add_subcommand("serve", "Run the hub (memory mode unless Redis is set)");
    add_config_flags(serve);

    auto* token = cli.add_subcommand("token", "Mint a JWT signed with auth.jwt_secret");
    add_config_flags(token);
    auth::TokenClaims claims;
    long ttl = 0;
    token->add_option("--sub", claims.sub, "user id (sub claim)")->required();
    token->add_option("--subscribe", claims.subscribe, "allowed topic patterns (repeatable)");
    token->add_option("--publish", claims.publish, "topic patterns it may publish to");
    token->add_flag("--admin", claims.admin, "grant the admin API");
    token->add_option("--ttl", ttl, "seconds until exp (0 = no exp)")
        ->check(CLI::NonNegativeNumber);

    auto* config_cmd = cli.add_subcommand("config", "Work with configuration files");
    config_cmd->require_subcommand(1);
    auto* check = config_cmd->add_subcommand(
        "check", "Validate the configuration (file, SSECAST_* env, flags) without starting; "
                 "print every error with its key and line; exit 0 if valid, 1 if not");
    add_config_flags(check);

    auto* publish = cli.add_subcommand("publish", "Publish one event to a running hub");
    PublishArgs pub;
    publish->add_option("--url", pub.url, "hub base URL")->capture_default_str();
    publish->add_option("--key", pub.key, "publish key or JWT (or SSECAST_PUBLISH_KEY)")
        ->envname("SSECAST_PUBLISH_KEY");
    publish->add_option("--topic", pub.topics, "topic (repeatable)")->required();
    publish->add_option("--type", pub.type, "event type")->capture_default_str();
    publish->add_option("--data", pub.data, "JSON (or plain text) data")->required();

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }

    if (*publish) {
        return publish_event(pub);
    }
    if (*check) {
        return check_configuration(flags, envp);
    }
    config::Config cfg;
    try {
        cfg = config::load_config(flags, config::environment_from(envp));
    } catch (const config::ConfigError& e) {
        std::cerr << "ssecast: configuration error: " << e.what() << "\n";
        return 2;
    }
    if (*token) {
        if (ttl > 0) {
            claims.ttl = std::chrono::seconds(ttl);
        }
        auth::Authenticator a(cfg.auth, false, SystemClock::instance());
        auto jwt = a.mint(claims);
        if (!jwt) {
            std::cerr << "ssecast token: auth.jwt_secret is not set (config or "
                         "SSECAST_AUTH_JWT_SECRET)\n";
            return 2;
        }
        std::cout << *jwt << "\n";
        return 0;
    }
    init_logging(cfg.log.level, cfg.log.format);
    try {
        return run_server(cfg);
    } catch (const std::exception& e) {
        spdlog::critical("start-up failed: {}", e.what());
        return 1;
    }
}

} // namespace ssecast::app
