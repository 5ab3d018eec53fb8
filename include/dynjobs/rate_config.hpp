// dynjobs/rate_config.hpp - how fast a client may send requests to the API host.
#pragma once

#include <chrono>
#include <cstddef>

// Named in the `policy` namespace of the engine code that applies it (src/policy/host_gate.hpp).
namespace dynjobs::policy {

/// Settings of the gate in front of a host. One gate per origin, shared by every fetch.
struct rate_config {
    /// Most requests in flight to the host. 32 hides ~50 ms of latency at thousands of pages/s
    /// while staying polite to a shared API; the adaptive limit moves below it on 429s.
    std::size_t max_in_flight = 32;
    /// The adaptive limit never drops below this.
    std::size_t min_in_flight = 1;
    /// Fixed ceiling in requests per second, 0 for none (the server's 429s then set the pace).
    double max_requests_per_second = 0;
    /// On a 429 the in-flight limit is multiplied by this ...
    double decrease_factor = 0.5;
    /// ... at most once per interval, so that one burst of 429s (all sent before the first came
    /// back) counts as one signal. Each success then adds 1/limit: +1 per round trip.
    std::chrono::milliseconds decrease_interval{1000};
    /// Adaptive rate: on a fast link the in-flight limit cannot keep the request rate under a
    /// server's rate limit, so a 429 also sets a rate, learnt as follows.
    /// - The first 429 usually comes within milliseconds of the start, from the first wave of
    ///   requests overrunning the server's burst: nothing can be measured yet. The rate starts
    ///   at `max_requests_per_second` when one is set (the burst said nothing against it), else
    ///   low (what was accepted in the last `rate_window`, per `rate_window`), and probes upwards
    ///   fast: each success adds `probe_increase_per_success`, so it grows e^2 ~ 7x per second.
    /// - A later 429 after at least `min_rate_span` of unpaused sending measures the rate the
    ///   server accepted over the last `rate_window` (at most its burst over that window too
    ///   high); the learnt rate is that times `rate_decrease_factor`. Right after a probe (the
    ///   rate crossed the limit inside that window, so the count is too low), the rate sent at
    ///   times `overshoot_decrease_factor` is used when higher.
    /// - A 429 sooner than `min_rate_span` after resuming lowers the rate by
    ///   `rate_decrease_factor` once measured, `overshoot_decrease_factor` while probing.
    /// - Once measured, the rate climbs slowly (`rate_increase_per_success`), so that probing
    ///   above the limit (which costs a 429 and its Retry-After pause) stays rare.
    /// The bucket that spaces requests is emptied at every pause, so resuming sends no burst.
    ///
    /// Off by default for now: 429s that come at random (a flaky gateway, the simulator's fault
    /// injection) still walk the learnt rate down to its floor. Turn it on against an API known
    /// to rate-limit with a token bucket.
    bool adaptive_rate = false;
    /// 2 s: long enough that a server burst of 10 biases the measure by 5 requests/s at most.
    std::chrono::milliseconds rate_window{2'000};
    /// Least unpaused sending before a 429 counts as a measure of the server's rate.
    std::chrono::milliseconds min_rate_span{500};
    /// A learnt rate is the measured one times this: just under what the server accepted.
    double rate_decrease_factor = 0.97;
    /// The factor applied to the rate sent when a 429 comes while probing upwards.
    double overshoot_decrease_factor = 0.7;
    /// While probing, each success adds this many requests per second to the rate: at rate r
    /// come r successes a second, so the rate grows about e^2 times a second.
    double probe_increase_per_success = 2.0;
    /// +0.05% per second at any rate once measured: about one probe a minute.
    double rate_increase_per_success = 0.0005;
    /// A learnt rate never drops below this fraction of the rate the server accepted since the
    /// first request: 429s that come at random (a flaky gateway) rather than from a rate limit
    /// must not walk the rate down to nothing.
    double rate_floor_fraction = 0.5;
};

} // namespace dynjobs::policy
