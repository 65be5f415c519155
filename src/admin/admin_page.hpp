// SPDX-License-Identifier: MIT
// The answers of /admin and /admin/…: the built UI's files, the "not built" page, and the
// generated admin token pre-filled for loopback visitors.
#pragma once

#include "admin/admin_files.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ssecast::admin {

/// What /admin serves from; set once by App, immutable afterwards (any thread).
struct AdminSite {
    AdminFiles files{}; ///< built admin UI (index.html + assets/)
    /// Admin token generated at start-up because none was configured; pre-filled for
    /// loopback visitors only. A configured auth.admin_token is never put here. "" = none.
    std::string generated_token{};
};

/// An answer to one /admin request, for http/ to turn into a response.
struct AdminPage {
    unsigned status = 200;
    std::string content_type;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

/// The page for `rel` (the request path after "/admin/"; "" = index.html): a file of the
/// built UI (index.html no-cache, hashed assets cached for a year, nosniff), or a 503 page
/// saying how to build the UI when it is missing. For a `local_visitor` (loopback, no
/// proxy) an HTML file carries `<meta name="ssecast-admin-token">` with
/// site.generated_token when one was generated, and is served no-store. nullopt: no such
/// file, or a path that may not name one (404).
std::optional<AdminPage> admin_page(const AdminSite& site, std::string_view rel,
                                    bool local_visitor);

} // namespace ssecast::admin
