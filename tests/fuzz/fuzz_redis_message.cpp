// SPDX-License-Identifier: MIT
// What the events channel (or a stream entry) hands an instance: "<id> <event JSON>", from
// anyone with Redis access. An accepted id is within the bound that keeps the id floor sane
// and survives a format/parse round trip; an accepted body follows the publish rules and
// survives encode_stored/decode_stored.
#include "fuzz_split.hpp"
#include "hub/topic.hpp"
#include "publish/publish_body.hpp"
#include "redis/event_codec.hpp"
#include "redis/id_check.hpp"

#include <limits>

namespace {
constexpr std::uint64_t kNow = 1'800'000'000'000; // a fixed wall clock (Unix ms)
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ssecast;
    using fuzz::fail;
    const std::string_view payload(reinterpret_cast<const char*>(data), size);
    const auto lead = static_cast<std::uint64_t>(redis::kMaxIdLead.count());

    // The bare id check, also at the edge of the clock (no overflow in now + lead).
    for (const std::uint64_t now : {kNow, std::numeric_limits<std::uint64_t>::max()}) {
        const auto c = redis::check_redis_id(payload, now);
        if (c.verdict == redis::IdVerdict::ok &&
            (c.id.seq > redis::kMaxIdSeq || (now == kNow && c.id.ms > kNow + lead))) {
            fail("accepted an id past the bound");
        }
    }

    const auto msg = redis::parse_channel_message(payload, kNow);
    if (msg.id.verdict != redis::IdVerdict::ok) {
        if (!msg.body.empty()) {
            fail("a refused message still has a body");
        }
        return 0;
    }
    const auto id = msg.id.id;
    if (id.ms > kNow + lead || id.seq > redis::kMaxIdSeq) {
        fail("accepted an id past the bound");
    }
    const auto again = redis::check_redis_id(id.str(), kNow);
    if (again.verdict != redis::IdVerdict::ok || again.id != id) {
        fail("an accepted id does not survive str() and the check");
    }
    if (msg.body != payload.substr(payload.find(' ') + 1)) {
        fail("the body is not what follows the first space");
    }
    const auto stored = redis::decode_stored(msg.body);
    if (!stored) {
        return 0;
    }
    if (!publish::is_valid_type(stored->draft.type) || stored->draft.topics.empty()) {
        fail("decoded an event the publish rules refuse");
    }
    for (const auto& t : stored->draft.topics) {
        if (!hub::is_valid_topic(t)) {
            fail("decoded an invalid topic");
        }
    }
    const auto back = redis::decode_stored(redis::encode_stored(stored->draft, 1));
    if (!back || back->draft.type != stored->draft.type ||
        back->draft.topics != stored->draft.topics || back->draft.users != stored->draft.users ||
        back->draft.data != stored->draft.data) {
        fail("decode_stored/encode_stored do not round-trip");
    }
    return 0;
}
