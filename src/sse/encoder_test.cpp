// SPDX-License-Identifier: MIT
// Encoder and EventId tests: wire format, injection safety, id ordering.
#include "sse/encoder.hpp"
#include "sse/event_id.hpp"

#include <gtest/gtest.h>

using namespace ssecast::sse;

TEST(Encoder, SingleLineEvent) {
    EXPECT_EQ(encode_event("1-0", "order.updated", "{\"a\":1}"),
              "id: 1-0\nevent: order.updated\ndata: {\"a\":1}\n\n");
}

TEST(Encoder, EmptyTypeOmitsEventLine) {
    EXPECT_EQ(encode_event("5-2", "", "x"), "id: 5-2\ndata: x\n\n");
}

TEST(Encoder, EmptyDataStillDispatches) {
    EXPECT_EQ(encode_event("1-0", "t", ""), "id: 1-0\nevent: t\ndata: \n\n");
}

TEST(Encoder, MultiLineDataBecomesSeveralDataLines) {
    EXPECT_EQ(encode_event("1-0", "t", "a\nb\r\nc\rd"),
              "id: 1-0\nevent: t\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
}

TEST(Encoder, TrailingNewlineKeepsEmptyLastLine) {
    EXPECT_EQ(encode_event("1-0", "t", "a\n"), "id: 1-0\nevent: t\ndata: a\ndata: \n\n");
}

TEST(Encoder, DataCannotInjectFieldsOrEvents) {
    const std::string frame = encode_event("1-0", "t", "x\n\nevent: evil\nid: 999-0\n\ndata: y");
    // Every line of the frame body is a data line; the only blank line is the terminator.
    EXPECT_EQ(frame, "id: 1-0\nevent: t\ndata: x\ndata: \ndata: event: evil\ndata: id: 999-0\n"
                     "data: \ndata: data: y\n\n");
}

TEST(Encoder, TypeAndIdLoseLineBreaks) {
    EXPECT_EQ(encode_event("1\n-0", "a\r\nevent: b", "d"),
              "id: 1-0\nevent: aevent: b\ndata: d\n\n");
    EXPECT_TRUE(has_line_break("a\nb"));
    EXPECT_TRUE(has_line_break(std::string_view("a\0b", 3)));
    EXPECT_FALSE(has_line_break("ab"));
}

TEST(Encoder, Retry) {
    EXPECT_EQ(encode_retry(std::chrono::milliseconds(2500)), "retry: 2500\n\n");
}

TEST(EventId, ParseAndFormat) {
    auto id = EventId::parse("1700000000000-42");
    ASSERT_TRUE(id);
    EXPECT_EQ(id->ms, 1700000000000u);
    EXPECT_EQ(id->seq, 42u);
    EXPECT_EQ(id->str(), "1700000000000-42");
    EXPECT_EQ(EventId::parse("17")->seq, 0u);
    EXPECT_FALSE(EventId::parse(""));
    EXPECT_FALSE(EventId::parse("abc"));
    EXPECT_FALSE(EventId::parse("1-"));
    EXPECT_FALSE(EventId::parse("-1"));
    EXPECT_FALSE(EventId::parse("1-2-3"));
    EXPECT_FALSE(EventId::parse("99999999999999999999999-0"));
}

TEST(EventId, OrdersNumericallyNotLexically) {
    EXPECT_LT(*EventId::parse("9-0"), *EventId::parse("10-0"));
    EXPECT_LT(*EventId::parse("10-9"), *EventId::parse("10-10"));
}

TEST(EventIdGenerator, StrictlyIncreasingEvenWhenClockStepsBack) {
    EventIdGenerator gen;
    const EventId a = gen.next(1000);
    const EventId b = gen.next(1000);
    const EventId c = gen.next(900); // clock stepped back
    const EventId d = gen.next(1001);
    EXPECT_LT(a, b);
    EXPECT_LT(b, c);
    EXPECT_LT(c, d);
    gen.raise_floor(EventId{5000, 3});
    EXPECT_EQ(gen.next(1002), (EventId{5000, 4}));
}

TEST(Encoder, ControlCharacters) {
    EXPECT_TRUE(has_control_character("a\x1b[31m"));
    EXPECT_TRUE(has_control_character("a\x07"));
    EXPECT_TRUE(has_control_character("a\x7f"));
    EXPECT_TRUE(has_control_character("a\xc2\x85")); // U+0085 NEL
    EXPECT_FALSE(has_control_character("order.updated"));
    EXPECT_FALSE(has_control_character("caf\xc3\xa9")); // é is fine
    EXPECT_FALSE(has_control_character("\xc2\xa0"));    // U+00A0 is not a control
}
