// dynjobs/sim/sim_config.hpp - everything a simulator instance can be told.
#pragma once

#include <dynjobs/organization_id.hpp>
#include <dynjobs/sim/compression_config.hpp>
#include <dynjobs/sim/dataset.hpp>
#include <dynjobs/sim/faults.hpp>
#include <dynjobs/sim/jobs_endpoint_config.hpp>
#include <dynjobs/sim/rate_limit_config.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dynjobs::sim {

/// The client registered when sim_config::clients is empty, so that a demo needs no set-up.
inline constexpr std::string_view default_client_id = "dynjobs-sim-client";
inline constexpr std::string_view default_client_secret = "dynjobs-sim-secret";

/// An app registration: who may ask for tokens, how it proves itself, and what it may see.
struct registered_client {
    /// The `client_id` (also the JWT's iss and sub).
    std::string client_id;
    /// Accepted `client_secret`; nullopt = the client cannot use the secret grant.
    std::optional<std::string> client_secret;
    /// PEM certificate whose public key verifies the client's JWT assertions; nullopt = the
    /// client cannot use the certificate grant.
    std::optional<std::string> certificate_pem;
    /// Organizations the client may see; empty = all. Asking for another one is a 403, and
    /// queries without organizationId only return jobs of these.
    std::set<organization_id> visible_organizations;
};

/// Configuration of one simulator. Every member has a working default: `sim_config{}` serves
/// HTTPS on 127.0.0.1 on a free port with the default client.
struct sim_config {
    /// Address to bind, as an IP literal. Loopback: the simulator is a test tool, never a server
    /// for other machines.
    std::string host = "127.0.0.1";
    /// HTTPS port; 0 = any free port (read it back with simulator::https_port()).
    std::uint16_t https_port = 0;
    /// Plain HTTP port, for tools that cannot do TLS; nullopt = no plain listener, 0 = any port.
    std::optional<std::uint16_t> http_port;

    /// Where generated certificates are written (ca.pem, server.pem, server-key.pem; created if
    /// missing). A valid set already there is served instead (load_or_make_server_pki): every
    /// simulator sharing the folder serves one PKI. Empty = not written: the CA is still
    /// available as simulator::ca_pem().
    std::filesystem::path cert_dir;
    /// Serve this certificate (chain) and key instead of generating them; both or neither.
    std::filesystem::path cert_file;
    std::filesystem::path key_file; ///< the private key of cert_file, PEM
    /// Validity of generated certificates, in days. 30 outlives any run.
    int cert_validity_days = 30;

    /// The data served; see dataset_config for its defaults (100,000 jobs, 20 organizations).
    dataset_config dataset;
    /// Behaviour the published API leaves open (page size cap, nextLink style, window match).
    jobs_endpoint_config jobs;
    /// Fault injection; default none.
    fault_config faults;
    /// Per-client rate limit; default off.
    rate_limit_config rate_limit;

    /// Added before every response, to make loopback behave a little like a real network.
    /// 0 = none (the default, for fast tests).
    std::chrono::milliseconds latency{0};
    /// The bandwidth of the one link every response crosses, in bits per second: the bytes of
    /// all responses of all connections together (status line, headers and body as sent, before
    /// TLS) are paced to it with timers (see bandwidth_limiter). Lets a benchmark see what a
    /// 100 Mbit/s link does to pages that loopback sends in an instant. 0 = unlimited, the
    /// default.
    std::uint64_t bandwidth_bits_per_second = 0;
    /// Compressed responses of the jobs endpoint, as a gateway in front of the API serves them
    /// to clients that send Accept-Encoding. Default on: gzip and deflate, bodies of 1 KiB and
    /// more, zlib level 1 (see compression_config). The token endpoint never compresses.
    compression_config compression;
    /// Lifetime of issued access tokens (expires_in). 3600 s as the real identity service; 0
    /// issues tokens that are already expired (lets tests see a 401 "expired" without waiting).
    std::chrono::seconds token_lifetime{3600};
    /// App registrations; empty = one client `dynjobs-sim-client` / `dynjobs-sim-secret` that sees
    /// every organization.
    std::vector<registered_client> clients;

    /// A connection idle this long between requests is closed (as gateways do), without a TLS
    /// close_notify; 60 s lets a client keep connections in a pool between bursts. In
    /// milliseconds so that a test can play a server that drops idle connections fast (200 ms).
    std::chrono::milliseconds idle_timeout{60'000};
    /// Requests served on one connection before the server ends it, as nginx's
    /// keepalive_requests: the Nth response carries `Connection: close`, then the server sends a
    /// TLS close_notify and closes the socket once the client answers it (at most 2 s later).
    /// 0 = unlimited, the default (a client may keep one connection for a whole backfill).
    std::size_t keepalive_requests = 0;
    /// Every this many requests to /dynamicsbackup/jobs (counted over the whole server, whatever
    /// the connection), every open connection is closed: one with no request in progress at once
    /// (no close_notify), the others right after the response they are answering, which still
    /// says keep-alive. Plays a load balancer draining a backend, where many pooled connections
    /// go stale at the same moment. 0 = never, the default.
    std::uint64_t close_all_every = 0;
    /// TLS 1.3 session tickets sent after each full handshake (SSL_CTX_set_num_tickets), at most
    /// 100. 2, OpenSSL's default: a client can resume twice (each ticket is meant for one use)
    /// before it needs a full handshake again. Ignored when session_resumption is false.
    std::size_t tls_session_tickets = 2;
    /// Whether clients may resume TLS sessions. true (the default): TLS 1.3 tickets and TLS 1.2
    /// tickets and session ids, as OpenSSL serves by default. false: no tickets at all
    /// (SSL_OP_NO_TICKET, zero TLS 1.3 tickets) and no session cache, so every handshake is a
    /// full one, as behind load balancers that share no ticket keys.
    bool session_resumption = true;
    /// Longest a TLS handshake, a request read or one write may take before the connection is
    /// dropped; bounds what a stuck client can hold. 30 s.
    std::chrono::seconds io_timeout{30};
    /// Most entries kept in the request log; older ones are dropped first. 100,000 is a few
    /// tens of MB at most, enough for any test.
    std::size_t request_log_capacity = 100'000;
    /// Called with every access token issued, from a serving thread (so it must be thread-safe).
    /// For harnesses that check a client never writes a token anywhere. Default: none.
    std::function<void(const std::string& token)> on_token_issued;
};

} // namespace dynjobs::sim
