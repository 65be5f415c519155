// SPDX-License-Identifier: MIT
// parse_hook_reply: grants, refusals, and every malformed answer as 503 (never a stream).
#include "auth/hook_reply.hpp"

#include <gtest/gtest.h>

namespace ssecast::auth {
namespace {

using namespace std::chrono_literals;
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

TEST(HookReply, AGrantBecomesAnIdentity) {
    const auto id =
        parse_hook_reply(200, R"({"user":"u1","topics":["news","orders/*"],"expires_in":30,
                                  "extra":{"ignored":true}})",
                         kNow);
    ASSERT_TRUE(id);
    EXPECT_EQ(id->user_id, "u1");
    EXPECT_FALSE(id->anonymous);
    EXPECT_FALSE(id->admin);
    ASSERT_TRUE(id->subscribe);
    EXPECT_EQ(id->subscribe->size(), 2U);
    EXPECT_EQ(id->expires_at, kNow + 30s);
    ASSERT_TRUE(id->publish);
    EXPECT_TRUE(id->publish->empty()); // the hook never grants publishing
    const auto any = parse_hook_reply(200, R"({"user":"u2"})", kNow);
    ASSERT_TRUE(any);
    EXPECT_FALSE(any->subscribe);
    EXPECT_FALSE(any->expires_at);
}

TEST(HookReply, RefusalsKeepTheirMeaning) {
    EXPECT_EQ(parse_hook_reply(401, "", kNow).error(), errc::unauthorized);
    EXPECT_EQ(parse_hook_reply(403, "{}", kNow).error(), errc::forbidden);
}

TEST(HookReply, EverythingElseIsUnavailable) {
    for (const auto& [status, body] : std::vector<std::pair<unsigned, std::string>>{
             {500, R"({"user":"u"})"},
             {302, ""},
             {204, ""},
             {200, ""},
             {200, "not json"},
             {200, "[]"},
             {200, R"({"user":""})"},
             {200, R"({"user":42})"},
             {200, R"({"user":"anon:1.2.3.4"})"},
             {200, R"({"user":"publish-key:0"})"},
             {200, R"({"user":"a\nb"})"},
             {200, R"({"topics":["news"]})"},
             {200, R"({"user":"u","topics":"news"})"},
             {200, R"({"user":"u","topics":["bad topic"]})"},
             {200, R"({"user":"u","topics":[1]})"},
             {200, R"({"user":"u","expires_in":0})"},
             {200, R"({"user":"u","expires_in":-5})"},
             {200, R"({"user":"u","expires_in":"60"})"},
             {200, R"({"user":"u","expires_in":1e300})"},
             {200, std::string(kMaxHookReplyBytes + 1, ' ')},
         }) {
        EXPECT_EQ(parse_hook_reply(status, body, kNow).error(), errc::auth_unavailable)
            << status << " " << body.substr(0, 40);
    }
}

} // namespace
} // namespace ssecast::auth
