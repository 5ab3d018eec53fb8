// src/sim/simulator_impl.hpp - the state one simulator shares with all its connections.
//
// Internal to dynjobs_sim. Locking: `data_mutex` (shared_mutex) guards the jobs endpoint and its
// dataset: requests read under a shared lock, drift and ground-truth readers take what they need.
// `mutex` guards everything else that changes after start(); it is only ever held for a few
// microseconds and never across an await. Members above the "after start" line are written by
// start() before any connection exists and read-only afterwards.
#pragma once

#include <dynjobs/sim/certificates.hpp>
#include <dynjobs/sim/simulator.hpp>

#include "client_assertion.hpp"
#include "sim/bandwidth_limiter.hpp"
#include "sim/fault_plan.hpp"
#include "sim/jobs_endpoint.hpp"
#include "sim/rate_limiter.hpp"
#include "token_store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace dynjobs::sim {

namespace detail {

/// What the session registry needs from a connection: a way to abort it from stop(), and to
/// close it for a close_all_every drain.
class connection_base {
public:
    virtual ~connection_base() = default;
    /// Closes the socket and cancels timers. Must run on the connection's strand.
    virtual void abort() = 0;
    /// Closes the connection now when it has no request in progress, else right after the
    /// response it is answering. Must run on the connection's strand.
    virtual void close_when_idle() = 0;
    /// The connection's strand, to post abort() to.
    virtual boost::asio::any_io_executor executor() = 0;
};

/// What the router decides for one request and the session carries out on the wire.
struct wire_plan {
    http_reply reply;
    /// Transport faults the session plays (close_before_response, reset_mid_body,
    /// truncated_body, trickle_body, close_after_response); everything else is already in
    /// `reply`.
    fault_kind transport_fault = fault_kind::none;
    /// Waited before the first byte: sim_config::latency plus a delay_first_byte fault.
    std::chrono::milliseconds delay{0};
    /// Close the connection after this response (the request asked for it, or a fault).
    bool close = false;
    /// trickle_body: bytes per write and the pause between writes (from fault_config).
    std::size_t trickle_chunk_bytes = 16;
    std::chrono::milliseconds trickle_interval{50};
    /// Send the body with Transfer-Encoding: chunked in chunks of these sizes (they add up to
    /// the body's size); empty = with a Content-Length.
    std::vector<std::size_t> chunks;
};

/// A parsed request as the router sees it (no Beast types, so the router compiles alone).
struct request_view {
    std::string_view method;
    std::string_view target;
    std::string_view authorization;
    std::string_view content_type;
    std::string_view body;
    /// Every Accept-Encoding line of the request joined with ", "; empty when there is none.
    std::string_view accept_encoding;
    std::uint64_t connection_id = 0;
    bool tls = true;
};

} // namespace detail

struct simulator::impl : std::enable_shared_from_this<simulator::impl> {
    impl(boost::asio::any_io_executor ex, sim_config cfg);

    boost::asio::any_io_executor executor;
    sim_config config;

    // ---- written by start(), read-only afterwards ----
    bool started = false;
    std::uint16_t https_port = 0;
    std::uint16_t http_port = 0;
    std::string base_url;
    std::string http_base_url;
    std::string token_url;
    std::string token_url_localhost; ///< the same endpoint named by host name, also a valid aud
    server_pki pki;
    std::filesystem::path ca_file;
    std::optional<boost::asio::ssl::context> tls;

    /// The jobs endpoint and its dataset; see the locking note above.
    mutable std::shared_mutex data_mutex;
    std::optional<jobs_endpoint> endpoint;

    /// Has its own mutex.
    rate_limiter limiter;
    /// The link all responses share (sim_config::bandwidth_bits_per_second); nullopt when
    /// unlimited. Has its own mutex.
    std::optional<bandwidth_limiter> link;

    // ---- guarded by `mutex` ----
    mutable std::mutex mutex;
    detail::token_store tokens;
    detail::client_assertion_verifier assertions;
    std::shared_ptr<fault_plan> faults; ///< replaced whole by set_fault_config/add_fault_rule
    sim_counters counters;
    std::deque<request_log_entry> log;
    bool stopped = false;
    std::uint64_t next_connection_id = 0;
    std::map<std::uint64_t, std::weak_ptr<detail::connection_base>> connections;
    std::vector<std::shared_ptr<boost::asio::ip::tcp::acceptor>> acceptors;

    /// The registered client with this id, or nullptr. config.clients is fixed after start().
    const registered_client* find_client(std::string_view id) const;

    /// Appends to the log (dropping the oldest beyond capacity) and counts the status and fault.
    /// Caller holds `mutex`.
    void record(request_log_entry entry);

    /// Registers a new connection; returns its id, or 0 when stopped (the caller then closes).
    std::uint64_t add_connection(std::weak_ptr<detail::connection_base> c);
    void remove_connection(std::uint64_t id);

    /// A close_all_every drain: every registered connection is told to close_when_idle() (on
    /// its strand), and the drain is counted. Takes `mutex`: the caller must not hold it.
    void close_all_connections();

    /// Adds one to a counter (sim_counters::closed_idle, ...). Takes `mutex`.
    void count(std::uint64_t sim_counters::*counter);
};

namespace detail {

/// Answers one request (token endpoint, jobs endpoint, 404), recording it in the log.
wire_plan route(simulator::impl& sim, const request_view& request);

/// POST /connect/token. Fills `client_id` with the client it concerned (may be empty).
http_reply handle_token_request(simulator::impl& sim, const request_view& request,
                                std::string& client_id);

/// Starts the session coroutine for an accepted socket (its executor must be a strand).
void start_https_session(std::shared_ptr<simulator::impl> sim, boost::asio::ip::tcp::socket s);
void start_http_session(std::shared_ptr<simulator::impl> sim, boost::asio::ip::tcp::socket s);

/// A JSON reply {"error","error_description"} as OAuth 2.0 (RFC 6749 section 5.2) defines it.
http_reply oauth_error(unsigned status, std::string_view error, std::string_view description);

} // namespace detail

} // namespace dynjobs::sim
