// dynjobs/sim/sim_stats.hpp - what the simulator counts and logs, for tests to read.
#pragma once

#include <dynjobs/sim/compression_config.hpp>
#include <dynjobs/sim/faults.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace dynjobs::sim {

/// One request as the simulator saw and answered it.
struct request_log_entry {
    std::chrono::steady_clock::time_point time; ///< when the request was fully read
    std::string method;                         ///< "GET", "POST", ...
    std::string path;                           ///< target before '?', as sent
    std::string query;                          ///< target after '?', as sent (may be empty)
    /// Status answered, or 0 when no response was sent (close_before_response).
    unsigned status = 0;
    /// The injected fault, fault_kind::none when none. A real rate-limit 429 is `none` here
    /// (it is no injected fault), and counted in sim_counters::rate_limited.
    fault_kind fault = fault_kind::none;
    std::string client_id;           ///< client of the bearer token / token request, "" unknown
    std::uint64_t connection_id = 0; ///< 1-based, in accept order, shared by HTTPS and HTTP
    /// The Content-Encoding of the body sent (identity: none, or nothing was sent).
    content_coding coding = content_coding::identity;
};

/// Running totals since start().
struct sim_counters {
    std::uint64_t requests = 0;                   ///< requests read (every path)
    std::uint64_t token_requests = 0;             ///< of which to /connect/token
    std::uint64_t jobs_requests = 0;              ///< of which to /dynamicsbackup/jobs
    std::map<unsigned, std::uint64_t> by_status;  ///< answered statuses (0 = closed unanswered)
    std::map<fault_kind, std::uint64_t> by_fault; ///< injected faults (none excluded)
    std::uint64_t tokens_issued = 0;              ///< access tokens handed out
    std::uint64_t rate_limited = 0;               ///< 429s from the real rate limiter
    std::uint64_t connections_accepted = 0;       ///< TCP connections accepted (both ports)
    std::uint64_t connections_open = 0;           ///< of which open when the snapshot was taken
    std::uint64_t tls_handshakes = 0;             ///< TLS handshakes completed, full or resumed
    std::uint64_t tls_resumed_handshakes = 0;     ///< of which resumed (SSL_session_reused)
    std::uint64_t tls_handshake_failures = 0;     ///< e.g. a client offering only TLS 1.1
    /// Bytes sent across the link of sim_config::bandwidth_bits_per_second (responses as
    /// written, headers and bodies, before TLS); 0 without one. Each took bytes x 8 /
    /// bandwidth of the link's time.
    std::uint64_t link_bytes = 0;

    // Connections the server itself closed, by cause. Not counted: a client closing, stop(),
    // a failed handshake, a client that sent garbage or asked for `Connection: close`.
    std::uint64_t closed_keepalive_limit = 0; ///< after sim_config::keepalive_requests requests
    std::uint64_t closed_idle = 0;            ///< sim_config::idle_timeout passed in a request read
    std::uint64_t closed_close_all = 0;       ///< by a sim_config::close_all_every drain
    std::uint64_t closed_fault = 0;     ///< by a fault: close, reset, truncate and close-after
    std::uint64_t close_all_drains = 0; ///< how many close_all_every drains happened
};

} // namespace dynjobs::sim
