// src/policy/host_gate.hpp - admission of new requests to one host.
#pragma once

#include <dynjobs/rate_config.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace dynjobs::policy {

/// Decides when a new request may start: not while the host is paused (a 429 or 503 with
/// Retry-After that holds every new request, not just the one that got it: see
/// rate_config::retry_after_per_request), not faster than the rate
/// ceiling (fixed, and adaptive: learnt from 429s that come from a rate limit, not from those
/// that come at random; rate_config says how they are told apart), and not beyond the adaptive
/// in-flight limit (AIMD: multiplicative decrease on 429, additive increase on success).
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

    /// Changes the fixed ceiling (rate_config::max_requests_per_second; 0 = none) for the
    /// requests that start from now on; the adaptive rate keeps what it learnt.
    void set_max_rate(double requests_per_second);

    /// Holds new requests until `until` (keeps the later of two pauses).
    void pause_until(time_point until);

    /// A 429 or 503 told to wait until `until` (its Retry-After). With
    /// rate_config::retry_after_per_request (and adaptive_rate) only the request that got it
    /// waits, on its own, unless the server refuses everything sent under the learnt rate
    /// (rate_config::closed_window_refusals); else every new request waits until then
    /// (pause_until).
    /// Call after on_finish(outcome::throttled, ...).
    void on_retry_after(time_point until);

    std::optional<time_point> paused_until(time_point now) const;
    std::size_t in_flight() const noexcept { return in_flight_; }
    /// The current adaptive limit (between min_in_flight and max_in_flight).
    std::size_t limit() const noexcept;
    /// The requests per second new requests are held to (the lower of the fixed ceiling and the
    /// adaptive rate), or 0 when unlimited.
    double rate() const noexcept;

private:
    /// A rate cut on trial: kept if the 429s thin out under it (a rate limit); if they come as
    /// often after a second, deeper cut as before the first, they come at random (a flaky
    /// gateway, injected faults) and the rate goes back to what it was.
    struct rate_trial {
        double rate_before = 0; ///< adaptive_rate_ before the first cut
        bool measured_before = false;
        bool settled_before = false;
        double share_before = 0; ///< 429s per finished request over the rate window before it
        unsigned cuts = 0;
        time_point ends{}; ///< a rate_window after the latest cut (or its pause)
        /// Outcomes of requests sent before the latest cut: they say nothing about the new rate.
        std::size_t not_counted = 0;
        std::uint64_t successes = 0; ///< since the latest cut
        std::uint64_t throttled = 0;
        bool persists() const;
        double share() const; ///< 429s per answer since the latest cut
    };

    double climb(time_point now) const;
    void refill(time_point now) const;
    void record(bool throttled, time_point now);
    void cut_rate(time_point now);
    void learn_rate(time_point now);
    double accepted_since(time_point from) const;
    void cut_shared_limit(time_point now);
    void settle_trial(time_point now);
    void undo_trial(time_point now);
    void count_in_trial(bool throttle);
    void judge_wave(bool throttle, time_point now);
    void keep_as_background(time_point now);
    double recent_share() const;
    static void forget_before(std::deque<time_point>& times, time_point from);

    rate_config config_;
    std::size_t in_flight_ = 0;
    double limit_;
    time_point pause_until_{};
    time_point last_decrease_{};
    bool decreased_ = false;
    // Adaptive rate: 0 until the first 429; probing until a 429 could be measured.
    double adaptive_rate_ = 0;
    bool rate_measured_ = false;
    /// Measured at the limit, not only a floor after a probe (see settle_increase_per_success).
    bool rate_settled_ = false;
    /// The latest request waited for the rate (its bucket was empty): only then do successes
    /// raise it. A rate the client does not reach says nothing, and would grow without bound.
    bool paced_ = false;
    /// Start of the current stretch of unpaused sending.
    time_point resumed_{};
    /// Times of the successes of the last rate_window (adaptive_rate only), oldest first.
    std::deque<time_point> recent_successes_;
    /// Times of the 429s of the last rate_window (adaptive_rate only), oldest first.
    std::deque<time_point> recent_throttles_;
    std::optional<rate_trial> trial_;
    /// The first 429 of an unlimited client, judged by the replies to the requests that were in
    /// flight with it before the rate is cut.
    struct wave_judgement {
        std::size_t pending = 0;
        std::size_t size = 0;
        std::size_t throttled = 0;
    };
    std::optional<wave_judgement> wave_;
    /// 429s in a row that came with too few requests in flight to judge, or (held as
    /// background) too soon after a pause.
    unsigned small_waves_ = 0;
    /// 429s since the latest success of a request sent after the first of them. A server that
    /// refuses every request (a closed quota window, an overload) refuses those sent under the
    /// learnt rate too; a token bucket refills under it, so a success comes within a few.
    struct refusal_streak {
        /// Requests in flight when the streak began or the rate last changed: sent at another
        /// rate (before the first 429 told anything), they say nothing about this one.
        std::size_t not_counted = 0;
        /// 429s to requests sent under the learnt rate since.
        unsigned counted = 0;
    };
    std::optional<refusal_streak> refusals_;
    void count_refusal();
    /// Successes since the latest pause ended (or the first request).
    std::size_t successes_since_resume_ = 0;
    time_point last_throttle_{}; ///< the latest 429's answer
    /// After a cut proved useless: the 429 share over a rate window that came anyway, and until
    /// when 429s lower the rate only when their share is well above it.
    double background_share_ = 0;
    time_point background_until_{};
    time_point first_start_{};
    std::uint64_t total_successes_ = 0;
    /// rate_floor_fraction of the highest rate a trial cut by cut_shared_limit started from:
    /// it cuts no lower.
    double shared_limit_floor_ = 0;
    bool started_ = false;
    // Rate ceiling bucket; mutable because admission queries refill it lazily.
    mutable double tokens_;
    mutable time_point refilled_{};
    mutable bool bucket_started_ = false;
};

} // namespace dynjobs::policy
