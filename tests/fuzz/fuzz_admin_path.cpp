// SPDX-License-Identifier: MIT
// admin_relative_path (the /admin/ request path → file mapping, issue #12 finding 1): any
// bytes map without a crash, and whatever is accepted stays lexically under the admin
// directory: relative, no "." or ".." step, no NUL, no empty segment, bounded length.
#include "admin/admin_files.hpp"
#include "fuzz_split.hpp"

#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view rel(reinterpret_cast<const char*>(data), size);
    const auto mapped = ssecast::admin::admin_relative_path(rel);
    if (!mapped) {
        return 0;
    }
    if (mapped->empty() || mapped->size() > ssecast::admin::kMaxAdminPathBytes ||
        mapped->front() == '/' || mapped->find('\0') != std::string::npos ||
        mapped->find("//") != std::string::npos) {
        ssecast::fuzz::fail("accepted a path that can leave the directory");
    }
    for (const auto& step : std::filesystem::path(*mapped)) {
        if (step == "." || step == ".." || step.empty()) {
            ssecast::fuzz::fail("accepted a '.' or '..' step");
        }
    }
    const std::filesystem::path base("/srv/admin");
    const auto joined = (base / *mapped).lexically_normal();
    const auto back = joined.lexically_relative(base);
    if (back.empty() || *back.begin() == ".." || joined.string().rfind("/srv/admin/", 0) != 0) {
        ssecast::fuzz::fail("joined path is not under the base directory");
    }
    return 0;
}
