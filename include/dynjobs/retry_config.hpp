// dynjobs/retry_config.hpp - how a client retries failed requests, and why an attempt was retried.
#pragma once

#include <dynjobs/export.hpp>

#include <chrono>
#include <string_view>

// The retry settings and causes keep the `policy` namespace of the engine code that applies them
// (src/policy/retry_policy.hpp), so that client_config::retry and request_event::retry name the
// same types the engine uses.
namespace dynjobs::policy {

/// Retry settings. One per client; every page of every fetch shares the budget.
struct retry_config {
    /// Attempts per request, the first included. With the default backoff, 6 attempts ride out
    /// about 30 s of transient failure before a page is given up.
    unsigned max_attempts = 6;
    /// Backoff before retry n is uniform in [0, min(max_backoff, initial_backoff * 2^(n-1))]
    /// ("full jitter"): spreads a burst of failures instead of synchronising the retries.
    std::chrono::milliseconds initial_backoff{250};
    /// Cap of the backoff above.
    std::chrono::milliseconds max_backoff{20'000};
    /// Longest server-requested wait (Retry-After) honoured as given; longer ones are cut to it.
    /// Five minutes covers real throttling windows without stalling a backfill for hours.
    std::chrono::milliseconds max_retry_after{300'000};
    /// Retry budget (a token bucket shared by all requests): a retry spends one token, a success
    /// earns `budget_refund` back, up to `budget_capacity`. An outage therefore costs at most
    /// `budget_capacity` retries plus 10% of the traffic, instead of multiplying it by
    /// max_attempts. A 429 or 503 with Retry-After spends nothing: its retry waits as told
    /// while the host gate paces the others (rate_config; max_attempts and the deadline still
    /// bound it).
    double budget_capacity = 100;
    double budget_refund = 0.1; ///< tokens a success earns back (see budget_capacity)
    /// Attempts in a row for a page whose body does not decode (not JSON, not a jobs page,
    /// corrupt compression) before it is given up: such a body is most likely the same again,
    /// so it gets one more chance, not max_attempts. Raise it against a server that garbles
    /// bodies at random.
    unsigned max_decode_attempts = 2;
    /// Attempts in a row refused with 401 after the replay with a freshly issued token, before
    /// the fetch gives up (errc::unauthorized ends it): one more chance for an identity service
    /// slow to accept a new token. Refusals do not count while other pages are accepted: the
    /// credentials work and the tokens were revoked under the page, so only max_attempts
    /// bounds it.
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
DYNJOBS_DECL std::string_view to_string(retry_cause cause) noexcept;

} // namespace dynjobs::policy
