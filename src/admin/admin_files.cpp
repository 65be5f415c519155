// SPDX-License-Identifier: MIT
// /admin file mapping: a strict path grammar first, then realpath containment, then a
// non-blocking open of a regular, bounded file.
#include "admin/admin_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

namespace ssecast::admin {

namespace {

constexpr std::size_t kMaxSegments = 8;

bool segment_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

std::string_view content_type_for(std::string_view path) {
    const auto dot = path.rfind('.');
    const std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
    if (ext == "html") {
        return "text/html; charset=utf-8";
    }
    if (ext == "js" || ext == "mjs") {
        return "text/javascript; charset=utf-8";
    }
    if (ext == "css") {
        return "text/css; charset=utf-8";
    }
    if (ext == "svg") {
        return "image/svg+xml";
    }
    if (ext == "json" || ext == "map") {
        return "application/json";
    }
    if (ext == "png") {
        return "image/png";
    }
    if (ext == "ico") {
        return "image/x-icon";
    }
    if (ext == "woff2") {
        return "font/woff2";
    }
    return "application/octet-stream";
}

/// realpath(3) as a string; "" when the path does not resolve.
std::string real_path(const std::string& path) {
    std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr),
                                                         &std::free);
    return resolved ? std::string(resolved.get()) : std::string();
}

/// Closes a descriptor on every path out of read().
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

} // namespace

std::optional<std::string> admin_relative_path(std::string_view rel) {
    if (rel.empty()) {
        return std::string("index.html");
    }
    if (rel.size() > kMaxAdminPathBytes) {
        return std::nullopt;
    }
    std::size_t segments = 0;
    std::size_t start = 0;
    while (start <= rel.size()) {
        const auto slash = std::min(rel.find('/', start), rel.size());
        const std::string_view seg = rel.substr(start, slash - start);
        // Empty (leading '/', "//", trailing '/') and dot-led ("..", ".", ".env") segments
        // are what path tricks are made of; the built UI needs none of them.
        if (seg.empty() || seg.front() == '.' ||
            !std::all_of(seg.begin(), seg.end(), segment_char)) {
            return std::nullopt;
        }
        if (++segments > kMaxSegments) {
            return std::nullopt;
        }
        start = slash + 1;
    }
    return std::string(rel);
}

AdminFiles::AdminFiles(const std::filesystem::path& dir) : shown_(dir), root_(real_path(dir)) {}

bool AdminFiles::built() const {
    return read("").has_value();
}

std::optional<AdminFile> AdminFiles::read(std::string_view rel) const {
    const auto relative = admin_relative_path(rel);
    if (!relative || root_.empty()) {
        return std::nullopt;
    }
    // The grammar keeps the name inside the directory; realpath also catches a symlink in
    // it that leads elsewhere.
    const std::string resolved = real_path(root_ + "/" + *relative);
    if (resolved.size() <= root_.size() || resolved.compare(0, root_.size(), root_) != 0 ||
        resolved[root_.size()] != '/') {
        return std::nullopt;
    }
    // O_NONBLOCK: opening a FIFO must not hang the event loop; O_NOFOLLOW: the resolved path
    // has no symlink left, so one appearing now is refused.
    const Fd file{::open(resolved.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)};
    struct stat st {};
    if (file.fd < 0 || ::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        static_cast<std::size_t>(st.st_size) > kMaxAdminFileBytes) {
        return std::nullopt;
    }
    AdminFile out;
    out.body.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < out.body.size()) {
        const ssize_t n = ::read(file.fd, out.body.data() + got, out.body.size() - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; // shrank while reading: send what is there
        }
        got += static_cast<std::size_t>(n);
    }
    out.body.resize(got);
    out.content_type = content_type_for(*relative);
    out.immutable = relative->starts_with("assets/");
    return out;
}

} // namespace ssecast::admin
