// SPDX-License-Identifier: MIT
// Boost.JSON compiled into the fuzz build (instrumented) instead of linking libboost_json.
#include <boost/json/src.hpp>
