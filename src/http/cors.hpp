// SPDX-License-Identifier: MIT
// CORS for the origins in http.cors_origins: response headers and preflight answers.
#pragma once

#include "http/request.hpp"

#include <string>
#include <vector>

namespace ssecast::http {

/// Immutable after construction; thread-safe.
class Cors {
  public:
    explicit Cors(std::vector<std::string> origins) : origins_(std::move(origins)) {}
    /// Appends Access-Control-* headers when the request's Origin is allowed; nothing for
    /// a foreign origin (the browser then blocks the response) or no Origin.
    void apply(const Request& req, std::vector<std::pair<std::string, std::string>>& out) const;
    /// The answer to an OPTIONS preflight (204 with the allowed methods/headers).
    Response preflight(const Request& req) const;

  private:
    bool allowed(std::string_view origin) const;
    std::vector<std::string> origins_;
};

} // namespace ssecast::http
