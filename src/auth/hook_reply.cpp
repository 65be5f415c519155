// SPDX-License-Identifier: MIT
// Connect hook answers: status and JSON body → Identity.
#include "auth/hook_reply.hpp"

#include <boost/json/parse.hpp>

namespace ssecast::auth {

namespace {
/// A year: longer grants are a bug in the hook, and this keeps clock arithmetic far from
/// overflow.
constexpr double kMaxExpiresIn = 365.0 * 24 * 3600;
} // namespace

result<Identity> parse_hook_reply(unsigned status, std::string_view body,
                                  std::chrono::system_clock::time_point now) {
    if (status == 401) {
        return errc::unauthorized;
    }
    if (status == 403) {
        return errc::forbidden;
    }
    if (status != 200 || body.size() > kMaxHookReplyBytes) {
        return errc::auth_unavailable;
    }
    boost::system::error_code ec;
    const auto doc = boost::json::parse(body, ec);
    const auto* obj = ec ? nullptr : doc.if_object();
    const auto* user = obj ? obj->if_contains("user") : nullptr;
    if (!user || !user->is_string() || !Authenticator::valid_subject(user->get_string())) {
        return errc::auth_unavailable;
    }
    Identity id;
    id.user_id = std::string(user->get_string());
    if (const auto* topics = obj->if_contains("topics")) {
        const auto* arr = topics->if_array();
        if (!arr || arr->size() > kMaxHookTopics) {
            return errc::auth_unavailable;
        }
        std::vector<hub::TopicPattern> patterns;
        patterns.reserve(arr->size());
        for (const auto& t : *arr) {
            const auto* s = t.if_string();
            auto p = s ? hub::TopicPattern::parse(std::string_view(*s))
                       : result<hub::TopicPattern>(errc::bad_topic);
            if (!p) {
                return errc::auth_unavailable;
            }
            patterns.push_back(std::move(*p));
        }
        id.subscribe = std::move(patterns);
    }
    if (const auto* ttl = obj->if_contains("expires_in")) {
        if (!ttl->is_number()) {
            return errc::auth_unavailable;
        }
        const double s = ttl->to_number<double>(ec);
        if (ec || !(s > 0) || s > kMaxExpiresIn) {
            return errc::auth_unavailable;
        }
        id.expires_at = now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                  std::chrono::duration<double>(s));
    }
    return id;
}

} // namespace ssecast::auth
