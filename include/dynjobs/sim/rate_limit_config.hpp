// dynjobs/sim/rate_limit_config.hpp - the rate limit a simulator applies to each client.
#pragma once

namespace dynjobs::sim {

/// The rate limit each client gets. Default: off.
struct rate_limit_config {
    /// Sustained requests per second per client; 0 turns the limiter off (every request admitted).
    double requests_per_second = 0;
    /// Bucket capacity: how many requests a client may send at once after being idle. 10 lets a
    /// client open a handful of concurrent pages before being throttled. Values below 1 count as 1.
    double burst = 10;
};

} // namespace dynjobs::sim
