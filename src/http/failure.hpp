// SPDX-License-Identifier: MIT
// An expected failure with a sentence for the client ("topics[2]: invalid topic name").
#pragma once

#include "common/errc.hpp"

#include <string>

namespace ssecast::http {

/// Returned (never thrown) by request validation; error_reply() turns it into a response.
struct Failure {
    errc code = errc::bad_request;
    std::string message;
};

} // namespace ssecast::http
