// SPDX-License-Identifier: MIT
// The single table from errc to HTTP status and the JSON error body (SPEC §Errors).
#pragma once

#include "common/errc.hpp"
#include "http/request.hpp"

#include <string_view>

namespace ssecast::http {

/// HTTP status for an errc (500 for anything unexpected).
unsigned status_of(errc e) noexcept;

/// {"error": "<code>", "message": "<message>"} with the status of `e`. An empty message
/// uses a default sentence for the code.
Response error_reply(errc e, std::string_view message = {});

/// Same, from an error_code (non-ssecast categories become errc::internal).
Response error_reply(const boost::system::error_code& ec, std::string_view message = {});

} // namespace ssecast::http
