// SPDX-License-Identifier: MIT
// Category and names of ssecast::errc.
#include "common/errc.hpp"

#include <string>

namespace ssecast {

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::ok:
        return "ok";
    case errc::bad_request:
        return "bad_request";
    case errc::bad_json:
        return "bad_json";
    case errc::bad_topic:
        return "bad_topic";
    case errc::bad_event_id:
        return "bad_event_id";
    case errc::unauthorized:
        return "unauthorized";
    case errc::forbidden:
        return "forbidden";
    case errc::not_found:
        return "not_found";
    case errc::method_not_allowed:
        return "method_not_allowed";
    case errc::payload_too_large:
        return "payload_too_large";
    case errc::header_too_large:
        return "header_too_large";
    case errc::rate_limited:
        return "rate_limited";
    case errc::too_many_connections:
        return "too_many_connections";
    case errc::over_capacity:
        return "over_capacity";
    case errc::draining:
        return "draining";
    case errc::backend_unavailable:
        return "backend_unavailable";
    case errc::timeout:
        return "timeout";
    case errc::slow_consumer:
        return "slow_consumer";
    case errc::internal:
        return "internal";
    case errc::unknown_key:
        return "unauthorized"; // clients see one code for every bad token
    case errc::blocked:
        return "blocked";
    case errc::auth_unavailable:
        return "auth_unavailable";
    }
    return "unknown";
}

namespace {
class Category final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "ssecast"; }
    std::string message(int ev) const override {
        return std::string(to_string(static_cast<errc>(ev)));
    }
};
} // namespace

const boost::system::error_category& ssecast_category() noexcept {
    static const Category category;
    return category;
}

} // namespace ssecast
