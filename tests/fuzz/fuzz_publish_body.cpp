// SPDX-License-Identifier: MIT
// The one publish body validator (publish::parse_body, used by POST /publish and the Redis
// ingest list): any body gives a batch or a refusal, never a crash; an accepted batch
// satisfies every rule it promises; HTTP's parse_publish (publish key: may publish
// anywhere) agrees with it exactly.
#include "fuzz_split.hpp"
#include "http/publish_request.hpp"
#include "hub/topic.hpp"
#include "publish/lossless_json.hpp"
#include "publish/publish_body.hpp"
#include "sse/encoder.hpp"

namespace {
constexpr ssecast::publish::Limits kLimits{3000, 1024};
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
    ssecast::publish::Body batch;
    const auto refusal = ssecast::publish::parse_body(body, kLimits, batch);

    ssecast::http::PublishBatch via_http;
    const auto failure = ssecast::http::parse_publish(body, kLimits, anyone, via_http);
    if (refusal.has_value() != failure.has_value() ||
        (refusal && (refusal->code != failure->code || refusal->message != failure->message))) {
        fail("HTTP and the shared validator disagree");
    }
    if (refusal) {
        if (refusal->message.empty()) {
            fail("a refusal without a message");
        }
        return 0;
    }
    if (body.size() > kLimits.max_body_bytes) {
        fail("accepted a body over max_body_bytes");
    }
    if (ssecast::publish::find_lossy_part(body)) {
        fail("accepted a number a double changes, or a key written twice in one object");
    }
    if (batch.drafts.empty() || batch.drafts.size() > ssecast::publish::kMaxEventsPerBody) {
        fail("accepted batch size out of range");
    }
    if (!batch.array && batch.drafts.size() != 1) {
        fail("an object body gave several drafts");
    }
    for (const auto& d : batch.drafts) {
        if (d.topics.empty() || d.data.size() > kLimits.max_event_bytes) {
            fail("accepted a draft without topics or over max_event_bytes");
        }
        for (const auto& t : d.topics) {
            if (!ssecast::hub::is_valid_topic(t)) {
                fail("accepted an invalid topic");
            }
        }
        if (d.type.empty() || d.type.size() > 200 || ssecast::sse::has_control_character(d.type)) {
            fail("accepted an invalid type");
        }
    }
    return 0;
}
