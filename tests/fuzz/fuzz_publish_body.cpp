// SPDX-License-Identifier: MIT
// parse_publish with a publish key's identity (may publish anywhere): any body gives a
// batch or a Failure, never a crash; an accepted batch satisfies every rule it promises.
#include "fuzz_split.hpp"
#include "http/publish_request.hpp"
#include "hub/topic.hpp"
#include "sse/encoder.hpp"

namespace {
constexpr std::size_t kMaxEventBytes = 4096;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using ssecast::fuzz::fail;
    static const ssecast::auth::Identity anyone = [] {
        ssecast::auth::Identity id;
        id.user_id = "publish-key:0";
        id.publish.reset(); // nullopt: may publish to any topic
        return id;
    }();
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    ssecast::http::PublishBatch batch;
    const auto failure = ssecast::http::parse_publish(body, kMaxEventBytes, anyone, batch);
    if (failure) {
        if (failure->message.empty()) {
            fail("a failure without a message");
        }
        return 0;
    }
    if (batch.drafts.empty() || batch.drafts.size() > ssecast::http::kMaxEventsPerPublish) {
        fail("accepted batch size out of range");
    }
    if (!batch.array && batch.drafts.size() != 1) {
        fail("an object body gave several drafts");
    }
    for (const auto& d : batch.drafts) {
        if (d.topics.empty() || d.data.size() > kMaxEventBytes) {
            fail("accepted a draft without topics or over max_event_bytes");
        }
        for (const auto& t : d.topics) {
            if (!ssecast::hub::is_valid_topic(t)) {
                fail("accepted an invalid topic");
            }
        }
        if (d.type.empty() || d.type.size() > 200 || ssecast::sse::has_line_break(d.type)) {
            fail("accepted an invalid type");
        }
    }
    return 0;
}
