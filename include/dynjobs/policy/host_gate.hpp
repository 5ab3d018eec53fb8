// dynjobs/policy/host_gate.hpp - admission of new requests to one host.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

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
};

/// Decides when a new request may start: not while the host is paused (a 429 or 503 with
/// Retry-After holds every new request, not just the one that got it), not faster than the rate
/// ceiling, and not beyond the adaptive in-flight limit (AIMD: multiplicative decrease on 429,
/// additive increase on success).
///
/// Time is passed in. Not thread-safe: the engine uses it from one strand.
class host_gate {
public:
    using time_point = std::chrono::steady_clock::time_point;

    explicit host_gate(rate_config config = {});

    /// When a request may start: `now` or later (a pause or the rate ceiling), or nullopt when
    /// the in-flight limit is reached (wait for a request to finish, then ask again).
    std::optional<time_point> next_start(time_point now) const;

    /// Records that a request started at `now` (precondition: next_start(now) <= now).
    void on_start(time_point now);

    enum class outcome { success, throttled, failed };
    /// Records that a request finished. `throttled` is a 429 (or 503) from the server.
    void on_finish(outcome result, time_point now);

    /// Holds new requests until `until` (keeps the later of two pauses).
    void pause_until(time_point until);

    std::optional<time_point> paused_until(time_point now) const;
    std::size_t in_flight() const noexcept { return in_flight_; }
    /// The current adaptive limit (between min_in_flight and max_in_flight).
    std::size_t limit() const noexcept;

private:
    void refill(time_point now) const;

    rate_config config_;
    std::size_t in_flight_ = 0;
    double limit_;
    time_point pause_until_{};
    time_point last_decrease_{};
    bool decreased_ = false;
    // Rate ceiling bucket; mutable because admission queries refill it lazily.
    mutable double tokens_;
    mutable time_point refilled_{};
    mutable bool bucket_started_ = false;
};

} // namespace dynjobs::policy
