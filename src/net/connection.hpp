// src/net/connection.hpp - one HTTP/1.1 connection (TLS or plain) of an http_pool.
#pragma once

#include "net/http_pool.hpp"
#include "net/inflater.hpp"
#include "net/origin.hpp"
#include "net/proxy.hpp"

#include <dynjobs/pool_config.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace dynjobs::net {

struct ssl_session_deleter {
    void operator()(SSL_SESSION* s) const noexcept { SSL_SESSION_free(s); }
};
/// One counted reference to a TLS session. A session is shared by the pool and every
/// connection that offers it; each holder owns its own reference, because the pool replaces
/// its session while connections are still suspended on the way to their handshake.
using ssl_session_ptr = std::unique_ptr<SSL_SESSION, ssl_session_deleter>;

/// A new reference to `session` (null stays null).
inline ssl_session_ptr share_session(const ssl_session_ptr& session) noexcept {
    if (session) {
        SSL_SESSION_up_ref(session.get());
    }
    return ssl_session_ptr(session.get());
}

/// What an exchange learnt beyond its error code; the pool decides reuse and retries from it.
struct exchange_outcome {
    /// A response byte arrived: the request reached the server, so it is never resent.
    bool got_response_byte = false;
    /// The response completed and allows another request on the connection.
    bool keep_alive = false;
};

/// What opening a connection learnt beyond its error code.
struct open_outcome {
    /// The server accepted the TLS session offered.
    bool resumed = false;
    /// The proxy's status when it refused the tunnel (errc::proxy_auth_required, or
    /// errc::proxy_refused when it answered HTTP at all), else 0.
    unsigned proxy_status = 0;
};

/// A socket, its TLS state and its read buffers. Owned by shared_ptr so that timer and
/// cancellation handlers can keep it alive past the coroutine that started them.
///
/// Not thread-safe: used from the pool's executor only. close() may be called at any time; the
/// operation in progress then completes with operation_aborted.
class connection : public std::enable_shared_from_this<connection> {
public:
    using tls_stream = boost::asio::ssl::stream<boost::beast::tcp_stream>;

    /// `tls` null makes a plain TCP connection. `max_inflated`: see pool_config::max_inflated_body.
    connection(const boost::asio::any_io_executor& executor, boost::asio::ssl::context* tls,
               std::uint64_t max_inflated);
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Resolves, connects (TCP_NODELAY) and, for TLS, sets SNI and host name verification,
    /// offers `resume` (may be null) and handshakes; `outcome.resumed` tells whether the server
    /// accepted the session. The operation owns its reference to `resume`: taken by value, it
    /// stays valid across the suspensions before the handshake whatever the pool does meanwhile.
    /// With `via`, it resolves and connects to the proxy instead and asks it for a tunnel to
    /// `where` (CONNECT), then runs TLS inside the tunnel exactly as it would directly: SNI and
    /// verification name `where`, never the proxy.
    /// Errors: the phase's errc timeout (the CONNECT's answer counts as a first byte), a
    /// transport or TLS error, errc::proxy_auth_required or proxy_refused (`outcome.proxy_status`).
    boost::asio::awaitable<boost::system::error_code>
    async_open(const origin& where, const proxy_endpoint* via, const timeout_config& timeouts,
               ssl_session_ptr resume, open_outcome& outcome);

    /// Writes `request` and reads the response (see http_pool::async_exchange).
    boost::asio::awaitable<boost::system::error_code>
    async_exchange(const http_request& request, std::string_view host_header,
                   http_response& response, const body_sink* sink, const timeout_config& timeouts,
                   exchange_outcome& outcome);

    /// Closes the socket (no TLS close_notify: the peer copes, and it would cost a round trip)
    /// and cancels a resolve in progress. Idempotent.
    void close() noexcept;
    bool is_open() const noexcept;

    /// True when the idle socket shows the peer is gone (FIN, reset, or unsolicited bytes such as
    /// a TLS close_notify): reusing it would only fail. Cheap non-blocking peek.
    bool peer_closed() noexcept;

    /// A new reference to the connection's current TLS session when it can be resumed, else
    /// null.
    ssl_session_ptr resumable_session() const noexcept;

    /// Exchanges completed on this connection.
    std::size_t requests = 0;
    /// When the connection last became idle.
    std::chrono::steady_clock::time_point idle_since{};

private:
    boost::beast::tcp_stream& tcp() noexcept;

    template <class Stream>
    boost::asio::awaitable<boost::system::error_code>
    exchange_on(Stream& stream, const http_request& request, std::string_view host_header,
                http_response& response, const body_sink* sink, const timeout_config& timeouts,
                exchange_outcome& outcome);

    boost::asio::awaitable<boost::system::error_code>
    resolve(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout,
            boost::asio::ip::tcp::resolver::results_type& out);

    /// CONNECT on the open socket to the proxy; on a 2xx the socket is a tunnel to `where`.
    boost::asio::awaitable<boost::system::error_code> open_tunnel(const proxy_endpoint& via,
                                                                  const origin& where,
                                                                  const timeout_config& timeouts,
                                                                  unsigned& proxy_status);

    std::variant<boost::beast::tcp_stream, tls_stream> stream_;
    boost::asio::ip::tcp::resolver resolver_;
    bool resolve_timed_out_ = false;
    /// Bytes read past the header; kept across keep-alive exchanges (its capacity is reused).
    boost::beast::flat_buffer buffer_;
    /// Inflates gzip and deflate bodies; zlib's state is kept for the connection's next body.
    inflater inflater_;
    std::uint64_t max_inflated_;
};

} // namespace dynjobs::net
