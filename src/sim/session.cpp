// src/sim/session.cpp - one connection: TLS handshake, keep-alive request loop, faults on the wire.
//
// Each connection is a coroutine on its own strand; stop() posts abort() to that strand, so the
// socket is only ever touched from one place at a time even on a multi-threaded io_context.
// Responses are serialised by hand (not with http::async_write) because several faults need
// byte-level control: stop half-way through the body, lie in Content-Length, trickle, cut
// chunks at awkward places.
#include "simulator_impl.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/range/iterator_range_core.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace dynjobs::sim::detail {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

inline auto with_ec(error_code& ec) {
    return asio::redirect_error(asio::use_awaitable, ec);
}

/// Status line and headers; the body follows separately. The body's framing: Content-Length
/// of the reply's body, or Transfer-Encoding: chunked when `chunked`.
std::string serialize_head(const http_reply& reply, bool chunked, bool keep_alive) {
    std::string head = "HTTP/1.1 " + std::to_string(reply.status) + ' ';
    head += std::string_view(http::obsolete_reason(http::int_to_status(reply.status)));
    head += "\r\nDate: " + format_http_date(std::chrono::system_clock::now());
    head += "\r\nServer: dynjobs-sim\r\n";
    for (const auto& [name, value] : reply.headers)
        head += name + ": " + value + "\r\n";
    head += chunked ? std::string("Transfer-Encoding: chunked\r\n")
                    : "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
    head += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    return head;
}

/// The body in chunks of the planned sizes (RFC 9112 section 7.1), each
/// `<size in hex>\r\n<bytes>\r\n`, then the last chunk `0\r\n\r\n`.
std::string chunk_body(const wire_plan& plan) {
    const std::string& body = plan.reply.body;
    std::string out;
    out.reserve(body.size() + plan.chunks.size() * 8 + 5);
    std::size_t at = 0;
    for (const std::size_t n : plan.chunks) {
        std::array<char, 16> hex{};
        const auto end = std::to_chars(hex.data(), hex.data() + hex.size(), n, 16).ptr;
        out.append(hex.data(), end);
        out += "\r\n";
        out.append(body, at, n);
        out += "\r\n";
        at += n;
    }
    out += "0\r\n\r\n";
    return out;
}

/// Every Accept-Encoding line of the request as one list, as RFC 9110 section 5.3 allows a
/// recipient to combine them.
std::string accept_encoding(const http::request<http::string_body>& req) {
    std::string out;
    for (const auto& line :
         boost::make_iterator_range(req.equal_range(http::field::accept_encoding))) {
        if (!out.empty())
            out += ", ";
        out += std::string_view(line.value());
    }
    return out;
}

template <class Stream>
class connection final : public connection_base,
                         public std::enable_shared_from_this<connection<Stream>> {
public:
    static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

    template <class... Args>
    connection(std::shared_ptr<simulator::impl> sim, Args&&... stream_args)
        : sim_(std::move(sim))
        , stream_(std::forward<Args>(stream_args)...)
        , timer_(beast::get_lowest_layer(stream_).get_executor()) {}

    void abort() override {
        aborted_ = true;
        beast::get_lowest_layer(stream_).close();
        timer_.cancel();
    }
    void close_when_idle() override {
        if (aborted_ || drained_ || finishing_)
            return;
        drained_ = true;
        // Between requests (or still in the handshake): closed at once, as a draining load
        // balancer drops idle connections; a busy one is closed by serve() after its response.
        if (!busy_) {
            if (beast::get_lowest_layer(stream_).socket().is_open())
                sim_->count(&sim_counters::closed_close_all);
            abort();
        }
    }
    asio::any_io_executor executor() override { return timer_.get_executor(); }

    void set_id(std::uint64_t id) { id_ = id; }

    /// The connection's coroutine. Static with `self` by value: the frame owns the connection
    /// from creation, before the coroutine first runs.
    static asio::awaitable<void> run(std::shared_ptr<connection> self) { co_await self->serve(); }

private:
    asio::awaitable<void> serve() {
        error_code ec;
        auto& tcp = beast::get_lowest_layer(stream_);
        if constexpr (is_tls) {
            tcp.expires_after(sim_->config.io_timeout);
            co_await stream_.async_handshake(asio::ssl::stream_base::server, with_ec(ec));
            count_handshake(ec);
        }
        bool graceful = !ec;
        beast::flat_buffer buffer;
        std::size_t served = 0;
        while (!ec && !aborted_) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(16 * 1024);
            parser.body_limit(1024 * 1024); // a token request is < 10 KB; nothing needs more
            // The idle timeout covers the wait for the next request and reading it.
            tcp.expires_after(sim_->config.idle_timeout);
            co_await http::async_read(stream_, buffer, parser, with_ec(ec));
            if (ec) {
                if (ec == beast::error::timeout)
                    sim_->count(&sim_counters::closed_idle);
                graceful = false; // peer gone, timed out or sent garbage: nothing to say to it
                break;
            }
            busy_ = true;
            const auto& req = parser.get();
            const std::string codings = accept_encoding(req);
            request_view view{req.method_string(),
                              req.target(),
                              req[http::field::authorization],
                              req[http::field::content_type],
                              req.body(),
                              codings,
                              id_,
                              is_tls};
            wire_plan plan = route(*sim_, view);
            const bool client_keeps_alive = req.keep_alive() && !plan.close;
            const std::size_t limit = sim_->config.keepalive_requests;
            const bool limit_reached = limit != 0 && ++served >= limit;
            const bool keep_alive = client_keeps_alive && !limit_reached;
            graceful = co_await play(plan, keep_alive, ec);
            busy_ = false;
            if (ec || aborted_)
                break;
            if (!keep_alive) {
                if (client_keeps_alive)
                    sim_->count(&sim_counters::closed_keepalive_limit);
                break;
            }
            if (drained_) {
                sim_->count(&sim_counters::closed_close_all);
                break;
            }
        }
        finishing_ = true;
        co_await finish(graceful && !aborted_);
        sim_->remove_connection(id_);
    }

    /// Counts a finished handshake: failed (unless stop() or a drain cut it), full or resumed.
    void count_handshake(const error_code& ec) {
        if (ec) {
            if (!aborted_)
                sim_->count(&sim_counters::tls_handshake_failures);
            return;
        }
        const bool resumed = SSL_session_reused(stream_.native_handle()) == 1;
        std::lock_guard lock(sim_->mutex);
        ++sim_->counters.tls_handshakes;
        if (resumed)
            ++sim_->counters.tls_resumed_handshakes;
    }

    /// Waits `d` on the connection's timer; false when aborted meanwhile.
    asio::awaitable<bool> sleep(std::chrono::milliseconds d) {
        if (d.count() <= 0)
            co_return !aborted_;
        error_code ec;
        timer_.expires_after(d);
        co_await timer_.async_wait(with_ec(ec));
        co_return !aborted_;
    }

    /// Sends `bytes`; with a bandwidth limit, slice by slice, each when the shared link has
    /// carried it.
    asio::awaitable<void> write(std::string_view bytes, error_code& ec) {
        auto& tcp = beast::get_lowest_layer(stream_);
        if (!sim_->link) {
            tcp.expires_after(sim_->config.io_timeout);
            co_await asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                                       with_ec(ec));
            co_return;
        }
        // Slices of at most 10 ms of the link (so connections take turns finely), at least
        // 512 bytes (so a slow link is not a timer per byte), at most one TLS record.
        const std::size_t slice =
            std::clamp<std::uint64_t>(sim_->link->bits_per_second() / 8 / 100, 512, 16 * 1024);
        while (!ec && !bytes.empty()) {
            const std::string_view part = bytes.substr(0, slice);
            timer_.expires_at(sim_->link->reserve(part.size(), std::chrono::steady_clock::now()));
            error_code ignored;
            co_await timer_.async_wait(with_ec(ignored));
            if (aborted_) {
                ec = asio::error::operation_aborted;
                break;
            }
            tcp.expires_after(sim_->config.io_timeout);
            co_await asio::async_write(stream_, asio::buffer(part.data(), part.size()),
                                       with_ec(ec));
            bytes.remove_prefix(part.size());
        }
    }

    /// Sends one planned response. Returns whether the connection may still be closed
    /// gracefully; sets ec when it can no longer be used.
    asio::awaitable<bool> play(const wire_plan& plan, bool keep_alive, error_code& ec) {
        if (!co_await sleep(plan.delay)) {
            ec = asio::error::operation_aborted;
            co_return false;
        }
        const bool chunked = !plan.chunks.empty();
        const std::string chunked_body = chunked ? chunk_body(plan) : std::string();
        const std::string& body = chunked ? chunked_body : plan.reply.body; // as on the wire
        switch (plan.transport_fault) {
        case fault_kind::close_before_response:
            hard_close(false);
            sim_->count(&sim_counters::closed_fault);
            ec = asio::error::connection_aborted;
            co_return false;
        case fault_kind::reset_mid_body:
        case fault_kind::truncated_body: {
            // The framing promises the whole body; only the first half is sent.
            std::string bytes = serialize_head(plan.reply, chunked, keep_alive);
            bytes.append(body, 0, body.size() / 2);
            co_await write(bytes, ec);
            hard_close(plan.transport_fault == fault_kind::reset_mid_body);
            sim_->count(&sim_counters::closed_fault);
            ec = asio::error::connection_aborted;
            co_return false;
        }
        case fault_kind::trickle_body: {
            co_await write(serialize_head(plan.reply, chunked, keep_alive), ec);
            for (std::size_t at = 0; !ec && at < body.size(); at += plan.trickle_chunk_bytes) {
                if (at > 0 && !co_await sleep(plan.trickle_interval)) {
                    ec = asio::error::operation_aborted;
                    break;
                }
                co_await write(std::string_view(body).substr(at, plan.trickle_chunk_bytes), ec);
            }
            co_return !ec;
        }
        default: {
            std::string bytes = serialize_head(plan.reply, chunked, keep_alive);
            bytes += body; // one write: one TLS record batch, no Nagle interplay
            co_await write(bytes, ec);
            if (!ec && plan.transport_fault == fault_kind::close_after_response) {
                // The response said keep-alive: the client finds out when it reuses the
                // connection, as with a server that dropped it while it sat in a pool.
                hard_close(false);
                sim_->count(&sim_counters::closed_fault);
                ec = asio::error::connection_aborted;
                co_return false;
            }
            co_return !ec;
        }
        }
    }

    /// Closes without any TLS close_notify. With `reset`, SO_LINGER 0 makes the kernel send RST
    /// instead of FIN, as a crashing proxy does.
    void hard_close(bool reset) {
        auto& socket = beast::get_lowest_layer(stream_).socket();
        error_code ignored;
        if (reset)
            socket.set_option(asio::socket_base::linger(true, 0), ignored);
        else
            socket.shutdown(asio::socket_base::shutdown_both, ignored);
        socket.close(ignored);
    }

    /// Ends the connection: a TLS close_notify when the conversation ended normally (bounded by
    /// a short timeout: a client that never answers it must not hold the coroutine), then close.
    asio::awaitable<void> finish(bool graceful) {
        error_code ec;
        auto& tcp = beast::get_lowest_layer(stream_);
        if constexpr (is_tls) {
            if (graceful && tcp.socket().is_open()) {
                tcp.expires_after(std::chrono::seconds(2));
                co_await stream_.async_shutdown(with_ec(ec));
            }
        } else if (graceful && tcp.socket().is_open()) {
            tcp.socket().shutdown(asio::socket_base::shutdown_send, ec);
        }
        tcp.close();
    }

    std::shared_ptr<simulator::impl> sim_;
    Stream stream_;
    asio::steady_timer timer_;
    std::uint64_t id_ = 0;
    bool aborted_ = false;
    /// A request is being answered (from its last byte read to its response written).
    bool busy_ = false;
    /// A close_all_every drain asked this connection to close.
    bool drained_ = false;
    /// The request loop is over and the connection is closing for its own reason: a drain
    /// must neither cut its TLS shutdown short nor count it a second time.
    bool finishing_ = false;
};

using tls_stream = asio::ssl::stream<beast::tcp_stream>;

template <class Stream, class... Args>
void start_session(std::shared_ptr<simulator::impl> sim, Args&&... stream_args) {
    auto conn = std::make_shared<connection<Stream>>(sim, std::forward<Args>(stream_args)...);
    const std::uint64_t id = sim->add_connection(conn);
    if (id == 0) { // stopped meanwhile
        conn->abort();
        return;
    }
    conn->set_id(id);
    // Every await uses redirect_error, so the only exceptions are allocation failures: the
    // connection is then simply dropped (the library never prints).
    asio::co_spawn(conn->executor(), connection<Stream>::run(conn), [](std::exception_ptr) {});
}

} // namespace

void start_https_session(std::shared_ptr<simulator::impl> sim, asio::ip::tcp::socket s) {
    auto& ctx = *sim->tls;
    start_session<tls_stream>(sim, beast::tcp_stream(std::move(s)), ctx);
}

void start_http_session(std::shared_ptr<simulator::impl> sim, asio::ip::tcp::socket s) {
    start_session<beast::tcp_stream>(sim, std::move(s));
}

} // namespace dynjobs::sim::detail
