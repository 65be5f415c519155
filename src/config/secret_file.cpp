// SPDX-License-Identifier: MIT
// Secret files.
#include "config/secret_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace ssecast::config {

namespace {
/// A password longer than this is a wrong file (a key, a log), not a password.
constexpr std::size_t kMaxSecretBytes = 4096;
} // namespace

bool read_secret_file(const std::string& path, std::string& out, std::string& why) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        why = std::string("cannot read: ") + std::strerror(errno);
        return false;
    }
    std::string text;
    text.resize(kMaxSecretBytes + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) {
        why = std::string("cannot read: ") + std::strerror(errno);
        return false;
    }
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxSecretBytes) {
        why = "larger than 4096 bytes: not a password file";
        return false;
    }
    if (text.ends_with("\r\n")) {
        text.resize(text.size() - 2);
    } else if (text.ends_with('\n')) {
        text.pop_back();
    }
    if (text.empty()) {
        why = "the file is empty";
        return false;
    }
    out = std::move(text);
    return true;
}

} // namespace ssecast::config
