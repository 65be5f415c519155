// SPDX-License-Identifier: MIT
// /admin answers over AdminFiles.
#include "admin/admin_page.hpp"

namespace ssecast::admin {

std::optional<AdminPage> admin_page(const AdminSite& site, std::string_view rel,
                                    bool local_visitor) {
    auto file = site.files.read(rel);
    if (!file) {
        if (rel.empty() && !site.files.built()) {
            AdminPage page;
            page.status = 503;
            page.content_type = "text/html; charset=utf-8";
            page.body = "<!doctype html><title>ssecast admin</title><p>The admin UI is not built. "
                        "Run <code>scripts/run.sh</code> (or <code>npm ci && npm run build</code> "
                        "in <code>web/admin</code>) and restart, or point "
                        "<code>http.admin_dir</code> at the built files.</p>";
            return page;
        }
        return std::nullopt;
    }
    AdminPage page;
    page.content_type = std::string(file->content_type);
    page.body = std::move(file->body);
    const bool prefill = !file->immutable && local_visitor && !site.generated_token.empty() &&
                         page.content_type.starts_with("text/html");
    if (prefill) {
        // Like the demo page's publish key: only a generated token, only for this machine.
        // The token is "admin-" + [a-z0-9]: nothing to escape in an attribute.
        const auto head = page.body.find("</head>");
        if (head != std::string::npos) {
            page.body.insert(head, "<meta name=\"ssecast-admin-token\" content=\"" +
                                       site.generated_token + "\">");
        }
    }
    std::string_view cache = file->immutable ? "public, max-age=31536000, immutable" : "no-cache";
    if (prefill) {
        cache = "no-store"; // the page holds a secret now
    }
    page.headers.emplace_back("Cache-Control", std::string(cache));
    page.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return page;
}

} // namespace ssecast::admin
