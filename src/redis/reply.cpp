// SPDX-License-Identifier: MIT
// Copying hiredis replies.
#include "redis/reply.hpp"

#include <hiredis/hiredis.h>

namespace ssecast::redis {

Reply Reply::from(const redisReply* r) {
    Reply out;
    if (r == nullptr) {
        return out;
    }
    switch (r->type) {
    case REDIS_REPLY_STATUS:
        out.type = Type::status;
        out.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ERROR:
        out.type = Type::error;
        out.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_STRING:
        out.type = Type::string;
        out.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER:
        out.type = Type::integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_ARRAY:
        out.type = Type::array;
        out.elements.reserve(r->elements);
        for (std::size_t i = 0; i < r->elements; ++i) {
            out.elements.push_back(from(r->element[i]));
        }
        break;
    default:
        break; // REDIS_REPLY_NIL
    }
    return out;
}

} // namespace ssecast::redis
