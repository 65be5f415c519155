// SPDX-License-Identifier: MIT
// parse_query: any bytes decode without a crash, decoding never grows the text, and a
// query without '%' or '+' comes back as the literal '&'/'='-split pieces.
#include "fuzz_split.hpp"
#include "http/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view q(reinterpret_cast<const char*>(data), size);
    const auto pairs = ssecast::http::parse_query(q);
    std::size_t total = 0;
    for (const auto& [k, v] : pairs) {
        total += k.size() + v.size();
    }
    if (total > size || pairs.size() > size) {
        ssecast::fuzz::fail("decoded query longer than its input");
    }
    if (q.find_first_of("%+") == std::string_view::npos) {
        std::string joined;
        for (const auto& [k, v] : pairs) {
            joined += k + v;
        }
        std::string expected;
        for (char c : q) {
            if (c != '&') {
                expected.push_back(c);
            }
        }
        // Only the first '=' of each part is consumed (later ones stay in the value).
        if (joined.size() > expected.size() || expected.size() - joined.size() > pairs.size()) {
            ssecast::fuzz::fail("literal query lost or gained bytes");
        }
    }
    ssecast::http::Request req;
    req.query = pairs;
    (void)req.param("topic");
    (void)req.params("topic");
    return 0;
}
