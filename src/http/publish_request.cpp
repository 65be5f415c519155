// SPDX-License-Identifier: MIT
// POST /publish body validation: the shared format check plus publish permissions.
#include "http/publish_request.hpp"

#include <fmt/format.h>

namespace ssecast::http {

std::optional<Failure> parse_publish(std::string_view body, const publish::Limits& limits,
                                     const auth::Identity& who, PublishBatch& out) {
    if (auto refused = publish::parse_body(body, limits, out)) {
        return Failure{refused->code, std::move(refused->message)};
    }
    for (std::size_t i = 0; i < out.drafts.size(); ++i) {
        const auto& topics = out.drafts[i].topics;
        for (std::size_t j = 0; j < topics.size(); ++j) {
            if (!auth::Authenticator::may_publish(who, topics[j])) {
                const std::string where = out.array ? fmt::format("[{}].", i) : std::string();
                return Failure{errc::forbidden,
                               fmt::format("{}topics[{}]: not allowed to publish to '{}'", where, j,
                                           topics[j])};
            }
        }
    }
    return std::nullopt;
}

} // namespace ssecast::http
