// SPDX-License-Identifier: MIT
// Reads a secret (redis.password_file) from a file, so it sits in no config file, environment
// listing or process list.
#pragma once

#include <string>

namespace ssecast::config {

/// Reads the secret in `path`: the whole file less one trailing "\n" or "\r\n" (what `echo`
/// and editors add). Returns true and sets `out`; else false with `why` saying what went
/// wrong (cannot open: strerror; empty; larger than 4 KiB) and `out` unchanged. `why` never
/// contains the file's content. Blocking, small: called at start-up and before each Redis
/// connect (so a rotated password is picked up without a restart).
bool read_secret_file(const std::string& path, std::string& out, std::string& why);

} // namespace ssecast::config
