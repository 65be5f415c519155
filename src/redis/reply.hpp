// SPDX-License-Identifier: MIT
// An owned copy of a hiredis reply: hiredis frees its redisReply when the callback returns,
// so whatever outlives the callback is copied into this value type first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct redisReply;

namespace ssecast::redis {

/// A RESP2 reply. Redis error replies ("-NOSCRIPT ...") are values of type `error`, not
/// failures: only a lost connection or a timeout is a failure (see Connection).
struct Reply {
    enum class Type { nil, status, error, integer, string, array };
    Type type = Type::nil;
    std::string str;             ///< status, error and string replies
    std::int64_t integer = 0;    ///< integer replies
    std::vector<Reply> elements; ///< array replies

    /// Deep copy of `r` (null → nil).
    static Reply from(const redisReply* r);

    bool is_error() const noexcept { return type == Type::error; }
    bool is_nil() const noexcept { return type == Type::nil; }
    bool is_array() const noexcept { return type == Type::array; }
    /// True for an error reply starting with `prefix` ("NOSCRIPT").
    bool error_is(std::string_view prefix) const noexcept {
        return is_error() && str.compare(0, prefix.size(), prefix) == 0;
    }
};

} // namespace ssecast::redis
