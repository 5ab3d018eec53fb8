// src/net/http_pool.hpp - keep-alive HTTP/1.1 (TLS or plain) connections to one origin.
#pragma once

#include "net/origin.hpp"
#include "net/proxy.hpp"

#include <dynjobs/pool_config.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dynjobs::net {

struct http_request {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    /// Origin-form target: path and query, already percent-encoded.
    std::string target;
    /// The whole Authorization header value ("Bearer ..."), empty for none. A secret: it is never
    /// copied into diagnostics, logs or errors.
    std::string authorization;
    /// For POST: the body and its type.
    std::string content_type;
    std::string body;
    std::string user_agent;
    /// The Accept header; empty for none.
    std::string accept;
    /// The Accept-Encoding header; empty for none. A gzip or deflate body is inflated before it
    /// reaches the sink or response.body, whatever was asked.
    std::string accept_encoding;
};

struct http_response {
    unsigned status = 0;
    /// Raw header values, empty when absent.
    std::string retry_after;
    std::string www_authenticate;
    std::string content_type;
    std::string content_encoding;
    /// The body when it was not given to a sink (non-2xx, or no sink), inflated, cut at
    /// http_pool::max_buffered_body bytes (the rest is read and dropped).
    std::string body;
    /// Body bytes received in total, as they came over the wire (compressed or not).
    std::uint64_t body_bytes = 0;
    /// Body bytes after inflating (equal to body_bytes for an uncompressed body).
    std::uint64_t decoded_bytes = 0;
    /// True when the request went over a connection that had served an earlier request.
    bool reused_connection = false;
    /// When the pool's proxy refused the tunnel (errc::proxy_auth_required or proxy_refused):
    /// the proxy's status, 0 when it did not answer HTTP. `status` stays 0: the server was not
    /// reached.
    unsigned proxy_status = 0;
};

/// Receives a 2xx response body chunk by chunk as it arrives from the socket. Returning an error
/// aborts the exchange with it (the connection is closed, not reused).
using body_sink = std::function<boost::system::error_code(std::string_view chunk)>;

struct pool_stats {
    std::uint64_t connections_opened = 0;
    /// Exchanges served by a connection that had served an earlier one.
    std::uint64_t connections_reused = 0;
    /// New connections whose TLS handshake resumed an earlier session.
    std::uint64_t tls_sessions_resumed = 0;
    /// Exchanges retried on a fresh connection because a reused one was found closed before any
    /// response byte.
    std::uint64_t stale_connection_retries = 0;
    /// Connections the server ended after a response (no keep-alive: `Connection: close`).
    std::uint64_t closed_by_server = 0;
    /// Idle connections dropped unused: past idle_timeout, or closed by the peer while idle.
    std::uint64_t closed_idle = 0;
    /// Connections retired after max_requests_per_connection exchanges.
    std::uint64_t retired_request_cap = 0;
    std::size_t open = 0;
    std::size_t idle = 0;
};

/// A pool of keep-alive connections to one origin, directly or through one proxy: the origin and
/// the proxy together identify a pool.
///
/// - At most pool_config::max_connections open; an exchange waits for a free one up to
///   acquire_timeout (errc::pool_acquire_timeout).
/// - Idle connections are reused (most recently used first), closed after idle_timeout, and
///   retired after max_requests_per_connection.
/// - TLS: SNI, host name verification (through the context's verify mode), sessions resumed
///   across connections.
/// - Through a proxy, each new connection is a CONNECT tunnel to the origin (TLS inside names
///   the origin); a refused tunnel fails the exchange with errc::proxy_auth_required or
///   proxy_refused and http_response::proxy_status.
/// - A reused connection found closed before any response byte is replaced and the request sent
///   again, once, transparently: only idempotent requests are pooled like this (GET; the token
///   POST is sent on a fresh connection's first use when it is retried by its caller).
/// - Each phase has its timeout and error code (timeout_config).
///
/// Thread safety: not thread-safe; use it from one strand (its executor). Cancellation:
/// async_exchange supports terminal cancellation through the awaiting coroutine's cancellation
/// slot; cancel() aborts every exchange in progress with asio::error::operation_aborted and
/// closes every connection. Destroying the pool also closes everything; exchanges in progress
/// then complete with operation_aborted.
class http_pool {
public:
    /// Bodies not streamed to a sink are kept up to this size (error bodies, token responses).
    static constexpr std::size_t max_buffered_body = 64 * 1024;

    /// `tls` may be null for a plain-http origin. `via`: the proxy every connection tunnels
    /// through; none connects directly.
    http_pool(boost::asio::any_io_executor executor, origin where,
              std::shared_ptr<boost::asio::ssl::context> tls, pool_config config,
              std::optional<proxy_endpoint> via = std::nullopt);
    ~http_pool();
    http_pool(const http_pool&) = delete;
    http_pool& operator=(const http_pool&) = delete;

    /// Sends `request` and reads the response into `response`. A 2xx body goes to `sink` when
    /// it is not null, chunk by chunk; any other body is buffered in response.body.
    /// `request`, `response` and `sink` are used by reference until completion: they must
    /// outlive the operation (not temporaries handed to co_spawn).
    /// Completes with: success (any HTTP status), a transport error, one of the errc timeouts,
    /// errc::connection_closed, an error returned by the sink, or operation_aborted.
    boost::asio::awaitable<boost::system::error_code>
    async_exchange(const http_request& request, http_response& response, const body_sink* sink);

    void cancel();

    pool_stats stats() const;
    const net::origin& where() const noexcept;
    /// The proxy the connections tunnel through, if any.
    const std::optional<proxy_endpoint>& via() const noexcept;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

/// Creates a client TLS context: TLS 1.2 minimum, peer verification unless disabled, trust from
/// tls.ca_file / tls.ca_path or else the system's default paths, plus tls.extra_ca_file, client
/// session cache on. Errors: errc::credential_error with diag naming the file that failed.
boost::system::error_code make_tls_context(const tls_config& tls,
                                           std::shared_ptr<boost::asio::ssl::context>& out,
                                           diagnostics& diag);

} // namespace dynjobs::net
