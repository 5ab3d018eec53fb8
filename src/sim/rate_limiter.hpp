// src/sim/rate_limiter.hpp - per-client token buckets for the simulator's real rate limit.
#pragma once

#include <dynjobs/sim/rate_limit_config.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dynjobs::sim {

/// A token bucket and a fixed-window quota per client id. Time is passed in, so tests need no
/// sleeps.
///
/// A new client starts with a full bucket, and its first window. Each admitted request takes
/// one token and one request of the window's quota; tokens refill continuously at
/// requests_per_second up to burst, the quota at each window's end. A refused request takes
/// nothing.
///
/// Thread safety: try_acquire() may be called concurrently (internal mutex).
class rate_limiter {
public:
    using clock = std::chrono::steady_clock;

    explicit rate_limiter(rate_limit_config config = {});

    /// Admits the request (nullopt) or says how long until the client's bucket holds a token, or
    /// until its quota window renews (exact, rounded up to the next millisecond, at least 1 ms).
    /// Rounding up to whole seconds for a Retry-After header is the caller's job. `now` must not go
    /// backwards per client (a smaller value is treated as no time passing).
    std::optional<std::chrono::milliseconds> try_acquire(std::string_view client,
                                                         clock::time_point now);

    /// Forgets every client (all buckets full again).
    void reset();

    const rate_limit_config& config() const noexcept { return config_; }

private:
    struct bucket {
        double tokens = 0;
        clock::time_point last{};
        clock::time_point window_start{};
        std::uint64_t window_used = 0;
    };
    rate_limit_config config_;
    std::mutex mutex_;
    std::unordered_map<std::string, bucket> buckets_;
};

} // namespace dynjobs::sim
