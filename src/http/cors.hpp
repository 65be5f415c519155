// SPDX-License-Identifier: MIT
// CORS for the origins in http.cors_origins: response headers and preflight answers.
#pragma once

#include "http/request.hpp"

#include <string>
#include <vector>

namespace ssecast::http {

/// Immutable after construction; thread-safe.
///
/// Issue #12 (finding 4): `"*"` in http.cors_origins means the literal
/// `Access-Control-Allow-Origin: *`, which browsers never combine with credentials, so no
/// site can read a stream opened with a user's `ssecast_token` cookie. Credentials
/// (`Access-Control-Allow-Credentials: true` with the origin echoed) are only for origins
/// listed by name.
class Cors {
  public:
    explicit Cors(std::vector<std::string> origins);
    /// Appends the Access-Control-* headers for this request: for a listed Origin, that
    /// origin with credentials; else, when "*" is configured, `*` without credentials; else
    /// nothing (the browser blocks the response). `Vary: Origin` goes on every answer when
    /// any origin is listed by name, because the answer then depends on the Origin.
    void apply(const Request& req, std::vector<std::pair<std::string, std::string>>& out) const;
    /// The answer to an OPTIONS preflight (204 with the allowed methods/headers).
    Response preflight(const Request& req) const;

  private:
    bool listed(std::string_view origin) const;
    std::vector<std::string> origins_; ///< listed by name ("*" not included)
    bool any_origin_ = false;          ///< "*" was configured
};

} // namespace ssecast::http
