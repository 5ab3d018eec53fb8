// dynjobs/fetch_stats.hpp - what a fetch has done so far.
#pragma once

#include <dynjobs/retry_config.hpp>
#include <dynjobs/time_filter.hpp>

#include <array>
#include <chrono>
#include <cstdint>

namespace dynjobs {

/// Request latency percentiles (time from sending to the end of the body), from a histogram with
/// about 4% resolution.
struct latency_summary {
    std::uint64_t count = 0;          ///< requests measured
    std::chrono::microseconds p50{0}; ///< median
    std::chrono::microseconds p90{0}; ///< 90th percentile
    std::chrono::microseconds p99{0}; ///< 99th percentile
    std::chrono::microseconds max{0}; ///< slowest request
};

/// Counters of one fetch. Connection and token counters are the client's (shared by its
/// fetches), sampled when stats() is called.
struct fetch_stats {
    std::uint64_t pages_planned = 0;  ///< pages handed to requests, refetches included
    std::uint64_t pages_done = 0;     ///< pages received and decoded
    std::uint64_t pages_failed = 0;   ///< pages given up after their retries
    std::uint64_t jobs_delivered = 0; ///< jobs put into the stream (after dedupe)
    /// Jobs dropped because the fetch had already delivered them (repeats across pages, a
    /// refetched window, or the server's own duplicates).
    std::uint64_t duplicates_dropped = 0;
    /// Jobs a window returned that belong to another window of the fetch (a job on a boundary, a
    /// server that filters by overlap or ignores the filter): delivered by their own window.
    std::uint64_t jobs_owned_elsewhere = 0;
    /// Jobs outside the requested range that a server ignoring the time filter returned: not
    /// part of the fetch, dropped.
    std::uint64_t jobs_out_of_range = 0;
    /// Jobs that windows failed with errc::incomplete_window are known to be missing (their
    /// totalCount minus the distinct jobs that came). Never silent: the fetch ends in error.
    std::uint64_t jobs_missing = 0;
    /// The server's time-filter semantics the fetch concluded (or was told and not contradicted).
    time_filter server_time_filter = time_filter::start;
    /// True when a job contradicted the semantics the request stated.
    bool time_filter_contradicted = false;
    /// Windows paged again because their pages held fewer distinct jobs than totalCount.
    std::uint64_t completeness_refetches = 0;
    /// Delivered jobIds moved to disk because their window outgrew client_config::dedupe's
    /// budget (0 when every window fitted in memory).
    std::uint64_t job_ids_spilled = 0;
    /// Windows folded into one per organization because the server ignores the time filter.
    std::uint64_t windows_merged = 0;
    /// Windows started again with half the page size because the server refused it (a 400
    /// naming pageSize).
    std::uint64_t page_size_reductions = 0;
    std::uint64_t bytes_received = 0; ///< job page body bytes as received (compressed or not)
    std::uint64_t bytes_decoded = 0;  ///< the same after inflating
    std::uint64_t requests = 0;       ///< page request attempts sent
    std::uint64_t retries = 0; ///< page request attempts that were retries (see retries_by_cause)
    /// Retries by cause, indexed by policy::retry_cause.
    std::array<std::uint64_t, 11> retries_by_cause{};
    std::uint64_t throttled = 0;            ///< 429 answers
    std::uint64_t unauthorized = 0;         ///< 401 answers (each replayed once with a fresh token)
    std::uint64_t drift_refetches = 0;      ///< windows fetched again because totalCount moved
    std::uint64_t token_requests = 0;       ///< token endpoint requests (renewals included)
    std::uint64_t connections_opened = 0;   ///< connections to the API host opened
    std::uint64_t connections_reused = 0;   ///< requests on a connection that served one before
    std::uint64_t tls_sessions_resumed = 0; ///< new connections that resumed a TLS session
    /// New connections opened because the server ended the previous one: it answered with
    /// `Connection: close` (a keepalive_requests limit, a draining balancer).
    std::uint64_t reconnects_server_close = 0;
    /// Pooled connections dropped unused because they sat idle too long or the peer had closed
    /// them while idle (seen before sending).
    std::uint64_t reconnects_idle = 0;
    /// Requests sent again on a new connection because a kept-alive one turned out closed.
    std::uint64_t reconnects_stale_retry = 0;
    /// Connections retired by the client's own pool_config::max_requests_per_connection.
    std::uint64_t reconnects_request_cap = 0;
    latency_summary latency; ///< of the fetch's page requests
    /// From the start of the fetch to its end, or to now while it runs.
    std::chrono::milliseconds elapsed{0};

    /// retries_by_cause[cause].
    std::uint64_t retries_for(policy::retry_cause cause) const {
        return retries_by_cause[static_cast<std::size_t>(cause)];
    }
};

} // namespace dynjobs
