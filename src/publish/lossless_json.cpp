// SPDX-License-Identifier: MIT
// A second pass over a publish body with Boost.JSON's SAX parser, which sees what its DOM
// drops: the text of each number (compared with the double's form) and every key of an
// object (a duplicate is kept once in the DOM).
#include "publish/lossless_json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace ssecast::publish {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxQuoted = 40;
constexpr std::int64_t kExponentCap = 1'000'000'000'000; // saturate: no overflow below

/// A JSON number as sign × digits × 10^exponent, digits without leading/trailing zeros.
struct Decimal {
    bool negative = false;
    std::string digits; ///< empty = zero
    std::int64_t exponent = 0;
};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::optional<Decimal> normalize(std::string_view s) {
    Decimal d;
    std::size_t i = 0;
    if (i < s.size() && s[i] == '-') {
        d.negative = true;
        ++i;
    }
    const std::size_t int_start = i;
    while (i < s.size() && is_digit(s[i])) {
        d.digits.push_back(s[i++]);
    }
    if (i == int_start) {
        return std::nullopt;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && is_digit(s[i])) {
            d.digits.push_back(s[i++]);
            --d.exponent;
        }
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        bool negative = false;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
            negative = s[i] == '-';
            ++i;
        }
        std::int64_t e = 0;
        while (i < s.size() && is_digit(s[i])) {
            e = std::min<std::int64_t>(kExponentCap, e * 10 + (s[i++] - '0'));
        }
        d.exponent += negative ? -e : e;
    }
    if (i != s.size()) {
        return std::nullopt;
    }
    const auto first = d.digits.find_first_not_of('0');
    if (first == std::string::npos) {
        d.digits.clear();
        return d;
    }
    d.digits.erase(0, first);
    while (d.digits.back() == '0') {
        d.digits.pop_back();
        ++d.exponent;
    }
    return d;
}

/// `s` cut to at most kMaxQuoted bytes, never inside a UTF-8 sequence.
std::string quoted_part(std::string_view s) {
    if (s.size() <= kMaxQuoted) {
        return std::string(s);
    }
    std::size_t cut = kMaxQuoted;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) {
        --cut;
    }
    return std::string(s.substr(0, cut));
}

/// SAX handler: remembers the first lossy part and where it is, then stops the parse.
class Scanner {
  public:
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

    std::optional<LossyPart> found;

    Scanner() {
        // Room for a typical event up front: a growing vector reallocates on each body.
        keys_.reserve(16);
        objects_.reserve(4);
    }

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_array_begin(json::error_code&) {
        if (depth_ == 0) {
            root_array_ = true;
        }
        value_begins();
        ++depth_;
        return true;
    }
    bool on_array_end(std::size_t, json::error_code&) {
        --depth_;
        return true;
    }
    bool on_object_begin(json::error_code&) {
        // An event object is the root or an element of the root array; deeper is `data`.
        const bool event_object = depth_ == 0 || (root_array_ && depth_ == 1);
        value_begins();
        objects_.push_back(Object{keys_.size(), !event_object});
        ++depth_;
        return true;
    }
    bool on_object_end(std::size_t, json::error_code& ec) {
        --depth_;
        const Object object = objects_.back();
        objects_.pop_back();
        // Sorting this object's keys (the last ones on keys_) finds a pair in O(k log k).
        const auto first = keys_.begin() + static_cast<std::ptrdiff_t>(object.first_key);
        std::sort(first, keys_.end());
        if (const auto twice = std::adjacent_find(first, keys_.end()); twice != keys_.end()) {
            return stop(LossyPart::Kind::duplicate_key, *twice, object.in_data, ec);
        }
        keys_.erase(first, keys_.end());
        return true;
    }
    bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_string(json::string_view, std::size_t, json::error_code&) {
        value_begins();
        return true;
    }
    bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
        key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(json::string_view s, std::size_t, json::error_code&) {
        key_.append(s.data(), s.size());
        keys_.push_back(std::move(key_));
        key_.clear();
        return true;
    }
    bool on_number_part(json::string_view s, json::error_code&) {
        number_.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t, json::string_view, json::error_code&) { return scalar(); }
    bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return scalar(); }
    bool on_double(double d, json::string_view s, json::error_code& ec) {
        value_begins();
        number_.append(s.data(), s.size());
        const bool exact =
            std::isfinite(d) && same_decimal(number_, json::serialize(json::value(d)));
        if (!exact) {
            return stop(LossyPart::Kind::inexact_number, number_, true, ec);
        }
        number_.clear();
        return true;
    }
    bool on_bool(bool, json::error_code&) { return scalar(); }
    bool on_null(json::error_code&) { return scalar(); }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }

  private:
    /// One open object: where its keys start on keys_, and whether it is inside `data`.
    struct Object {
        std::size_t first_key;
        bool in_data;
    };

    bool stop(LossyPart::Kind kind, std::string_view text, bool in_data, json::error_code& ec) {
        found = LossyPart{kind, quoted_part(text), std::nullopt, in_data};
        if (root_array_) {
            found->element = element_ - 1;
        }
        ec = json::error::exception; // any code: it only stops the parse
        return false;
    }
    bool scalar() {
        value_begins();
        number_.clear();
        return true;
    }
    /// Counts the elements of a root array (a value that starts at depth 1).
    void value_begins() {
        if (root_array_ && depth_ == 1) {
            ++element_;
        }
    }

    std::size_t depth_ = 0;
    bool root_array_ = false;
    std::size_t element_ = 0;
    std::string number_;            ///< the text of the number being read (it may come in parts)
    std::string key_;               ///< the key being read (it may come in parts)
    std::vector<std::string> keys_; ///< the keys of every open object, innermost last
    std::vector<Object> objects_;   ///< the open objects, innermost last
};

} // namespace

bool same_decimal(std::string_view written, std::string_view shortest) {
    const auto a = normalize(written);
    const auto b = normalize(shortest);
    if (!a || !b) {
        return false;
    }
    if (a->digits.empty() || b->digits.empty()) {
        return a->digits.empty() && b->digits.empty(); // -0 and 0 are the same number
    }
    return a->negative == b->negative && a->digits == b->digits && a->exponent == b->exponent;
}

std::optional<LossyPart> find_lossy_part(std::string_view text) {
    json::basic_parser<Scanner> parser(json::parse_options{});
    json::error_code ec;
    parser.write_some(false, text.data(), text.size(), ec);
    return std::move(parser.handler().found);
}

} // namespace ssecast::publish
