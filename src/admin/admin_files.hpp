// SPDX-License-Identifier: MIT
// The built admin UI served at /admin: which request paths may name a file, and reading
// only regular files that really lie under the admin directory (issue #12, finding 1).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ssecast::admin {

/// Longest path after "/admin/" that can name a file; Vite's hashed asset names are far
/// shorter.
constexpr std::size_t kMaxAdminPathBytes = 256;
/// Largest file served: the built UI is a few hundred KiB; anything bigger is not ours.
constexpr std::size_t kMaxAdminFileBytes = 8 * 1024 * 1024;

/// The path relative to the admin directory that `rel` (the request path after "/admin/",
/// not percent-decoded) may name, or nullopt. "" names "index.html". Accepted: up to 8
/// '/'-separated segments of [A-Za-z0-9._-], none empty and none starting with '.', at most
/// kMaxAdminPathBytes in all. So an absolute path ("/etc/hostname" from "/admin//etc/…"),
/// "..", ".", a NUL, a percent escape or a dotfile can never reach the file system. Pure.
std::optional<std::string> admin_relative_path(std::string_view rel);

/// A file of the admin UI, ready to send.
struct AdminFile {
    std::string body;
    std::string_view content_type;
    bool immutable = false; ///< under assets/: content-hashed, cacheable for a year
};

/// The admin directory, resolved once (realpath) at construction. Thread-safe: immutable
/// after construction; read() only reads the file system.
class AdminFiles {
  public:
    AdminFiles() = default;
    explicit AdminFiles(const std::filesystem::path& dir);

    /// The file `rel` (request path after "/admin/") names, when admin_relative_path accepts
    /// it, its realpath lies under the admin directory (a symlink leading out is refused),
    /// it is a regular file (no device, FIFO or directory; opened without blocking) and at
    /// most kMaxAdminFileBytes. nullopt otherwise, for every reason alike (the caller
    /// answers 404).
    std::optional<AdminFile> read(std::string_view rel) const;

    /// True when the directory holds an index.html (the UI was built).
    bool built() const;
    /// The directory as configured or found, for the "not built" page and the log.
    const std::filesystem::path& dir() const noexcept { return shown_; }

  private:
    std::filesystem::path shown_;
    std::string root_; ///< realpath of the directory, "" when it does not exist
};

} // namespace ssecast::admin
