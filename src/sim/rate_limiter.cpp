// src/sim/rate_limiter.cpp - per-client token buckets.
#include "sim/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace dynjobs::sim {

rate_limiter::rate_limiter(rate_limit_config config)
    : config_(config) {}

namespace {
std::chrono::milliseconds at_least_1ms(double wait_ms) {
    return std::chrono::milliseconds{
        std::max<long long>(1, std::llround(std::ceil(wait_ms - 1e-6)))};
}
} // namespace

std::optional<std::chrono::milliseconds> rate_limiter::try_acquire(std::string_view client,
                                                                   clock::time_point now) {
    const double rate = config_.requests_per_second;
    const bool quota = config_.quota > 0 && config_.quota_window.count() > 0;
    if (rate <= 0 && !quota) {
        return std::nullopt;
    }
    const double capacity = std::max(1.0, config_.burst);

    const std::lock_guard lock{mutex_};
    auto it = buckets_.find(std::string{client});
    if (it == buckets_.end()) {
        it = buckets_.emplace(std::string{client}, bucket{capacity, now, now, 0}).first;
    }
    bucket& b = it->second;
    if (now > b.last) {
        const std::chrono::duration<double> elapsed = now - b.last;
        b.tokens = std::min(capacity, b.tokens + elapsed.count() * rate);
        b.last = now;
    }
    if (quota) {
        const auto windows = (now - b.window_start) / config_.quota_window;
        if (windows > 0) {
            b.window_start += windows * config_.quota_window;
            b.window_used = 0;
        }
        if (b.window_used >= config_.quota) {
            const std::chrono::duration<double, std::milli> left =
                b.window_start + config_.quota_window - now;
            return at_least_1ms(left.count());
        }
    }
    // A hair of tolerance so that refills computed in floating point (0.1 s at 10/s) count.
    if (rate > 0 && b.tokens < 1.0 - 1e-9) {
        return at_least_1ms((1.0 - b.tokens) / rate * 1000.0);
    }
    b.tokens = std::max(0.0, b.tokens - 1.0);
    ++b.window_used;
    return std::nullopt;
}

void rate_limiter::reset() {
    const std::lock_guard lock{mutex_};
    buckets_.clear();
}

} // namespace dynjobs::sim
