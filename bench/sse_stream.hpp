// SPDX-License-Identifier: MIT
// Client side of one SSE response: HTTP/1.1 response head, optional chunked transfer
// coding, then the event-stream grammar (CR, LF or CRLF line ends; data/event fields).
// @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace ssecast::bench {

/// Incremental parser for one SSE response. Feed it bytes as they arrive; it calls
/// `on_event(type, data)` once per dispatched event (type "" means "message").
/// Not thread-safe. Owns only small carry-over buffers (partial line, current data).
class SseStream {
  public:
    enum class State { head, body, failed };

    /// Parses `n` bytes. Returns the state after them; `failed` means a non-200 answer or
    /// a malformed head/chunk (the caller closes the connection).
    template <class OnEvent> State feed(const char* p, std::size_t n, OnEvent&& on_event) {
        if (state_ == State::head) {
            const std::size_t old = head_.size();
            head_.append(p, n);
            auto end = head_.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
            if (end == std::string::npos) {
                if (head_.size() > 65536) {
                    state_ = State::failed;
                }
                return state_;
            }
            if (!parse_head(std::string_view(head_).substr(0, end))) {
                state_ = State::failed;
                return state_;
            }
            std::string rest = head_.substr(end + 4);
            head_.clear();
            head_.shrink_to_fit();
            state_ = State::body;
            feed_body(rest.data(), rest.size(), on_event);
            return state_;
        }
        if (state_ == State::body) {
            feed_body(p, n, on_event);
        }
        return state_;
    }
    [[nodiscard]] State state() const { return state_; }
    [[nodiscard]] int status() const { return status_; }

  private:
    bool parse_head(std::string_view head) {
        // "HTTP/1.1 200 OK"
        if (head.size() < 12 || head.substr(0, 5) != "HTTP/") {
            return false;
        }
        status_ = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
        std::string lower(head);
        std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
            return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
        });
        chunked_ = lower.find("\r\ntransfer-encoding: chunked") != std::string::npos ||
                   lower.find("\r\ntransfer-encoding:chunked") != std::string::npos;
        return status_ == 200;
    }

    template <class F> void feed_body(const char* p, std::size_t n, F& f) {
        if (!chunked_) {
            feed_sse(p, n, f);
            return;
        }
        const char* end = p + n;
        while (p < end && state_ == State::body) {
            switch (chunk_) {
            case Chunk::size: {
                const char* nl = std::find(p, end, '\n');
                chunk_line_.append(p, nl);
                if (nl == end) {
                    return;
                }
                p = nl + 1;
                std::size_t size = 0;
                bool any = false;
                for (char c : chunk_line_) {
                    int d = (c >= '0' && c <= '9')   ? c - '0'
                            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                     : -1;
                    if (d < 0) {
                        break;
                    }
                    any = true;
                    size = size * 16 + static_cast<std::size_t>(d);
                }
                chunk_line_.clear();
                if (!any) {
                    state_ = State::failed;
                    return;
                }
                if (size == 0) { // last chunk: the stream ended
                    state_ = State::failed;
                    return;
                }
                chunk_left_ = size;
                chunk_ = Chunk::data;
                break;
            }
            case Chunk::data: {
                const std::size_t take = std::min(chunk_left_, static_cast<std::size_t>(end - p));
                feed_sse(p, take, f);
                p += take;
                chunk_left_ -= take;
                if (chunk_left_ == 0) {
                    chunk_ = Chunk::crlf;
                }
                break;
            }
            case Chunk::crlf:
                if (*p == '\n') {
                    chunk_ = Chunk::size;
                }
                ++p;
                break;
            }
        }
    }

    template <class F> void feed_sse(const char* p, std::size_t n, F& f) {
        const char* end = p + n;
        while (p < end) {
            if (skip_lf_) {
                skip_lf_ = false;
                if (*p == '\n') {
                    ++p;
                    continue;
                }
            }
            const char* eol = std::find_if(p, end, [](char c) { return c == '\n' || c == '\r'; });
            if (eol == end) {
                line_.append(p, end);
                return;
            }
            if (line_.empty()) {
                on_line(std::string_view(p, static_cast<std::size_t>(eol - p)), f);
            } else {
                line_.append(p, eol);
                on_line(line_, f);
                line_.clear();
            }
            skip_lf_ = *eol == '\r';
            p = eol + 1;
        }
    }

    template <class F> void on_line(std::string_view line, F& f) {
        if (line.empty()) {
            if (has_data_) {
                f(std::string_view(type_), std::string_view(data_));
            }
            has_data_ = false;
            data_.clear();
            type_.clear();
            return;
        }
        if (line[0] == ':') {
            return; // comment (heartbeat)
        }
        auto colon = line.find(':');
        std::string_view field = line.substr(0, colon);
        std::string_view value;
        if (colon != std::string_view::npos) {
            value = line.substr(colon + 1);
            if (!value.empty() && value[0] == ' ') {
                value.remove_prefix(1);
            }
        }
        if (field == "data") {
            if (has_data_) {
                data_ += '\n';
            }
            data_.append(value);
            has_data_ = true;
        } else if (field == "event") {
            type_.assign(value);
        }
        // id and retry are not needed by the load tool.
    }

    enum class Chunk { size, data, crlf };
    State state_ = State::head;
    int status_ = 0;
    bool chunked_ = false;
    bool skip_lf_ = false;
    bool has_data_ = false;
    Chunk chunk_ = Chunk::size;
    std::size_t chunk_left_ = 0;
    std::string head_;
    std::string chunk_line_;
    std::string line_;
    std::string data_;
    std::string type_;
};

} // namespace ssecast::bench
