// src/engine/latency_histogram.hpp - request latency percentiles in constant memory.
#pragma once

#include <dynjobs/fetch_stats.hpp>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>

namespace dynjobs::detail {

/// Log-scale buckets, 25 per doubling (about 2.8% apart), from 1 us to about 19 hours.
class latency_histogram {
public:
    void record(std::chrono::microseconds latency) noexcept {
        const auto us = static_cast<double>(std::max<std::int64_t>(latency.count(), 1));
        const auto index = static_cast<std::size_t>(std::log2(us) * per_doubling);
        ++buckets_[std::min(index, buckets_.size() - 1)];
        ++count_;
        max_ = std::max(max_, latency);
    }

    latency_summary summary() const noexcept {
        latency_summary s;
        s.count = count_;
        s.max = max_;
        s.p50 = percentile(0.50);
        s.p90 = percentile(0.90);
        s.p99 = percentile(0.99);
        return s;
    }

private:
    static constexpr double per_doubling = 25;

    std::chrono::microseconds percentile(double q) const noexcept {
        if (count_ == 0)
            return {};
        const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < buckets_.size(); ++i) {
            seen += buckets_[i];
            if (seen >= rank) // report the bucket's upper edge, capped by the true maximum
                return std::min(max_, std::chrono::microseconds{static_cast<std::int64_t>(
                                          std::exp2(static_cast<double>(i + 1) / per_doubling))});
        }
        return max_;
    }

    std::array<std::uint64_t, 1'024> buckets_{};
    std::uint64_t count_ = 0;
    std::chrono::microseconds max_{0};
};

} // namespace dynjobs::detail
