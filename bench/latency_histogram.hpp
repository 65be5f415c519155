// SPDX-License-Identifier: MIT
// Log-linear latency histogram (µs): exact below 1024 µs, 512 sub-buckets per power of two
// above (< 0.2 % error). Mergeable across worker processes through a one-line text form.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ssecast::bench {

/// Counts of latencies in µs. Not thread-safe; one per worker, merged by the parent.
class LatencyHistogram {
  public:
    static constexpr std::uint64_t kLinear = 1024;
    static constexpr std::uint64_t kSub = 512;
    static constexpr int kMaxExp = 40;

    LatencyHistogram() : counts_((kMaxExp - 9) * kSub + kLinear, 0) {}

    /// Records one latency; values past 2^40 µs are clamped.
    void add(std::uint64_t us) {
        us = std::min<std::uint64_t>(us, (std::uint64_t{1} << kMaxExp) - 1);
        ++counts_[index(us)];
        ++total_;
        max_ = std::max(max_, us);
    }
    [[nodiscard]] std::uint64_t total() const { return total_; }
    [[nodiscard]] std::uint64_t max() const { return max_; }

    /// The value below which a fraction `p` (0..1) of the samples lie; 0 when empty.
    [[nodiscard]] std::uint64_t percentile(double p) const {
        if (total_ == 0) {
            return 0;
        }
        auto rank = static_cast<std::uint64_t>(p * static_cast<double>(total_));
        rank = std::clamp<std::uint64_t>(rank, 1, total_);
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= rank) {
                return std::min(value(i), max_);
            }
        }
        return max_;
    }

    /// "max i:c i:c ..." (non-zero buckets only).
    [[nodiscard]] std::string serialize() const {
        std::string out = std::to_string(max_);
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            if (counts_[i] != 0) {
                out += ' ';
                out += std::to_string(i);
                out += ':';
                out += std::to_string(counts_[i]);
            }
        }
        return out;
    }

    /// Adds the counts of a serialize()d histogram; ignores malformed tokens.
    void merge(std::string_view text) {
        std::size_t pos = 0;
        bool first = true;
        while (pos < text.size()) {
            auto end = text.find(' ', pos);
            if (end == std::string_view::npos) {
                end = text.size();
            }
            auto tok = text.substr(pos, end - pos);
            pos = end + 1;
            if (first) {
                first = false;
                std::uint64_t m = 0;
                std::from_chars(tok.data(), tok.data() + tok.size(), m);
                max_ = std::max(max_, m);
                continue;
            }
            auto colon = tok.find(':');
            if (colon == std::string_view::npos) {
                continue;
            }
            std::size_t i = 0;
            std::uint64_t c = 0;
            std::from_chars(tok.data(), tok.data() + colon, i);
            std::from_chars(tok.data() + colon + 1, tok.data() + tok.size(), c);
            if (i < counts_.size()) {
                counts_[i] += c;
                total_ += c;
            }
        }
    }

  private:
    static std::size_t index(std::uint64_t v) {
        if (v < kLinear) {
            return static_cast<std::size_t>(v);
        }
        const int e = 63 - __builtin_clzll(v); // >= 10
        const auto shift = static_cast<unsigned>(e - 9);
        return static_cast<std::size_t>(kLinear + static_cast<std::uint64_t>(e - 10) * kSub +
                                        ((v >> shift) & (kSub - 1)));
    }
    static std::uint64_t value(std::size_t i) {
        if (i < kLinear) {
            return i;
        }
        const std::uint64_t k = i - kLinear;
        const auto shift = static_cast<unsigned>(k / kSub + 1); // e - 9
        const std::uint64_t sub = k % kSub;
        return ((kSub + sub) << shift) + ((std::uint64_t{1} << shift) / 2);
    }

    std::vector<std::uint64_t> counts_;
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

} // namespace ssecast::bench
