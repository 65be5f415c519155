// SPDX-License-Identifier: MIT
// The connect hook's answer on any bytes (the first byte picks the status): never a crash,
// an identity only from a 200 whose JSON names a valid user, and never an admin, anonymous
// or publishing identity.
#include "auth/hook_reply.hpp"
#include "fuzz_split.hpp"

#include <boost/json/parse.hpp>

#include <array>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using ssecast::fuzz::fail;
    if (size == 0) {
        return 0;
    }
    constexpr std::array<unsigned, 6> kStatus = {200, 200, 401, 403, 500, 302};
    const unsigned status = kStatus[data[0] % kStatus.size()];
    const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    const auto id = ssecast::auth::parse_hook_reply(status, body, now);
    if (!id) {
        const auto e = static_cast<ssecast::errc>(id.error().value());
        if ((status == 401) != (e == ssecast::errc::unauthorized) ||
            (status == 403) != (e == ssecast::errc::forbidden)) {
            fail("a refusal changed its meaning");
        }
        return 0;
    }
    if (status != 200) {
        fail("an identity from a status other than 200");
    }
    boost::system::error_code ec;
    const auto doc = boost::json::parse(body, ec);
    const auto* user = ec || !doc.is_object() ? nullptr : doc.as_object().if_contains("user");
    if (!user || !user->is_string() || user->get_string() != id->user_id ||
        !ssecast::auth::Authenticator::valid_subject(id->user_id)) {
        fail("an identity that is not the answer's valid user");
    }
    if (id->admin || id->anonymous || !id->publish || !id->publish->empty()) {
        fail("the hook granted more than subscribing");
    }
    if (id->expires_at && *id->expires_at <= now) {
        fail("an identity that is already expired");
    }
    return 0;
}
