// Cancelling exchanges: pool.cancel(), the awaiting coroutine's cancellation slot, the acquire
// timeout, and destroying the pool, against a server that accepts and reads but never answers.
#include "net_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <functional>

namespace {

using namespace dynjobs;
using namespace dynjobs::net_test;
using net::http_pool;
using net::http_response;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

/// Accepts connections and reads whatever comes, never writing a byte. Calls on_data when a
/// connection's first bytes arrive (a request, or a TLS ClientHello) and counts the connections
/// the peer closed.
class silent_server {
public:
    explicit silent_server(asio::io_context& ioc)
        : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        asio::co_spawn(ioc, accept_loop(), asio::detached);
    }

    std::string url(const char* scheme) const {
        return std::string(scheme) +
               "://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
    }
    void stop() {
        error_code ignored;
        acceptor_.close(ignored);
    }

    std::function<void()> on_data;
    int accepted = 0;
    int with_data = 0;
    int closed = 0;
    steady::time_point last_closed{};

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] =
                co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) {
                co_return;
            }
            ++accepted;
            asio::co_spawn(acceptor_.get_executor(), session(std::move(socket)), asio::detached);
        }
    }

    asio::awaitable<void> session(tcp::socket socket) {
        std::array<char, 4096> buffer{};
        bool first = true;
        for (;;) {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer),
                                                           asio::as_tuple(asio::use_awaitable));
            if (ec) {
                ++closed;
                last_closed = steady::now();
                co_return;
            }
            if (first) {
                first = false;
                ++with_data;
                if (on_data) {
                    on_data();
                }
            }
        }
    }

    tcp::acceptor acceptor_;
};

/// Patient timeouts: if one of them fired, the test would see its errc, not operation_aborted.
pool_config patient() {
    pool_config c;
    c.timeouts.first_byte = std::chrono::seconds(30);
    c.timeouts.tls_handshake = std::chrono::seconds(30);
    c.acquire_timeout = std::chrono::seconds(30);
    return c;
}

struct outcome {
    bool done = false;
    error_code ec;
    steady::time_point at{};
};

auto record(outcome& o) {
    return [&o](std::exception_ptr e, error_code ec) {
        BOOST_TEST(!e);
        o.done = true;
        o.ec = ec;
        o.at = steady::now();
    };
}

std::shared_ptr<asio::ssl::context> any_context() {
    std::shared_ptr<asio::ssl::context> ctx;
    diagnostics diag;
    BOOST_REQUIRE(!net::make_tls_context(tls_config{}, ctx, diag));
    return ctx;
}

/// The issue asks for "within 100 ms"; the suite has no timed assertions, so it is a warning.
void report_latency(steady::time_point from, steady::time_point to) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
    BOOST_TEST_MESSAGE("cancellation took " << ms << " ms");
    BOOST_WARN_LT(ms, 100);
}

} // namespace

BOOST_AUTO_TEST_SUITE(net_cancel)

BOOST_AUTO_TEST_CASE(pool_cancel_aborts_waiting_for_the_response) {
    asio::io_context ioc;
    silent_server server(ioc);
    http_pool pool(ioc.get_executor(), sim_server::parse(server.url("http")), nullptr, patient());
    const auto request = get("/"); // outlives the exchange, which refers to it
    http_response response;
    outcome result;
    steady::time_point cancelled_at{};
    server.on_data = [&] {
        cancelled_at = steady::now();
        pool.cancel();
    };
    asio::co_spawn(ioc, pool.async_exchange(request, response, nullptr), [&](auto e, auto ec) {
        record(result)(e, ec);
        server.stop();
    });
    ioc.run_for(std::chrono::seconds(20));
    BOOST_TEST_REQUIRE(result.done);
    BOOST_TEST(result.ec == error_code(asio::error::operation_aborted), result.ec.message());
    BOOST_TEST(server.accepted == 1);
    BOOST_TEST(server.closed == 1); // the socket was closed, the server saw it
    BOOST_TEST(pool.stats().open == 0u);
    report_latency(cancelled_at, std::max(result.at, server.last_closed));
}

BOOST_AUTO_TEST_CASE(coroutine_cancellation_aborts_waiting_for_the_response) {
    asio::io_context ioc;
    silent_server server(ioc);
    http_pool pool(ioc.get_executor(), sim_server::parse(server.url("http")), nullptr, patient());
    const auto request = get("/"); // outlives the exchange, which refers to it
    http_response response;
    outcome result;
    asio::cancellation_signal signal;
    steady::time_point cancelled_at{};
    server.on_data = [&] {
        cancelled_at = steady::now();
        signal.emit(asio::cancellation_type::terminal);
    };
    asio::co_spawn(ioc, pool.async_exchange(request, response, nullptr),
                   asio::bind_cancellation_slot(signal.slot(), [&](auto e, auto ec) {
                       record(result)(e, ec);
                       server.stop();
                   }));
    ioc.run_for(std::chrono::seconds(20));
    BOOST_TEST_REQUIRE(result.done);
    BOOST_TEST(result.ec == error_code(asio::error::operation_aborted), result.ec.message());
    BOOST_TEST(server.closed == 1);
    BOOST_TEST(pool.stats().open == 0u);
    report_latency(cancelled_at, std::max(result.at, server.last_closed));
}

BOOST_AUTO_TEST_CASE(coroutine_cancellation_aborts_the_tls_handshake) {
    asio::io_context ioc;
    silent_server server(ioc);
    http_pool pool(ioc.get_executor(), sim_server::parse(server.url("https")), any_context(),
                   patient());
    const auto request = get("/"); // outlives the exchange, which refers to it
    http_response response;
    outcome result;
    asio::cancellation_signal signal;
    server.on_data = [&] { signal.emit(asio::cancellation_type::terminal); }; // the ClientHello
    asio::co_spawn(ioc, pool.async_exchange(request, response, nullptr),
                   asio::bind_cancellation_slot(signal.slot(), [&](auto e, auto ec) {
                       record(result)(e, ec);
                       server.stop();
                   }));
    ioc.run_for(std::chrono::seconds(20));
    BOOST_TEST_REQUIRE(result.done);
    BOOST_TEST(result.ec == error_code(asio::error::operation_aborted), result.ec.message());
    BOOST_TEST(server.closed == 1);
    BOOST_TEST(pool.stats().open == 0u);
}

BOOST_AUTO_TEST_CASE(cancel_aborts_every_exchange_and_waiter) {
    asio::io_context ioc;
    silent_server server(ioc);
    auto config = patient();
    config.max_connections = 2;
    http_pool pool(ioc.get_executor(), sim_server::parse(server.url("https")), any_context(),
                   config);
    const auto request = get("/"); // outlives the exchanges, which refer to it
    std::array<http_response, 3> responses;
    std::array<outcome, 3> results;
    server.on_data = [&] {
        if (server.with_data == 2) {
            BOOST_TEST(pool.stats().open == 2u); // the third exchange waits for a connection
            pool.cancel();
        }
    };
    for (std::size_t i = 0; i < 3; ++i) {
        asio::co_spawn(ioc, pool.async_exchange(request, responses[i], nullptr),
                       [&, i](auto e, auto ec) {
                           record(results[i])(e, ec);
                           if (results[0].done && results[1].done && results[2].done) {
                               server.stop();
                           }
                       });
    }
    ioc.run_for(std::chrono::seconds(20));
    for (const auto& r : results) {
        BOOST_TEST_REQUIRE(r.done);
        BOOST_TEST(r.ec == error_code(asio::error::operation_aborted), r.ec.message());
    }
    BOOST_TEST(server.accepted == 2);
    BOOST_TEST(server.closed == 2);
    BOOST_TEST(pool.stats().open == 0u);
    BOOST_TEST(pool.stats().idle == 0u);
}

BOOST_AUTO_TEST_CASE(acquire_times_out_when_every_connection_is_busy) {
    asio::io_context ioc;
    silent_server server(ioc);
    auto config = patient();
    config.max_connections = 1;
    config.acquire_timeout = std::chrono::milliseconds(50);
    http_pool pool(ioc.get_executor(), sim_server::parse(server.url("http")), nullptr, config);
    const auto request = get("/"); // outlives the exchanges, which refer to it
    http_response first_response, second_response;
    outcome first, second;
    server.on_data = [&] {
        // The only connection is busy: the second exchange cannot get one.
        asio::co_spawn(ioc, pool.async_exchange(request, second_response, nullptr),
                       [&](auto e, auto ec) {
                           record(second)(e, ec);
                           pool.cancel();
                           server.stop();
                       });
    };
    asio::co_spawn(ioc, pool.async_exchange(request, first_response, nullptr), record(first));
    ioc.run_for(std::chrono::seconds(20));
    BOOST_TEST_REQUIRE(second.done);
    BOOST_TEST(second.ec == make_error_code(errc::pool_acquire_timeout), second.ec.message());
    BOOST_TEST_REQUIRE(first.done);
    BOOST_TEST(first.ec == error_code(asio::error::operation_aborted), first.ec.message());
    BOOST_TEST(server.accepted == 1);
    BOOST_TEST(pool.stats().open == 0u);
}

BOOST_AUTO_TEST_CASE(a_waiting_exchange_can_be_cancelled_alone) {
    asio::io_context ioc;
    silent_server server(ioc);
    auto config = patient();
    config.max_connections = 1;
    http_pool pool(ioc.get_executor(), sim_server::parse(server.url("http")), nullptr, config);
    const auto request = get("/"); // outlives the exchanges, which refer to it
    http_response first_response, second_response;
    outcome first, second;
    asio::cancellation_signal signal;
    server.on_data = [&] {
        asio::co_spawn(ioc, pool.async_exchange(request, second_response, nullptr),
                       asio::bind_cancellation_slot(signal.slot(), [&](auto e, auto ec) {
                           record(second)(e, ec);
                           // The first exchange still holds the only connection.
                           BOOST_TEST(!first.done);
                           BOOST_TEST(pool.stats().open == 1u);
                           pool.cancel();
                           server.stop();
                       }));
        // Runs after the second exchange has queued up for a connection.
        asio::post(ioc, [&] { signal.emit(asio::cancellation_type::terminal); });
    };
    asio::co_spawn(ioc, pool.async_exchange(request, first_response, nullptr), record(first));
    ioc.run_for(std::chrono::seconds(20));
    BOOST_TEST_REQUIRE(second.done);
    BOOST_TEST(second.ec == error_code(asio::error::operation_aborted), second.ec.message());
    BOOST_TEST_REQUIRE(first.done);
    BOOST_TEST(first.ec == error_code(asio::error::operation_aborted), first.ec.message());
    BOOST_TEST(pool.stats().open == 0u);
}

BOOST_AUTO_TEST_CASE(destroying_the_pool_aborts_exchanges_in_flight) {
    asio::io_context ioc;
    silent_server server(ioc);
    auto pool = std::make_unique<http_pool>(
        ioc.get_executor(), sim_server::parse(server.url("https")), any_context(), patient());
    const auto request = get("/"); // outlives the exchange, which refers to it
    http_response response;
    outcome result;
    server.on_data = [&] { pool.reset(); };
    asio::co_spawn(ioc, pool->async_exchange(request, response, nullptr), [&](auto e, auto ec) {
        record(result)(e, ec);
        server.stop();
    });
    ioc.run_for(std::chrono::seconds(20));
    BOOST_TEST(!pool);
    BOOST_TEST_REQUIRE(result.done);
    BOOST_TEST(result.ec == error_code(asio::error::operation_aborted), result.ec.message());
    BOOST_TEST(server.closed == 1);
}

BOOST_AUTO_TEST_CASE(silent_tls_server_trips_the_handshake_timeout) {
    asio::io_context ioc;
    silent_server server(ioc);
    auto config = patient();
    config.timeouts.tls_handshake = std::chrono::milliseconds(100);
    http_pool pool(ioc.get_executor(), sim_server::parse(server.url("https")), any_context(),
                   config);
    const auto request = get("/");
    http_response response;
    outcome result;
    asio::co_spawn(ioc, pool.async_exchange(request, response, nullptr), [&](auto e, auto ec) {
        record(result)(e, ec);
        server.stop();
    });
    ioc.run_for(std::chrono::seconds(20));
    BOOST_TEST_REQUIRE(result.done);
    BOOST_TEST(result.ec == make_error_code(errc::tls_handshake_timeout), result.ec.message());
    BOOST_TEST(server.closed == 1);
    BOOST_TEST(pool.stats().open == 0u);
}

BOOST_AUTO_TEST_CASE(silent_server_trips_the_first_byte_timeout) {
    asio::io_context ioc;
    silent_server server(ioc);
    auto config = patient();
    config.timeouts.first_byte = std::chrono::milliseconds(100);
    http_pool pool(ioc.get_executor(), sim_server::parse(server.url("http")), nullptr, config);
    const auto request = get("/");
    http_response response;
    outcome result;
    asio::co_spawn(ioc, pool.async_exchange(request, response, nullptr), [&](auto e, auto ec) {
        record(result)(e, ec);
        server.stop();
    });
    ioc.run_for(std::chrono::seconds(20));
    BOOST_TEST_REQUIRE(result.done);
    BOOST_TEST(result.ec == make_error_code(errc::first_byte_timeout), result.ec.message());
    BOOST_TEST(server.closed == 1);
}

BOOST_AUTO_TEST_SUITE_END()
