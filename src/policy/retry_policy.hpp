// src/policy/retry_policy.hpp - whether, and when, to try a failed request again.
#pragma once

#include <dynjobs/retry_config.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dynjobs::policy {

using steady_time = std::chrono::steady_clock::time_point;

/// What one failed attempt looked like.
struct attempt_result {
    /// Status of a complete response, or 0 when there was none.
    unsigned http_status = 0;
    /// The transport error when there was no complete response.
    boost::system::error_code transport_error;
    /// True when transport_error is one of the library's timeouts.
    bool timed_out = false;
    /// The response's Retry-After, already parsed (see parse_retry_after).
    std::optional<std::chrono::milliseconds> retry_after;
    /// A 401 may be retried: the request was already replayed once with a renewed token (the
    /// first 401 is replayed at once by the engine, without consuming an attempt).
    bool unauthorized_retryable = false;
    /// How many attempts in a row, this one included, failed for the same cause (classify()).
    unsigned same_cause_streak = 1;
};

/// Classifies a failure: transport errors before a complete response, 408, 429, 500, 502, 503
/// and 504 are retryable (GET is idempotent); a 401 after its replay and a body that does not
/// decode are retried once; everything else (400, 403, 404, ...) is not, and neither are TLS
/// errors (a refused certificate stays refused).
retry_cause classify(const attempt_result& result) noexcept;

/// The policy's answer.
struct retry_decision {
    /// Retry after `wait`, or give up with `error`.
    bool retry = false;
    std::chrono::milliseconds wait{0};
    retry_cause cause = retry_cause::none;
    /// When giving up: errc::http_status (not retryable), errc::unauthorized (a 401 that may not
    /// or may no longer be retried), errc::retries_exhausted, errc::retry_budget_exhausted or
    /// errc::deadline_exceeded.
    boost::system::error_code error;
    /// True when the server set the wait (429/503 with Retry-After): the engine then tells the
    /// host gate, which may hold every request to the host for `wait`, not just this one
    /// (rate_config::retry_after_per_request says when).
    bool pause_host = false;
};

/// Retry decisions with full-jitter exponential backoff, Retry-After, a per-request attempt
/// limit, a deadline, and a shared retry budget.
///
/// Time is passed in, so tests drive it with a fake clock. Not thread-safe: the engine calls it
/// from one strand. Deterministic for a given seed.
class retry_policy {
public:
    explicit retry_policy(retry_config config = {}, std::uint64_t seed = 0x5eed);

    /// Decides after attempt number `attempt` (1-based) failed with `result`, at `now`.
    /// With a `deadline`, a wait that would end past it fails at once with deadline_exceeded
    /// instead of sleeping first.
    retry_decision on_failure(const attempt_result& result, unsigned attempt, steady_time now,
                              std::optional<steady_time> deadline);

    /// Records a successful request: refunds part of a retry to the budget.
    void on_success() noexcept;

    /// The jittered backoff before retry number `retry` (1-based).
    std::chrono::milliseconds backoff(unsigned retry) noexcept;

    /// Tokens left in the retry budget.
    double budget() const noexcept { return budget_; }

    const retry_config& config() const noexcept { return config_; }

private:
    retry_config config_;
    double budget_;
    std::uint64_t rng_state_;
};

} // namespace dynjobs::policy
