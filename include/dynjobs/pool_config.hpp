// dynjobs/pool_config.hpp - connection pooling and transport timeouts.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace dynjobs {

/// Per-phase transport timeouts. Each has its own error code (errc::resolve_timeout, ...), so a
/// report says which phase stalled.
struct timeout_config {
    /// Resolving the host name (all its addresses).
    std::chrono::milliseconds resolve{10'000};
    /// Establishing the TCP connection, every address tried included; through a proxy, the
    /// CONNECT exchange too.
    std::chrono::milliseconds connect{10'000};
    /// The TLS handshake, certificate verification included.
    std::chrono::milliseconds tls_handshake{10'000};
    /// Writing the request: a GET is a few hundred bytes, so this only fires on a dead peer.
    std::chrono::milliseconds write{10'000};
    /// From the request written to the first response byte: the server's think time. Paging a
    /// large organization can be slow on the real service; 60 s is generous without hiding hangs.
    std::chrono::milliseconds first_byte{60'000};
    /// From the first byte to the end of the body: a page is at most a few MB.
    std::chrono::milliseconds body{60'000};
};

/// Connection pool settings, per origin.
struct pool_config {
    /// Most open connections to one origin. Matches the default in-flight limit
    /// (rate_config::max_in_flight): every request in flight can have its own connection.
    std::size_t max_connections = 32;
    /// Largest body a compressed response may inflate to before it is refused
    /// (errc::limit_exceeded): a decompression bomb must be an error, not an out-of-memory. A
    /// page of 1,000 jobs is about 600 KB; 64 MiB leaves room for any page size the API serves.
    std::uint64_t max_inflated_body = 64ull * 1024 * 1024;
    /// Longest wait for a free connection before errc::pool_acquire_timeout.
    std::chrono::milliseconds acquire_timeout{60'000};
    /// An idle connection older than this is closed rather than reused: servers and proxies
    /// commonly drop idle keep-alive connections after 60-120 s, so 30 s avoids most races.
    std::chrono::milliseconds idle_timeout{30'000};
    /// A connection is retired after this many requests, spreading load across server nodes
    /// behind a load balancer.
    std::size_t max_requests_per_connection = 1'000;
    /// Per-phase limits of every request on these connections.
    timeout_config timeouts;
};

} // namespace dynjobs
