// src/sim/rate_limiter.cpp - per-client token buckets.
#include "sim/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace dynjobs::sim {

rate_limiter::rate_limiter(rate_limit_config config)
    : config_(config) {}

std::optional<std::chrono::milliseconds> rate_limiter::try_acquire(std::string_view client,
                                                                   clock::time_point now) {
    if (config_.requests_per_second <= 0) {
        return std::nullopt;
    }
    const double capacity = std::max(1.0, config_.burst);
    const double rate = config_.requests_per_second;

    const std::lock_guard lock{mutex_};
    auto it = buckets_.find(std::string{client});
    if (it == buckets_.end()) {
        it = buckets_.emplace(std::string{client}, bucket{capacity, now}).first;
    }
    bucket& b = it->second;
    if (now > b.last) {
        const std::chrono::duration<double> elapsed = now - b.last;
        b.tokens = std::min(capacity, b.tokens + elapsed.count() * rate);
        b.last = now;
    }
    // A hair of tolerance so that refills computed in floating point (0.1 s at 10/s) count.
    if (b.tokens >= 1.0 - 1e-9) {
        b.tokens = std::max(0.0, b.tokens - 1.0);
        return std::nullopt;
    }
    const double wait_ms = (1.0 - b.tokens) / rate * 1000.0;
    return std::chrono::milliseconds{
        std::max<long long>(1, std::llround(std::ceil(wait_ms - 1e-6)))};
}

void rate_limiter::reset() {
    const std::lock_guard lock{mutex_};
    buckets_.clear();
}

} // namespace dynjobs::sim
