// SPDX-License-Identifier: MIT
// One stderr logger for the whole process, as text lines or as JSON objects (log.format).
#include "common/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <string>

namespace ssecast {

namespace {

constexpr const char* kTimePattern = "%Y-%m-%dT%H:%M:%S.%e";

/// Appends `s` as the inside of a JSON string: quotes, backslashes and control characters
/// escaped, invalid UTF-8 bytes replaced by U+FFFD, so every record parses as JSON.
void append_json_escaped(std::string_view s, spdlog::memory_buf_t& out) {
    constexpr char kHex[] = "0123456789abcdef";
    auto put = [&out](std::string_view t) { out.append(t.data(), t.data() + t.size()); };
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
            ++i;
        } else if (c == '\n') {
            put("\\n");
            ++i;
        } else if (c == '\t') {
            put("\\t");
            ++i;
        } else if (c < 0x20 || c == 0x7f) {
            put("\\u00");
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
            ++i;
        } else if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++i;
        } else {
            // A UTF-8 sequence: lead byte gives the length, every other byte is 10xxxxxx.
            const std::size_t len = c >= 0xf0 && c <= 0xf4   ? 4
                                    : c >= 0xe0              ? 3
                                    : c >= 0xc2 && c <= 0xdf ? 2
                                                             : 0;
            bool ok = len > 0 && i + len <= s.size() && c < 0xf5;
            for (std::size_t k = 1; ok && k < len; ++k) {
                ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
            }
            if (ok) {
                put(s.substr(i, len));
                i += len;
            } else {
                put("\\ufffd");
                ++i;
            }
        }
    }
}

/// log.format = "json": one object per line with the fields of the text format (time,
/// level, thread, message), the time and level spelled exactly as the text format does.
class JsonFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        auto put = [&dest](std::string_view t) { dest.append(t.data(), t.data() + t.size()); };
        put("{\"time\":\"");
        time_.format(msg, dest);
        put("\",\"level\":\"");
        const auto level = spdlog::level::to_string_view(msg.level);
        put(std::string_view(level.data(), level.size()));
        put("\",\"thread\":");
        put(std::to_string(msg.thread_id));
        put(",\"message\":\"");
        append_json_escaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
        put("\"}\n");
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>();
    }

  private:
    spdlog::pattern_formatter time_{kTimePattern, spdlog::pattern_time_type::local, ""};
};

} // namespace

void init_logging(std::string_view level, std::string_view format) {
    auto logger = spdlog::stderr_logger_mt("ssecast");
    if (format == "json") {
        logger->set_formatter(std::make_unique<JsonFormatter>());
    } else {
        logger->set_pattern(std::string(kTimePattern) + " %^%l%$ [%t] %v");
    }
    logger->set_level(spdlog::level::from_str(std::string(level)));
    spdlog::set_default_logger(logger);
}

} // namespace ssecast
