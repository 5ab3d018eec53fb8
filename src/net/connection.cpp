// src/net/connection.cpp - resolve, connect, TLS handshake, one request/response at a time.
#include "net/connection.hpp"

#include <dynjobs/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/err.h>

#include <cerrno>
#include <functional>
#include <span>
#include <string>

#if !defined(_WIN32)
#include <sys/socket.h>
#endif

namespace dynjobs::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
/// The read buffer's capacity: Beast reads at most its free space per call.
constexpr std::size_t read_buffer_size = 64 * 1024;
constexpr std::uint32_t header_limit = 64 * 1024;
constexpr std::uint64_t body_limit = 256ull * 1024 * 1024;
/// A proxy's answer to CONNECT is a status line and a few headers; anything longer is not one.
constexpr std::uint32_t connect_header_limit = 16 * 1024;

/// A response body handed on as the parser finds it in the connection's read buffer: each
/// piece goes to `value_type::to`, without a copy into a body buffer of its own (Beast's
/// buffer_body would take 64 KB per connection and a copy of every byte). An error the callback
/// returns ends the read with it.
struct forwarded_body {
    using consumer = std::function<error_code(std::string_view)>;
    struct value_type {
        const consumer* to = nullptr; ///< set once the header is read, before the body
    };

    class reader {
    public:
        template <bool isRequest, class Fields>
        reader(http::header<isRequest, Fields>&, value_type& body)
            : body_(body) {}

        void init(const boost::optional<std::uint64_t>&, error_code& ec) { ec = {}; }

        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, error_code& ec) {
            std::size_t taken = 0;
            for (const auto b : beast::buffers_range_ref(buffers)) {
                ec = (*body_.to)(std::string_view(static_cast<const char*>(b.data()), b.size()));
                if (ec) {
                    return taken;
                }
                taken += b.size();
            }
            return taken;
        }

        void finish(error_code& ec) { ec = {}; }

    private:
        value_type& body_;
    };
};

/// Maps a failed phase's error: the stream's timeout becomes the phase's own code, the forms of
/// "the peer closed before the response was complete" become errc::connection_closed.
error_code phase_error(const error_code& ec, errc timeout_code) {
    if (ec == beast::error::timeout) {
        return timeout_code;
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        return errc::connection_closed;
    }
    return ec;
}

bool is_ip_literal(const std::string& host) {
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

} // namespace

connection::connection(const asio::any_io_executor& executor, asio::ssl::context* tls,
                       std::uint64_t max_inflated)
    : stream_(std::in_place_index<0>, executor)
    , resolver_(executor)
    , max_inflated_(max_inflated) {
    // Beast reads at most the buffer's free capacity (at least 512 bytes): left empty, a 50 KB
    // page took ~100 recvmsg calls. 64 KB of capacity makes it a handful.
    buffer_.reserve(read_buffer_size);
    if (tls != nullptr) {
        stream_.emplace<tls_stream>(executor, *tls);
    }
}

beast::tcp_stream& connection::tcp() noexcept {
    if (auto* plain = std::get_if<beast::tcp_stream>(&stream_)) {
        return *plain;
    }
    return std::get<tls_stream>(stream_).next_layer();
}

bool connection::is_open() const noexcept {
    return const_cast<connection*>(this)->tcp().socket().is_open();
}

void connection::close() noexcept {
    resolver_.cancel();
    if (auto* tls = std::get_if<tls_stream>(&stream_)) {
        // Without this, freeing an SSL that sent no close_notify marks its session (which the
        // pool shares by reference) as not resumable, and resumption would never happen.
        SSL_set_shutdown(tls->native_handle(), SSL_SENT_SHUTDOWN);
    }
    error_code ignored;
    auto& s = tcp();
    s.expires_never();
    s.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    s.socket().close(ignored);
}

bool connection::peer_closed() noexcept {
    auto& socket = tcp().socket();
    if (!socket.is_open()) {
        return true;
    }
#if defined(_WIN32)
    return false;
#else
    char byte = 0;
    const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) {
        return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }
    if (n == 0) {
        return true; // the peer's FIN
    }
    // Bytes on an idle plain HTTP/1.1 connection are garbage that would be taken for the next
    // response. Under TLS they may be a close_notify but also a late session ticket (TLS 1.3
    // encrypts both alike), so the connection is tried; if it was closed, the exchange fails
    // before any response byte and is retried on a fresh one.
    return std::holds_alternative<boost::beast::tcp_stream>(stream_);
#endif
}

ssl_session_ptr connection::resumable_session() const noexcept {
    const auto* tls = std::get_if<tls_stream>(&stream_);
    if (tls == nullptr) {
        return nullptr;
    }
    ssl_session_ptr session(SSL_get1_session(const_cast<tls_stream*>(tls)->native_handle()));
    if (session && SSL_SESSION_is_resumable(session.get()) != 1) {
        return nullptr;
    }
    return session;
}

asio::awaitable<error_code> connection::resolve(const std::string& host, std::uint16_t port,
                                                std::chrono::milliseconds timeout,
                                                asio::ip::tcp::resolver::results_type& out) {
    const std::string service = std::to_string(port);
    if (is_ip_literal(host)) {
        // No resolver thread round trip for addresses (the simulator, proxies by IP).
        const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(host), port);
        out = asio::ip::tcp::resolver::results_type::create(endpoint, host, service);
        co_return error_code{};
    }
    // The resolver has neither a timeout nor per-operation cancellation: a timer and the
    // coroutine's cancellation slot both cancel it. Their handlers hold the connection alive.
    auto self = shared_from_this();
    resolve_timed_out_ = false;
    asio::steady_timer timer(resolver_.get_executor(), timeout);
    timer.async_wait([self](const error_code& ec) {
        if (!ec) {
            self->resolve_timed_out_ = true;
            self->resolver_.cancel();
        }
    });
    auto cs = co_await asio::this_coro::cancellation_state;
    auto slot = cs.slot();
    if (slot.is_connected()) {
        slot.assign([self](asio::cancellation_type) { self->resolver_.cancel(); });
    }
    auto [ec, results] = co_await resolver_.async_resolve(host, service, use_tuple);
    if (slot.is_connected()) {
        slot.clear();
    }
    timer.cancel();
    if (ec && resolve_timed_out_) {
        co_return errc::resolve_timeout;
    }
    if (!ec && results.empty()) {
        ec = asio::error::host_not_found;
    }
    out = std::move(results);
    co_return ec;
}

asio::awaitable<error_code> connection::async_open(const origin& where, const proxy_endpoint* via,
                                                   const timeout_config& timeouts,
                                                   ssl_session_ptr resume, open_outcome& outcome) {
    outcome = {};
    // Through a proxy the client only ever resolves and connects to the proxy: the proxy
    // resolves the server's name, which may not even resolve from here.
    asio::ip::tcp::resolver::results_type endpoints;
    if (auto ec = co_await resolve(via != nullptr ? via->host : where.host,
                                   via != nullptr ? via->port : where.port, timeouts.resolve,
                                   endpoints)) {
        co_return ec;
    }
    auto& s = tcp();
    s.expires_after(timeouts.connect);
    auto [ec, endpoint] = co_await s.async_connect(endpoints, use_tuple);
    if (ec) {
        co_return phase_error(ec, errc::connect_timeout);
    }
    // Requests are small and written at once; Nagle would only add latency.
    s.socket().set_option(asio::ip::tcp::no_delay(true), ec);
    if (via != nullptr) {
        if (auto tunnel_ec = co_await open_tunnel(*via, where, timeouts, outcome.proxy_status)) {
            co_return tunnel_ec;
        }
    }

    auto* tls = std::get_if<tls_stream>(&stream_);
    if (tls == nullptr) {
        s.expires_never();
        co_return error_code{};
    }
    SSL* ssl = tls->native_handle();
    if (!is_ip_literal(where.host) && SSL_set_tlsext_host_name(ssl, where.host.c_str()) != 1) {
        co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    }
    if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0) {
        tls->set_verify_callback(asio::ssl::host_name_verification(where.host));
    }
    if (resume) {
        SSL_set_session(ssl, resume.get()); // takes its own reference
    }
    s.expires_after(timeouts.tls_handshake);
    auto [hec] = co_await tls->async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (hec) {
        co_return phase_error(hec, errc::tls_handshake_timeout);
    }
    outcome.resumed = SSL_session_reused(ssl) == 1;
    s.expires_never();
    co_return error_code{};
}

asio::awaitable<error_code> connection::open_tunnel(const proxy_endpoint& via, const origin& where,
                                                    const timeout_config& timeouts,
                                                    unsigned& proxy_status) {
    auto& s = tcp();
    const std::string target = tunnel_target(where);
    http::request<http::empty_body> connect{http::verb::connect, target, 11};
    connect.set(http::field::host, target);
    if (!via.authorization.empty()) {
        connect.set(http::field::proxy_authorization, via.authorization);
    }
    s.expires_after(timeouts.write);
    auto [write_ec, written] = co_await http::async_write(s, connect, use_tuple);
    if (write_ec) {
        co_return phase_error(write_ec, errc::write_timeout);
    }
    // The header only: a 2xx answer to CONNECT has no body (RFC 9110 9.3.6), and after any
    // other the connection is dropped unread.
    http::response_parser<http::empty_body> parser;
    parser.header_limit(connect_header_limit);
    s.expires_after(timeouts.first_byte);
    auto [read_ec, read] = co_await http::async_read_header(s, buffer_, parser, use_tuple);
    if (read_ec == beast::error::timeout) {
        co_return errc::first_byte_timeout;
    }
    if (read_ec == asio::error::operation_aborted) {
        co_return read_ec;
    }
    if (read_ec) {
        // A close, a reset, or bytes that are not an HTTP response: no tunnel from this proxy.
        co_return errc::proxy_refused;
    }
    const unsigned status = parser.get().result_int();
    if (status < 200 || status >= 300) {
        proxy_status = status;
        // tinyproxy answers 401, not 407, to credentials it refuses; from a proxy, both mean
        // that this configuration cannot pass it.
        co_return status == 407 || status == 401 ? errc::proxy_auth_required : errc::proxy_refused;
    }
    if (buffer_.size() != 0) {
        // Bytes from the server side before the client spoke: the TLS handshake (or the first
        // plain request) would read them as the server's, so the tunnel is not usable.
        co_return errc::proxy_refused;
    }
    co_return error_code{};
}

asio::awaitable<error_code>
connection::async_exchange(const http_request& request, std::string_view host_header,
                           http_response& response, const body_sink* sink,
                           const timeout_config& timeouts, exchange_outcome& outcome) {
    if (auto* tls = std::get_if<tls_stream>(&stream_)) {
        co_return co_await exchange_on(*tls, request, host_header, response, sink, timeouts,
                                       outcome);
    }
    co_return co_await exchange_on(std::get<beast::tcp_stream>(stream_), request, host_header,
                                   response, sink, timeouts, outcome);
}

template <class Stream>
asio::awaitable<error_code>
connection::exchange_on(Stream& stream, const http_request& request, std::string_view host_header,
                        http_response& response, const body_sink* sink,
                        const timeout_config& timeouts, exchange_outcome& outcome) {
    outcome = {};
    auto& s = tcp();

    // span_body: the POST body is written from the caller's string, not copied.
    http::request<http::span_body<const char>> message{request.method, request.target, 11};
    message.set(http::field::host, host_header);
    if (!request.user_agent.empty()) {
        message.set(http::field::user_agent, request.user_agent);
    }
    if (!request.authorization.empty()) {
        message.set(http::field::authorization, request.authorization);
    }
    if (!request.content_type.empty()) {
        message.set(http::field::content_type, request.content_type);
    }
    if (!request.accept.empty()) {
        message.set(http::field::accept, request.accept);
    }
    if (!request.accept_encoding.empty()) {
        message.set(http::field::accept_encoding, request.accept_encoding);
    }
    message.body() = std::span<const char>(request.body.data(), request.body.size());
    if (!request.body.empty() || request.method == http::verb::post ||
        request.method == http::verb::put) {
        message.prepare_payload();
    }
    s.expires_after(timeouts.write);
    auto [write_ec, written] = co_await http::async_write(stream, message, use_tuple);
    if (write_ec) {
        co_return phase_error(write_ec, errc::write_timeout);
    }

    http::response_parser<forwarded_body> parser;
    if (request.method == http::verb::head) {
        parser.skip(true); // Content-Length describes a body that is not sent
    }
    parser.header_limit(header_limit);
    parser.body_limit(body_limit);
    const std::size_t buffered_before = buffer_.size();
    s.expires_after(timeouts.first_byte);
    auto [header_ec, header_bytes] =
        co_await http::async_read_header(stream, buffer_, parser, use_tuple);
    outcome.got_response_byte = parser.got_some() || buffer_.size() > buffered_before;
    if (header_ec) {
        co_return phase_error(header_ec, errc::first_byte_timeout);
    }
    const auto& header = parser.get();
    response.status = header.result_int();
    response.retry_after.assign(header[http::field::retry_after]);
    response.www_authenticate.assign(header[http::field::www_authenticate]);
    response.content_type.assign(header[http::field::content_type]);
    response.content_encoding.assign(header[http::field::content_encoding]);
    const bool to_sink =
        sink != nullptr && *sink && response.status >= 200 && response.status < 300;
    content_coding coding = content_coding::identity;
    if (!parse_content_coding(response.content_encoding, coding)) {
        co_return errc::bad_content_encoding; // not reused: the body is left unread
    }
    inflater_.reset(coding, max_inflated_);
    // Where the (inflated) body goes: the sink for a 2xx, else response.body, kept short.
    const inflater::output deliver = [&](std::string_view bytes) -> error_code {
        response.decoded_bytes += bytes.size();
        if (to_sink) {
            return (*sink)(bytes);
        }
        if (response.body.size() < http_pool::max_buffered_body) {
            response.body.append(
                bytes.substr(0, http_pool::max_buffered_body - response.body.size()));
        }
        return {};
    };
    diagnostics inflate_diag; // the error code says enough at this layer

    const forwarded_body::consumer take = [&](std::string_view wire_bytes) {
        response.body_bytes += wire_bytes.size();
        return inflater_.write(wire_bytes, deliver, inflate_diag);
    };
    parser.get().body().to = &take;
    if (!parser.is_done()) {
        s.expires_after(timeouts.body);
        auto [ec, read] = co_await http::async_read(stream, buffer_, parser, use_tuple);
        if (ec) {
            co_return phase_error(ec, errc::body_timeout);
        }
    }
    if (auto body_ec = inflater_.finish(inflate_diag)) {
        co_return body_ec;
    }
    s.expires_never();
    outcome.keep_alive = parser.get().keep_alive();
    co_return error_code{};
}

} // namespace dynjobs::net
