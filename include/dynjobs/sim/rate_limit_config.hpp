// dynjobs/sim/rate_limit_config.hpp - the rate limit a simulator applies to each client.
#pragma once

#include <chrono>
#include <cstdint>

namespace dynjobs::sim {

/// The rate limit each client gets: a token bucket, a fixed-window quota, or both. Default: off.
struct rate_limit_config {
    /// Sustained requests per second per client; 0 turns the limiter off (every request admitted).
    double requests_per_second = 0;
    /// Bucket capacity: how many requests a client may send at once after being idle. 10 lets a
    /// client open a handful of concurrent pages before being throttled. Values below 1 count as 1.
    double burst = 10;
    /// Requests per client in each `quota_window`, counted from the client's first request;
    /// past it every request is refused until the window renews, with a Retry-After to its end,
    /// as API gateways' quotas do (Azure API Management's `quota`, a daily allowance). A
    /// refused request counts in neither limit. 0 turns the quota off.
    std::uint64_t quota = 0;
    /// One minute: the shortest renewal period gateways commonly offer.
    std::chrono::seconds quota_window{60};
};

} // namespace dynjobs::sim
