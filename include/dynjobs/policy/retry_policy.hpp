// dynjobs/policy/retry_policy.hpp - whether, and when, to try a failed request again.
#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dynjobs::policy {

using steady_time = std::chrono::steady_clock::time_point;

/// Retry settings. One per client; every page of every fetch shares the budget.
struct retry_config {
    /// Attempts per request, the first included. With the default backoff, 6 attempts ride out
    /// about 30 s of transient failure before a page is given up.
    unsigned max_attempts = 6;
    /// Backoff before retry n is uniform in [0, min(max_backoff, initial_backoff * 2^(n-1))]
    /// ("full jitter"): spreads a burst of failures instead of synchronising the retries.
    std::chrono::milliseconds initial_backoff{250};
    std::chrono::milliseconds max_backoff{20'000};
    /// Longest server-requested wait (Retry-After) honoured as given; longer ones are cut to it.
    /// Five minutes covers real throttling windows without stalling a backfill for hours.
    std::chrono::milliseconds max_retry_after{300'000};
    /// Retry budget (a token bucket shared by all requests): a retry spends one token, a success
    /// earns `budget_refund` back, up to `budget_capacity`. An outage therefore costs at most
    /// `budget_capacity` retries plus 10% of the traffic, instead of multiplying it by
    /// max_attempts. A 429 or 503 with Retry-After spends nothing: its retry waits as told
    /// with the whole host paused (max_attempts and the deadline still bound it).
    double budget_capacity = 100;
    double budget_refund = 0.1;
    /// Attempts in a row for a page whose body does not decode (not JSON, not a jobs page,
    /// corrupt compression) before it is given up: such a body is most likely the same again,
    /// so it gets one more chance, not max_attempts. Raise it against a server that garbles
    /// bodies at random.
    unsigned max_decode_attempts = 2;
    /// Attempts in a row refused with 401 after the replay with a freshly issued token, before
    /// the fetch gives up (errc::unauthorized ends it): one more chance for an identity service
    /// slow to accept a new token. Raise it against a server that revokes tokens at random.
    unsigned max_unauthorized_attempts = 2;
};

/// Why an attempt is retried; the engine's stats count retries by cause.
enum class retry_cause {
    none,      ///< not retryable
    transport, ///< connection failed or broke before a complete response
    timeout,   ///< a connect, handshake, write, first-byte or body timeout fired
    http_408,
    http_429,
    http_500,
    http_502,
    http_503,
    http_504,
    /// A fresh token refused too: identity systems can take a moment to accept a new token.
    /// Retried once.
    http_401,
    /// A 200 whose body could not be decoded (not JSON, not a jobs page, corrupt compression):
    /// most likely the same again, so retried once.
    decode,
};
std::string_view to_string(retry_cause cause) noexcept;

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
    /// True when the server set the wait (429/503 with Retry-After): the engine then holds every
    /// request to the host for `wait`, not just this one.
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
