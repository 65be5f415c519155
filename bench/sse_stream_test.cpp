// SPDX-License-Identifier: MIT
// SseStream (the load tool's parser): line ends, chunked coding, arbitrary read splits.
#include "sse_stream.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

using ssecast::bench::SseStream;

const std::string kBody = "retry: 1000\r\n\r\n: ping\r\nid: 1\revent: message\rdata: a\rdata: b\r\r"
                          "data: s=1 t=2 x\n\n";

std::string chunk(const std::string& s) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", s.size());
    return std::string(size) + s + "\r\n";
}

void expect_events_for_every_split(const std::string& all) {
    for (std::size_t step = 1; step <= all.size(); ++step) {
        SseStream s;
        std::vector<std::string> got;
        for (std::size_t i = 0; i < all.size(); i += step) {
            s.feed(all.data() + i, std::min(step, all.size() - i),
                   [&](std::string_view, std::string_view d) { got.emplace_back(d); });
        }
        ASSERT_EQ(s.state(), SseStream::State::body) << "step " << step;
        ASSERT_EQ(got, (std::vector<std::string>{"a\nb", "s=1 t=2 x"})) << "step " << step;
    }
}

TEST(SseStream, PlainBodyAnySplit) {
    expect_events_for_every_split("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" +
                                  kBody);
}

TEST(SseStream, ChunkedBodyAnySplit) {
    expect_events_for_every_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                  chunk(kBody.substr(0, 20)) + chunk(kBody.substr(20)));
}

TEST(SseStream, NonOkAnswerFails) {
    SseStream s;
    const std::string head = "HTTP/1.1 503 Service Unavailable\r\n\r\n";
    EXPECT_EQ(s.feed(head.data(), head.size(), [](auto, auto) {}), SseStream::State::failed);
}

} // namespace
