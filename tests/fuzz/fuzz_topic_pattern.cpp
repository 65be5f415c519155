// SPDX-License-Identifier: MIT
// TopicPattern::parse plus the algebra permissions rely on: covers(a, a); if a covers b and
// b matches t then a matches t (a claim never admits less than it promised, and a request
// it covers never sees a topic the claim does not); str() parses back to the same pattern.
#include "fuzz_split.hpp"
#include "hub/topic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using ssecast::fuzz::fail;
    using ssecast::hub::TopicPattern;
    const auto parts = ssecast::fuzz::split(data, size, 3, ' ');
    const auto a = TopicPattern::parse(parts[0]);
    const auto b = TopicPattern::parse(parts[1]);
    const std::string_view t = parts[2];
    for (const auto* p : {&a, &b}) {
        if (!*p) {
            continue;
        }
        if (!(*p)->covers(**p)) {
            fail("covers(x, x) is false");
        }
        const auto again = TopicPattern::parse((*p)->str());
        if (!again || !(*again == **p)) {
            fail("parse(str()) differs");
        }
        if ((*p)->matches(t) && !ssecast::hub::is_valid_topic(t) && !t.empty() &&
            !(*p)->is_prefix()) {
            fail("an exact pattern matched an invalid topic");
        }
    }
    if (a && b) {
        if (a->covers(*b) && b->matches(t) && !a->matches(t)) {
            fail("a covers b, b matches t, a does not match t");
        }
        if (a->covers(*b) && b->covers(*a) && !(*a == *b)) {
            fail("covers both ways between different patterns");
        }
        // An exact pattern on a valid topic: covers agrees with matches.
        if (!b->is_prefix() && a->covers(*b) != a->matches(b->key())) {
            fail("covers(exact) disagrees with matches");
        }
    }
    return 0;
}
