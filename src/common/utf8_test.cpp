// SPDX-License-Identifier: MIT
// to_valid_utf8: valid text unchanged, every ill-formed sequence replaced.
#include "common/utf8.hpp"

#include <gtest/gtest.h>

namespace ssecast {
namespace {

TEST(Utf8, ValidTextIsUnchanged) {
    for (const char* s : {"", "orders/42", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
        EXPECT_EQ(to_valid_utf8(s), s);
    }
}

TEST(Utf8, IllFormedSequencesBecomeReplacementCharacters) {
    const std::string r = "\xEF\xBF\xBD";
    EXPECT_EQ(to_valid_utf8("a\xFF"
                            "b"),
              "a" + r + "b");
    EXPECT_EQ(to_valid_utf8("\xC0\xAF"), r + r);                 // overlong '/'
    EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), r + r + r);         // surrogate
    EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80"), r + r + r + r); // above U+10FFFF
    EXPECT_EQ(to_valid_utf8("\xE2\x82"), r + r);                 // truncated
}

TEST(Utf8, LogExcerptEscapesControlsAndBoundsLength) {
    EXPECT_EQ(log_excerpt("a\nb\x1b[31m\x7f", 100), "a\\x0ab\\x1b[31m\\x7f");
    EXPECT_EQ(log_excerpt("abcdef", 3), "abc");
    EXPECT_EQ(log_excerpt("\xC3\xA9\xFF", 100), "\xC3\xA9\xEF\xBF\xBD");
}

} // namespace
} // namespace ssecast
