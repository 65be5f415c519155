// SPDX-License-Identifier: MIT
// load_config: defaults, file/env/flag precedence, rate limits, and that every error names
// its source, key and value.
#include "config/loader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <unistd.h>

namespace ssecast::config {
namespace {

namespace fs = std::filesystem;
using Env = std::map<std::string, std::string>;
using namespace std::chrono_literals;

class LoaderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("ssecast-loader-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    /// Writes `text` to <tmp>/ssecast.toml and returns the path.
    std::string write(const std::string& text) {
        const auto path = (dir_ / "ssecast.toml").string();
        std::ofstream(path) << text;
        return path;
    }

    /// Loads `toml` (if any) with `env` and expects a ConfigError; returns its message.
    std::string error_of(const std::string& toml, const Env& env = {}, Overrides flags = {}) {
        if (!toml.empty()) {
            flags.config_path = write(toml);
        }
        try {
            load_config(flags, env);
        } catch (const ConfigError& e) {
            return e.what();
        }
        ADD_FAILURE() << "no ConfigError for:\n" << toml;
        return {};
    }

    fs::path dir_;
};

TEST_F(LoaderTest, DefaultsWithoutFileEnvOrFlags) {
    const Config c = load_config({}, {});
    EXPECT_EQ(c.http.listen, "127.0.0.1:8080");
    EXPECT_TRUE(c.http.cors_origins.empty());
    EXPECT_EQ(c.http.threads, 0U);
    EXPECT_EQ(c.http.max_header_bytes, 16U * 1024);
    EXPECT_EQ(c.http.header_timeout, 10s);
    EXPECT_EQ(c.auth.jwt_secret, "");
    EXPECT_FALSE(c.auth.allow_anonymous.has_value());
    EXPECT_EQ(c.sse.heartbeat, 15s);
    EXPECT_EQ(c.sse.retry, 3000ms);
    EXPECT_EQ(c.sse.max_topics, 32U);
    EXPECT_EQ(c.history.max_events, 10000U);
    EXPECT_EQ(c.history.max_age, 3600s);
    EXPECT_EQ(c.history.max_total_events, 1000000U);
    EXPECT_EQ(c.limits.max_connections, 20000U);
    EXPECT_EQ(c.limits.max_queue_bytes, 1024U * 1024);
    EXPECT_EQ(c.redis.url, "");
    EXPECT_EQ(c.redis.prefix, "ssecast:");
    EXPECT_EQ(c.redis.instance_ttl, 6s);
    EXPECT_EQ(c.shutdown.grace, 10s);
    EXPECT_EQ(c.log.level, "info");
    EXPECT_EQ(c.log.format, "text");
    EXPECT_TRUE(c.rate_limits.empty());
    EXPECT_FALSE(c.redis_mode());
    EXPECT_TRUE(c.anonymous_allowed());
}

TEST_F(LoaderTest, FileValues) {
    Overrides f;
    f.config_path = write(R"(
[http]
listen = "[::1]:9000"
cors_origins = ["https://app.example.com", "http://localhost:3000"]
trusted_proxies = ["10.0.0.0/8", "::1", "192.168.1.7"]
threads = 4
header_timeout_seconds = 3
[auth]
jwt_secret = "s3cret"
allow_anonymous = false
publish_keys = ["k1", "k2"]
admin_token = "adm"
[sse]
retry_ms = 500
[history]
max_total_events = 5000
[limits]
max_connections_per_user = 3
max_queue_bytes = 2048
[redis]
url = "redis://127.0.0.1:6380/2"
heartbeat_seconds = 1
instance_ttl_seconds = 3
[shutdown]
grace_seconds = 0
[log]
level = "debug"
)");
    const Config c = load_config(f, {});
    EXPECT_EQ(c.http.listen, "[::1]:9000");
    EXPECT_EQ(c.http.cors_origins.size(), 2U);
    EXPECT_EQ(c.http.trusted_proxies.size(), 3U);
    EXPECT_EQ(c.http.threads, 4U);
    EXPECT_EQ(c.http.header_timeout, 3s);
    EXPECT_EQ(c.auth.jwt_secret, "s3cret");
    EXPECT_EQ(c.auth.allow_anonymous, false);
    EXPECT_EQ(c.auth.publish_keys, (std::vector<std::string>{"k1", "k2"}));
    EXPECT_EQ(c.auth.admin_token, "adm");
    EXPECT_EQ(c.sse.retry, 500ms);
    EXPECT_EQ(c.history.max_total_events, 5000U);
    EXPECT_EQ(c.limits.max_connections_per_user, 3U);
    EXPECT_EQ(c.limits.max_queue_bytes, 2048U);
    EXPECT_EQ(c.redis.url, "redis://127.0.0.1:6380/2");
    EXPECT_EQ(c.redis.heartbeat, 1s);
    EXPECT_EQ(c.shutdown.grace, 0s);
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_TRUE(c.redis_mode());
    EXPECT_FALSE(c.anonymous_allowed());
}

TEST_F(LoaderTest, EnvOverridesFileAndFlagsOverrideEnv) {
    Overrides f;
    f.config_path = write("[limits]\nmax_queue_bytes = 100\n[http]\nlisten = \"127.0.0.1:1\"\n");
    const Env env = {{"SSECAST_LIMITS_MAX_QUEUE_BYTES", "2048"},
                     {"SSECAST_HTTP_LISTEN", "127.0.0.1:2"},
                     {"SSECAST_HTTP_CORS_ORIGINS", "https://a.example, https://b.example"},
                     {"SSECAST_AUTH_ALLOW_ANONYMOUS", "1"},
                     {"SSECAST_REDIS_URL", "redis://env:6379"},
                     {"HOME", "/root"}};
    Config c = load_config(f, env);
    EXPECT_EQ(c.limits.max_queue_bytes, 2048U);
    EXPECT_EQ(c.http.listen, "127.0.0.1:2");
    EXPECT_EQ(c.http.cors_origins,
              (std::vector<std::string>{"https://a.example", "https://b.example"}));
    EXPECT_EQ(c.auth.allow_anonymous, true);
    EXPECT_EQ(c.redis.url, "redis://env:6379");

    f.listen = ":9090";
    f.redis = "redis://flag:7000/1";
    c = load_config(f, env);
    EXPECT_EQ(c.http.listen, ":9090");
    EXPECT_EQ(c.redis.url, "redis://flag:7000/1");
    EXPECT_EQ(c.limits.max_queue_bytes, 2048U);
}

TEST_F(LoaderTest, ConfigPathFromEnvUnlessFlagGiven) {
    const std::string path = write("[sse]\nmax_topics = 7\n");
    EXPECT_EQ(load_config({}, {{"SSECAST_CONFIG", path}}).sse.max_topics, 7U);
    Overrides f;
    f.config_path = (dir_ / "missing.toml").string();
    EXPECT_THROW(load_config(f, {{"SSECAST_CONFIG", path}}), ConfigError);
}

TEST_F(LoaderTest, EnvBooleansAndEmptyList) {
    const Env env = {{"SSECAST_AUTH_ALLOW_ANONYMOUS", "FALSE"}, {"SSECAST_AUTH_PUBLISH_KEYS", ""}};
    const Config c = load_config({}, env);
    EXPECT_EQ(c.auth.allow_anonymous, false);
    EXPECT_TRUE(c.auth.publish_keys.empty());
}

TEST_F(LoaderTest, RateLimitTables) {
    Overrides f;
    f.config_path = write(R"(
[[rate_limit]]
endpoint = "sse"
identifier = "ip"
limit = 5
window = 30
[[rate_limit]]
endpoint = "publish"
limit = 100
)");
    const Config c = load_config(f, {});
    ASSERT_EQ(c.rate_limits.size(), 2U);
    EXPECT_EQ(c.rate_limits[0].endpoint, RateLimitEndpoint::sse);
    EXPECT_EQ(c.rate_limits[0].identifier, RateLimitIdentifier::ip);
    EXPECT_EQ(c.rate_limits[0].limit, 5U);
    EXPECT_EQ(c.rate_limits[0].window, 30s);
    EXPECT_EQ(c.rate_limits[1].endpoint, RateLimitEndpoint::publish);
    EXPECT_EQ(c.rate_limits[1].identifier, RateLimitIdentifier::user_or_ip);
    EXPECT_EQ(c.rate_limits[1].window, 60s);

    const Config e = load_config(f, {{"SSECAST_RATE_LIMIT", "publish:user:7/10"}});
    ASSERT_EQ(e.rate_limits.size(), 1U);
    EXPECT_EQ(e.rate_limits[0].identifier, RateLimitIdentifier::user);
    EXPECT_EQ(e.rate_limits[0].limit, 7U);
    EXPECT_EQ(e.rate_limits[0].window, 10s);
    EXPECT_TRUE(load_config(f, {{"SSECAST_RATE_LIMIT", ""}}).rate_limits.empty());
}

/// Every message names where, which key, and the value.
TEST_F(LoaderTest, ValueErrorsNameFileKeyAndValue) {
    std::string m = error_of("[limits]\n\nmax_queue_bytes = -5\n");
    EXPECT_NE(m.find("ssecast.toml:3: limits.max_queue_bytes: expected a positive integer, got -5"),
              std::string::npos)
        << m;
    const std::pair<const char*, const char*> cases[] = {
        {"[http]\nthreads = \"four\"",
         "http.threads: expected an integer in [0, 1024], got \"four\""},
        {"[http]\nthreads = 5000", "http.threads: expected an integer in [0, 1024], got 5000"},
        {"[sse]\nheartbeat_seconds = 1.5",
         "sse.heartbeat_seconds: expected an integer in [1, 1000000000], got 1.5"},
        {"[sse]\nmax_topics = 0", "sse.max_topics: expected a positive integer, got 0"},
        {"[history]\nmax_total_events = 0",
         "history.max_total_events: expected a positive integer, got 0"},
        {"[auth]\nallow_anonymous = \"yes\"",
         "auth.allow_anonymous: expected true or false, got \"yes\""},
        {"[auth]\njwt_secret = 5", "auth.jwt_secret: expected a string, got 5"},
        {"[auth]\npublish_keys = \"k\"", "auth.publish_keys: expected an array of strings"},
        {"[auth]\npublish_keys = [1]", "auth.publish_keys: expected an array of strings, got [1]"},
        {"[http]\nlisten = \"nowhere\"", "http.listen: expected host:port"},
        {"[http]\ntrusted_proxies = [\"10.0.0.0/33\"]",
         "http.trusted_proxies: expected an IP address or CIDR (10.0.0.0/8, ::1), got "
         "\"10.0.0.0/33\""},
        {"[http]\ncors_origins = [\"https://a.com/\"]",
         "http.cors_origins: expected \"*\" or an origin"},
        {"[redis]\nurl = \"http://x:1\"",
         "redis.url: expected redis[s]://[[user]:password@]host[:port][/db], redis+sentinel://"},
        {"[redis]\nurl = \"http://x:1\"", "got \"http://x:1\""},
        {"[log]\nlevel = \"loud\"", "log.level: expected one of \"trace\", \"debug\", \"info\", "
                                    "\"warn\", \"error\", got \"loud\""},
        {"[http]\nlistn = \"x\"", "ssecast.toml:2: unknown key http.listn"},
        {"[htp]\nlisten = \"x\"", "ssecast.toml:1: unknown section [htp]"},
        {"listen = \":1\"", "unknown key listen"},
        {"http = 5", "http: expected a table [http]"},
        {"[redis]\nheartbeat_seconds = 6",
         "redis.instance_ttl_seconds: must be greater than redis.heartbeat_seconds, got 6 <= 6"},
        {"[limits]\nmax_event_bytes = 2000000",
         "limits.max_event_bytes: must not exceed limits.max_body_bytes"},
    };
    for (const auto& [toml, want] : cases) {
        m = error_of(toml);
        EXPECT_NE(m.find(want), std::string::npos) << "toml: " << toml << "\nmessage: " << m;
    }
}

TEST_F(LoaderTest, RateLimitErrors) {
    const std::pair<const char*, const char*> cases[] = {
        {"[[rate_limit]]\nendpoint = \"events\"\nlimit = 1",
         "rate_limit[0].endpoint: expected one of \"sse\", \"publish\", got \"events\""},
        {"[[rate_limit]]\nendpoint = \"sse\"\nlimit = 0",
         "rate_limit[0].limit: expected a positive integer, got 0"},
        {"[[rate_limit]]\nendpoint = \"sse\"\nlimit = 1\nwindow = -1",
         "rate_limit[0].window: expected a positive integer, got -1"},
        {"[[rate_limit]]\nendpoint = \"sse\"\nlimit = 1\nidentifier = \"ipv4\"",
         "rate_limit[0].identifier: expected one of"},
        {"[[rate_limit]]\nendpoint = \"sse\"\nlimit = 1\n[[rate_limit]]\nendpoint = \"sse\"",
         "rate_limit[1]: missing key limit"},
        {"[[rate_limit]]\nendpoint = \"sse\"\nlimit = 1\nburst = 2",
         "unknown key rate_limit[0].burst"},
        {"[rate_limit]\nendpoint = \"sse\"", "rate_limit: expected an array of tables"},
    };
    for (const auto& [toml, want] : cases) {
        const std::string m = error_of(toml);
        EXPECT_NE(m.find(want), std::string::npos) << "toml: " << toml << "\nmessage: " << m;
    }
    const std::string m = error_of("", {{"SSECAST_RATE_LIMIT", "sse:ip:5"}});
    EXPECT_NE(m.find("SSECAST_RATE_LIMIT: rate_limit: expected endpoint:identifier:limit/window"),
              std::string::npos)
        << m;
}

TEST_F(LoaderTest, EnvAndFlagErrorsNameVariable) {
    std::string m = error_of("", {{"SSECAST_LIMITS_MAX_QUEUE_BYTES", "-5"}});
    EXPECT_EQ(m, "SSECAST_LIMITS_MAX_QUEUE_BYTES: limits.max_queue_bytes: expected a positive "
                 "integer, got \"-5\"");
    m = error_of("", {{"SSECAST_LIMITS_MAX_QUEUE_BYTES", "12kb"}});
    EXPECT_NE(m.find("got \"12kb\""), std::string::npos) << m;
    m = error_of("", {{"SSECAST_AUTH_ALLOW_ANONYMOUS", "maybe"}});
    EXPECT_NE(m.find("auth.allow_anonymous: expected true, false, 1 or 0, got \"maybe\""),
              std::string::npos)
        << m;
    m = error_of("", {{"SSECAST_HTTP_LISTN", "x"}});
    EXPECT_EQ(m, "unknown environment variable SSECAST_HTTP_LISTN (no key http.listn)");
    // Variables outside every section are not configuration (SSECAST_BIN in a harness).
    EXPECT_NO_THROW(load_config({}, {{"SSECAST_BIN", "/x"}, {"SSECAST_WITH_BROWSER", "1"}}));
    Overrides f;
    f.listen = "8080";
    m = error_of("", {}, f);
    EXPECT_NE(m.find("--listen: http.listen: expected host:port"), std::string::npos) << m;
    f = {};
    f.redis = "memcached://h:1/m";
    m = error_of("", {}, f);
    EXPECT_NE(m.find("--redis: redis.url:"), std::string::npos) << m;
}

TEST_F(LoaderTest, FileErrorsNameFileAndLine) {
    std::string m = error_of("[http]\nlisten = \"a\"\nthreads = = 3\n");
    EXPECT_NE(m.find("ssecast.toml:3:"), std::string::npos) << m;
    EXPECT_NE(m.find("TOML syntax error"), std::string::npos) << m;
    Overrides f;
    f.config_path = (dir_ / "nope.toml").string();
    m = error_of("", {}, f);
    EXPECT_NE(m.find("nope.toml: cannot read config file"), std::string::npos) << m;
}

TEST_F(LoaderTest, CheckConfigReportsEveryErrorWithFileLineAndKey) {
    Overrides f;
    f.config_path = write("[http]\n"
                          "listen = \"nope\"\n"
                          "listn = 3\n"
                          "[limits]\n"
                          "max_queue_bytes = -5\n"
                          "[bogus]\n"
                          "x = 1\n"
                          "[[rate_limit]]\n"
                          "endpoint = \"sse\"\n"
                          "limit = 0\n"
                          "[log]\n"
                          "format = \"xml\"\n");
    const auto errors = check_config(f, {{"SSECAST_SSE_RETRY_MS", "x"}});
    ASSERT_EQ(errors.size(), 7U) << ::testing::PrintToString(errors);
    const std::vector<std::string> expected = {"ssecast.toml:2: http.listen:",
                                               "ssecast.toml:3: unknown key http.listn",
                                               "ssecast.toml:5: limits.max_queue_bytes:",
                                               "ssecast.toml:6: unknown section [bogus]",
                                               "ssecast.toml:10: rate_limit[0].limit:",
                                               "ssecast.toml:12: log.format:",
                                               "SSECAST_SSE_RETRY_MS: sse.retry_ms:"};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_NE(errors[i].find(expected[i]), std::string::npos) << errors[i];
    }
    // load_config stops at the first of them, worded the same.
    EXPECT_EQ(error_of("", {{"SSECAST_SSE_RETRY_MS", "x"}}, f), errors.front());
}

TEST_F(LoaderTest, CheckConfigOfAValidOrSyntacticallyBrokenFile) {
    Overrides f;
    f.config_path = write("[http]\nlisten = \"127.0.0.1:9\"\n[log]\nformat = \"json\"\n");
    EXPECT_TRUE(check_config(f, {}).empty());
    EXPECT_EQ(load_config(f, {}).log.format, "json");
    f.config_path = write("[http]\nlisten = = 1\n[limits]\nmax_queue_bytes = -5\n");
    const auto errors = check_config(f, {});
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_NE(errors[0].find("ssecast.toml:2:"), std::string::npos) << errors[0];
    EXPECT_NE(errors[0].find("TOML syntax error"), std::string::npos) << errors[0];
    EXPECT_TRUE(check_config({}, {}).empty());
}

TEST(EnvironmentFrom, KeepsOnlySsecastVariables) {
    std::string a = "SSECAST_HTTP_LISTEN=:1", b = "PATH=/bin", c = "SSECAST_X=a=b", d = "SSECAST";
    char* envp[] = {a.data(), b.data(), c.data(), d.data(), nullptr};
    const auto env = environment_from(envp);
    EXPECT_EQ(env, (Env{{"SSECAST_HTTP_LISTEN", ":1"}, {"SSECAST_X", "a=b"}}));
    EXPECT_TRUE(environment_from(nullptr).empty());
}

TEST_F(LoaderTest, ExampleConfigLoadsAndDocumentsTheDefaults) {
    Overrides f;
    f.config_path = SSECAST_EXAMPLE_CONFIG;
    const Config c = load_config(f, {});
    const Config d;
    EXPECT_EQ(c.http.listen, d.http.listen);
    EXPECT_EQ(c.http.max_header_bytes, d.http.max_header_bytes);
    EXPECT_EQ(c.http.header_timeout, d.http.header_timeout);
    EXPECT_EQ(c.sse.heartbeat, d.sse.heartbeat);
    EXPECT_EQ(c.sse.retry, d.sse.retry);
    EXPECT_EQ(c.sse.max_topics, d.sse.max_topics);
    EXPECT_EQ(c.history.max_events, d.history.max_events);
    EXPECT_EQ(c.history.max_age, d.history.max_age);
    EXPECT_EQ(c.history.max_total_events, d.history.max_total_events);
    EXPECT_EQ(c.limits.max_connections, d.limits.max_connections);
    EXPECT_EQ(c.limits.max_event_bytes, d.limits.max_event_bytes);
    EXPECT_EQ(c.limits.max_body_bytes, d.limits.max_body_bytes);
    EXPECT_EQ(c.limits.max_queue_bytes, d.limits.max_queue_bytes);
    EXPECT_EQ(c.redis.prefix, d.redis.prefix);
    EXPECT_EQ(c.redis.heartbeat, d.redis.heartbeat);
    EXPECT_EQ(c.redis.instance_ttl, d.redis.instance_ttl);
    EXPECT_EQ(c.shutdown.grace, d.shutdown.grace);
    EXPECT_EQ(c.log.level, d.log.level);
    EXPECT_EQ(c.log.format, d.log.format);
    EXPECT_FALSE(c.auth.allow_anonymous.has_value());

    // The commented example keys are valid too: uncomment them and load again.
    std::ifstream in(SSECAST_EXAMPLE_CONFIG);
    std::ostringstream text;
    text << in.rdbuf();
    const std::regex commented(
        R"((^|\n)# (\[\[rate_limit\]\]|(endpoint|identifier|limit|window|allow_anonymous) =))");
    f.config_path = write(std::regex_replace(text.str(), commented, "$1$2"));
    const Config u = load_config(f, {});
    EXPECT_EQ(u.rate_limits.size(), 2U);
    EXPECT_EQ(u.auth.allow_anonymous, true);
}

/// SPEC §Redis in production: one password source; errors never show a password.
TEST_F(LoaderTest, RedisCredentials) {
    const auto secret_file = (dir_ / "redis-password").string();
    std::ofstream(secret_file) << "from-file\n";
    Config c = load_config(
        {}, {{"SSECAST_REDIS_URL", "redis://app@h"}, {"SSECAST_REDIS_PASSWORD_FILE", secret_file}});
    EXPECT_EQ(c.redis.password_file, secret_file);
    c = load_config({}, {{"SSECAST_REDIS_URL", "redis://h"}, {"SSECAST_REDIS_PASSWORD", "pw"}});
    EXPECT_EQ(c.redis.password, "pw");
    c = load_config({}, {{"SSECAST_REDIS_URL", "redis://u:pw@h"}});
    EXPECT_TRUE(c.redis.password.empty());

    std::string e = error_of(
        "", {{"SSECAST_REDIS_URL", "redis://:hunter2@h"}, {"SSECAST_REDIS_PASSWORD", "hunter3"}});
    EXPECT_NE(e.find("redis.url and redis.password"), std::string::npos) << e;
    e = error_of("", {{"SSECAST_REDIS_PASSWORD_FILE", secret_file},
                      {"SSECAST_REDIS_PASSWORD", "hunter3"},
                      {"SSECAST_REDIS_URL", "redis://h"}});
    EXPECT_NE(e.find("redis.password_file"), std::string::npos) << e;
    e = error_of("", {{"SSECAST_REDIS_URL", "redis://hunter2@h"}});
    EXPECT_NE(e.find("no password is set"), std::string::npos) << e;
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
    e = error_of("", {{"SSECAST_REDIS_URL", "redis://u:hunter2@h:99999"}});
    EXPECT_NE(e.find("redis://u:***@h:99999"), std::string::npos) << e;
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
    e = error_of("[redis]\nurl = [\"redis://:hunter2@h\"]\n");
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
    e = error_of("[redis]\npassword = [\"hunter2\"]\n");
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
    e = error_of("", {{"SSECAST_REDIS_PASSWORD_FILE", (dir_ / "missing").string()}});
    EXPECT_NE(e.find("redis.password_file"), std::string::npos) << e;
    std::ofstream(secret_file, std::ios::trunc) << "\n";
    e = error_of("", {{"SSECAST_REDIS_PASSWORD_FILE", secret_file}});
    EXPECT_NE(e.find("empty"), std::string::npos) << e;
    const auto all = check_config({}, {{"SSECAST_REDIS_URL", "redis://:hunter2@h:0"}});
    ASSERT_EQ(all.size(), 1U);
    EXPECT_EQ(all[0].find("hunter2"), std::string::npos) << all[0];
}

/// TLS keys need rediss://; a client certificate needs its key; files must be readable.
TEST_F(LoaderTest, RedisTls) {
    const auto ca = (dir_ / "ca.pem").string();
    std::ofstream(ca) << "not checked here\n";
    Config c = load_config({}, {{"SSECAST_REDIS_URL", "rediss://h:6380"},
                                {"SSECAST_REDIS_TLS_CA_FILE", ca},
                                {"SSECAST_REDIS_TLS_SERVER_NAME", "redis.internal"}});
    EXPECT_EQ(c.redis.tls_ca_file, ca);
    EXPECT_EQ(c.redis.tls_server_name, "redis.internal");
    EXPECT_TRUE(c.redis.tls_verify);
    std::string e =
        error_of("", {{"SSECAST_REDIS_URL", "redis://h"}, {"SSECAST_REDIS_TLS_CA_FILE", ca}});
    EXPECT_NE(e.find("not rediss://"), std::string::npos) << e;
    e = error_of("", {{"SSECAST_REDIS_URL", "rediss://h"}, {"SSECAST_REDIS_TLS_CERT_FILE", ca}});
    EXPECT_NE(e.find("set both or neither"), std::string::npos) << e;
    e = error_of("", {{"SSECAST_REDIS_URL", "rediss://h"},
                      {"SSECAST_REDIS_TLS_CA_FILE", (dir_ / "missing.pem").string()}});
    EXPECT_NE(e.find("redis.tls_ca_file: expected a readable file"), std::string::npos) << e;
}

TEST_F(LoaderTest, RedisShardsAreAListOfUrlsInsteadOfRedisUrl) {
    Overrides f;
    f.config_path =
        write("[redis]\nshards = [\"redis://a:1\", \"redis+sentinel://s1,s2:26380/m\"]\n");
    auto c = load_config(f, {});
    EXPECT_TRUE(c.redis_mode());
    EXPECT_EQ(c.redis_urls(),
              (std::vector<std::string>{"redis://a:1", "redis+sentinel://s1,s2:26380/m"}));
    // The environment separates with spaces: a Sentinel URL has commas of its own.
    c = load_config(
        {}, {{"SSECAST_REDIS_SHARDS", " redis://a  rediss://b:7\tredis+sentinel://x,y/m "}});
    EXPECT_EQ(c.redis.shards,
              (std::vector<std::string>{"redis://a", "rediss://b:7", "redis+sentinel://x,y/m"}));
    std::string e = error_of("", {{"SSECAST_REDIS_SHARDS", "redis://a http://u:hunter2@b"}});
    EXPECT_NE(e.find("redis.shards"), std::string::npos) << e;
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e; // a bad URL is shown redacted
    e = error_of("", {{"SSECAST_REDIS_URL", "redis://a"}, {"SSECAST_REDIS_SHARDS", "redis://b"}});
    EXPECT_NE(e.find("set one of them"), std::string::npos) << e;
    e = error_of("", {{"SSECAST_REDIS_SHARDS", "redis://a redis://u@b"}});
    EXPECT_NE(e.find("redis.shards[1]: names a user"), std::string::npos) << e;
    e = error_of("", {{"SSECAST_REDIS_SHARDS", "redis://a redis://b"},
                      {"SSECAST_REDIS_TLS_VERIFY", "false"}});
    EXPECT_NE(e.find("no URL in redis.shards is rediss://"), std::string::npos) << e;
    std::string many;
    for (int i = 0; i < 65; ++i) {
        many += "redis://h" + std::to_string(i) + " ";
    }
    e = error_of("", {{"SSECAST_REDIS_SHARDS", many}});
    EXPECT_NE(e.find("redis.shards: expected at most 64 shards, got 65"), std::string::npos) << e;
}

/// Every key of the table appears in the example with its env variable name.
TEST_F(LoaderTest, ExampleConfigMentionsEveryEnvVariable) {
    std::ifstream in(SSECAST_EXAMPLE_CONFIG);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    std::regex env_re(R"(env: (SSECAST_[A-Z_]+))");
    int count = 0;
    for (auto it = std::sregex_iterator(s.begin(), s.end(), env_re); it != std::sregex_iterator();
         ++it) {
        const std::string name = (*it)[1];
        // A known variable may reject the value "1" but never as unknown.
        try {
            load_config({}, {{name, "1"}});
        } catch (const ConfigError& e) {
            EXPECT_EQ(std::string(e.what()).find("unknown"), std::string::npos) << e.what();
        }
        ++count;
    }
    EXPECT_EQ(count, 53 + 1); // one per key in keys.cpp, plus SSECAST_RATE_LIMIT
}

} // namespace
} // namespace ssecast::config
