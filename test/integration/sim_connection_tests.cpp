// What the simulator does to connections, seen from a client over loopback TLS, and the counters
// that let client tests check it really happened.
//
// The probe below is independent of the library's connection pool (as test_client is): it must
// show what the server did, including to a connection the client would consider healthy.
#include "sim_fixture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

namespace {

using namespace dynjobs;
using namespace dynjobs::testkit;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using namespace std::chrono_literals;

struct session_free {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using session_ptr = std::unique_ptr<SSL_SESSION, session_free>;

/// A client TLS context that trusts the simulator and keeps every session ticket it is sent:
/// how many came, and the latest (to resume with).
class ticket_jar {
public:
    explicit ticket_jar(const std::string& ca_pem, int max_tls_version = 0) {
        ctx_.set_verify_mode(asio::ssl::verify_peer);
        ctx_.add_certificate_authority(asio::buffer(ca_pem));
        ctx_.set_verify_callback(asio::ssl::host_name_verification("localhost"));
        SSL_CTX* native = ctx_.native_handle();
        if (max_tls_version != 0)
            SSL_CTX_set_max_proto_version(native, max_tls_version);
        // The callback sees each new session (TLS 1.3: each ticket); no internal store, so that
        // a session is only resumed when a test offers it.
        SSL_CTX_set_session_cache_mode(native,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_set_ex_data(native, jar_index(), this);
        SSL_CTX_sess_set_new_cb(native, &ticket_jar::on_new_session);
    }
    ticket_jar(const ticket_jar&) = delete;
    ticket_jar& operator=(const ticket_jar&) = delete;

    asio::ssl::context& context() { return ctx_; }
    std::size_t tickets() const { return tickets_; }
    SSL_SESSION* latest() const { return latest_.get(); }

private:
    static int jar_index() {
        static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
        return index;
    }
    static int on_new_session(SSL* ssl, SSL_SESSION* session) {
        auto* jar =
            static_cast<ticket_jar*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), jar_index()));
        ++jar->tickets_;
        jar->latest_.reset(session);
        return 1; // the jar owns the reference now
    }

    asio::ssl::context ctx_{asio::ssl::context::tls_client};
    std::size_t tickets_ = 0;
    session_ptr latest_;
};

inline auto with_ec(error_code& ec) {
    return asio::redirect_error(asio::use_awaitable, ec);
}

/// What a connection looks like after waiting for the server to close it.
enum class link { open, closed, unexpected_bytes };

/// One TLS connection to the simulator, driven synchronously (each call runs a private
/// io_context until its operation ends or the 5 s operation timeout fires).
class probe {
public:
    probe(std::uint16_t port, ticket_jar& jar, SSL_SESSION* resume = nullptr)
        : stream_(beast::tcp_stream(ioc_), jar.context()) {
        SSL_set_tlsext_host_name(stream_.native_handle(), "localhost");
        if (resume != nullptr)
            SSL_set_session(stream_.native_handle(), resume);
        error_code ec;
        run([&]() -> asio::awaitable<void> {
            auto& tcp = beast::get_lowest_layer(stream_);
            tcp.expires_after(5s);
            co_await tcp.async_connect({asio::ip::make_address("127.0.0.1"), port}, with_ec(ec));
            if (!ec)
                co_await stream_.async_handshake(asio::ssl::stream_base::client, with_ec(ec));
        });
        if (ec)
            throw std::runtime_error("probe cannot connect: " + ec.message());
    }

    bool resumed() { return SSL_session_reused(stream_.native_handle()) == 1; }

    /// Sends a GET and reads its response; the transport error, if any.
    error_code try_get(std::string_view target, http::response<http::string_body>& out,
                       std::string_view bearer = {}) {
        http::request<http::string_body> req{http::verb::get, target, 11};
        req.set(http::field::host, "localhost");
        if (!bearer.empty())
            req.set(http::field::authorization, "Bearer " + std::string(bearer));
        req.keep_alive(true);
        error_code ec;
        run([&]() -> asio::awaitable<void> {
            beast::get_lowest_layer(stream_).expires_after(5s);
            co_await http::async_write(stream_, req, with_ec(ec));
            if (ec)
                co_return;
            http::response_parser<http::string_body> parser;
            parser.body_limit(64u << 20);
            co_await http::async_read(stream_, buffer_, parser, with_ec(ec));
            if (!ec)
                out = parser.release();
        });
        return ec;
    }

    http::response<http::string_body> get(std::string_view target, std::string_view bearer = {}) {
        http::response<http::string_body> res;
        if (auto ec = try_get(target, res, bearer))
            throw std::runtime_error("probe GET failed: " + ec.message());
        return res;
    }

    /// Waits up to `patience` for the server to end the connection, without disturbing one that
    /// stays open: a read raced by a timer that cancels it (the stream's own timeout would
    /// close the socket). Not poll(): the server's close_notify may already sit in the TLS
    /// layer's buffer, read along with the last response.
    link wait_for_close(std::chrono::milliseconds patience) {
        auto& tcp = beast::get_lowest_layer(stream_);
        tcp.expires_never();
        std::array<char, 256> scratch{};
        std::size_t n = 0;
        error_code ec;
        bool timed_out = false;
        asio::steady_timer timer(ioc_, patience);
        timer.async_wait([&](error_code e) {
            if (!e) {
                timed_out = true;
                tcp.cancel();
            }
        });
        stream_.async_read_some(asio::buffer(scratch), [&](error_code e, std::size_t k) {
            ec = e;
            n = k;
            timer.cancel();
        });
        ioc_.restart();
        ioc_.run();
        if (timed_out && ec == asio::error::operation_aborted)
            return link::open;
        // A close_notify (eof), a bare FIN (stream_truncated) or a reset; else bytes nobody
        // asked for.
        return n == 0 && ec ? link::closed : link::unexpected_bytes;
    }

private:
    template <class Op>
    void run(Op op) {
        std::exception_ptr failure;
        asio::co_spawn(ioc_, op(), [&](std::exception_ptr e) { failure = e; });
        ioc_.restart();
        ioc_.run();
        if (failure)
            std::rethrow_exception(failure);
    }

    asio::io_context ioc_;
    asio::ssl::stream<beast::tcp_stream> stream_;
    beast::flat_buffer buffer_;
};

/// Polls the simulator's counters until `done` holds or 5 s pass (the server counts on its own
/// threads, a moment after the client has seen the effect). Returns the last snapshot.
template <class Done>
sim::sim_counters counters_when(const sim::simulator& sim, Done done) {
    auto c = sim.counters();
    for (int i = 0; i < 500 && !done(c); ++i) {
        std::this_thread::sleep_for(10ms);
        c = sim.counters();
    }
    return c;
}

std::string connection_header(const http::response<http::string_body>& res) {
    return std::string(res[http::field::connection]);
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_connections)

BOOST_AUTO_TEST_CASE(keepalive_requests_closes_after_the_nth_response) {
    auto config = small_sim_config();
    config.keepalive_requests = 3;
    sim_fixture fx(config);
    ticket_jar jar(fx.sim().ca_pem());
    probe p(fx.sim().https_port(), jar);
    BOOST_TEST(connection_header(p.get(jobs_target())) == "keep-alive");
    BOOST_TEST(connection_header(p.get(jobs_target())) == "keep-alive");
    const auto third = p.get(jobs_target());
    BOOST_TEST(third.result_int() == 401u); // a normal answer, only the connection ends
    BOOST_TEST(connection_header(third) == "close");
    BOOST_TEST((p.wait_for_close(2s) == link::closed));
    const auto c = counters_when(fx.sim(), [](const auto& c) { return c.closed_keepalive_limit; });
    BOOST_TEST(c.closed_keepalive_limit == 1u);
    BOOST_TEST(c.closed_fault + c.closed_idle + c.closed_close_all == 0u);
}

BOOST_AUTO_TEST_CASE(without_a_limit_a_connection_stays_open) {
    sim_fixture fx;
    ticket_jar jar(fx.sim().ca_pem());
    probe p(fx.sim().https_port(), jar);
    for (int i = 0; i < 10; ++i)
        BOOST_TEST(connection_header(p.get(jobs_target())) == "keep-alive");
    BOOST_TEST((p.wait_for_close(300ms) == link::open));
    BOOST_TEST(fx.sim().counters().closed_keepalive_limit == 0u);
}

BOOST_AUTO_TEST_CASE(idle_timeout_closes_a_quiet_connection) {
    auto config = small_sim_config();
    config.idle_timeout = 200ms;
    sim_fixture fx(config);
    ticket_jar jar(fx.sim().ca_pem());
    probe p(fx.sim().https_port(), jar);
    p.get(jobs_target());
    const auto since = std::chrono::steady_clock::now();
    BOOST_TEST((p.wait_for_close(5s) == link::closed));
    const auto waited = std::chrono::steady_clock::now() - since;
    BOOST_TEST(waited >= 150ms); // not at once: only after the idle time
    BOOST_TEST(waited < 3s);
    const auto c = counters_when(fx.sim(), [](const auto& c) { return c.closed_idle; });
    BOOST_TEST(c.closed_idle == 1u);
}

BOOST_AUTO_TEST_CASE(close_after_answers_in_full_then_drops_the_connection) {
    sim_fixture fx;
    const std::string token = fx.token();
    sim::fault_config faults;
    sim::fault_rule rule;
    rule.kind = sim::fault_kind::close_after_response;
    rule.path = "/dynamicsbackup/jobs";
    faults.schedule.push_back(rule);
    fx.sim().set_fault_config(faults);

    ticket_jar jar(fx.sim().ca_pem());
    probe p(fx.sim().https_port(), jar);
    const auto res = p.get(jobs_target("type=0", 1, 10), token);
    BOOST_TEST(res.result_int() == 200u);
    BOOST_TEST(connection_header(res) == "keep-alive"); // nothing warns the client
    const auto body = boost::json::parse(res.body()).as_object();
    BOOST_TEST(body.at("jobs").as_array().size() == 10u);
    BOOST_TEST((p.wait_for_close(2s) == link::closed));
    http::response<http::string_body> again;
    BOOST_TEST(p.try_get(jobs_target("type=0", 2, 10), again, token).failed());

    const auto c = counters_when(fx.sim(), [](const auto& c) { return c.closed_fault; });
    BOOST_TEST(c.closed_fault == 1u);
    BOOST_TEST(c.by_fault.at(sim::fault_kind::close_after_response) == 1u);
    // Only that response: a new connection is served as usual.
    probe fresh(fx.sim().https_port(), jar);
    BOOST_TEST(fresh.get(jobs_target("type=0", 2, 10), token).result_int() == 200u);
    BOOST_TEST((fresh.wait_for_close(200ms) == link::open));
}

BOOST_AUTO_TEST_CASE(close_all_every_closes_every_open_connection_at_once) {
    auto config = small_sim_config();
    config.close_all_every = 4;
    sim_fixture fx(config);
    const std::string token = fx.token();
    // The token's connection must be gone, so that only the probes are open when the drain comes.
    BOOST_TEST_REQUIRE(counters_when(fx.sim(), [](const auto& c) {
                           return c.connections_open == 0;
                       }).connections_open == 0u);

    ticket_jar jar(fx.sim().ca_pem());
    std::vector<std::unique_ptr<probe>> idle;
    for (int i = 1; i <= 3; ++i) {
        idle.push_back(std::make_unique<probe>(fx.sim().https_port(), jar));
        BOOST_TEST(idle.back()->get(jobs_target("type=0", i, 10), token).result_int() == 200u);
    }
    for (auto& p : idle) // three jobs requests: no drain yet
        BOOST_TEST((p->wait_for_close(50ms) == link::open));

    probe fourth(fx.sim().https_port(), jar);
    const auto res = fourth.get(jobs_target("type=0", 4, 10), token);
    BOOST_TEST(res.result_int() == 200u); // answered in full before its connection closes
    BOOST_TEST(boost::json::parse(res.body()).as_object().at("jobs").as_array().size() == 10u);
    BOOST_TEST((fourth.wait_for_close(2s) == link::closed));
    for (auto& p : idle)
        BOOST_TEST((p->wait_for_close(2s) == link::closed));

    const auto c = counters_when(fx.sim(), [](const auto& c) { return c.closed_close_all >= 4; });
    BOOST_TEST(c.close_all_drains == 1u);
    BOOST_TEST(c.closed_close_all == 4u);
    BOOST_TEST(c.jobs_requests == 4u);
    // The server goes on: a new connection is served, and the 8th jobs request drains again.
    std::vector<std::unique_ptr<probe>> next;
    for (int i = 5; i <= 8; ++i) {
        next.push_back(std::make_unique<probe>(fx.sim().https_port(), jar));
        BOOST_TEST(next.back()->get(jobs_target("type=0", i, 10), token).result_int() == 200u);
    }
    for (auto& p : next)
        BOOST_TEST((p->wait_for_close(2s) == link::closed));
    BOOST_TEST(counters_when(fx.sim(), [](const auto& c) {
                   return c.closed_close_all >= 8;
               }).close_all_drains == 2u);
}

BOOST_AUTO_TEST_CASE(sessions_resume_with_the_tickets_sent) {
    sim_fixture fx;
    ticket_jar jar(fx.sim().ca_pem());
    // Kept open: OpenSSL marks the session of a connection freed without a TLS shutdown as not
    // resumable, and a pool opens new connections while its others live.
    probe first(fx.sim().https_port(), jar);
    BOOST_TEST(!first.resumed());
    first.get(jobs_target());        // reading the response also reads the tickets
    BOOST_TEST(jar.tickets() == 2u); // OpenSSL's default, kept by default
    BOOST_TEST_REQUIRE(jar.latest() != nullptr);
    probe second(fx.sim().https_port(), jar, jar.latest());
    BOOST_TEST(second.resumed());
    BOOST_TEST(second.get(jobs_target()).result_int() == 401u);
    const auto c = counters_when(fx.sim(), [](const auto& c) { return c.tls_handshakes >= 2; });
    BOOST_TEST(c.tls_handshakes == 2u);
    BOOST_TEST(c.tls_resumed_handshakes == 1u);
}

BOOST_AUTO_TEST_CASE(tls_tickets_sets_how_many_tickets_a_handshake_brings) {
    auto config = small_sim_config();
    config.tls_session_tickets = 5;
    sim_fixture fx(config);
    ticket_jar jar(fx.sim().ca_pem());
    probe p(fx.sim().https_port(), jar);
    p.get(jobs_target());
    BOOST_TEST(jar.tickets() == 5u);
}

BOOST_AUTO_TEST_CASE(refused_resumption_makes_every_handshake_full) {
    for (const int max_version : {0, TLS1_2_VERSION}) {
        BOOST_TEST_CONTEXT("max TLS version " << max_version) {
            auto config = small_sim_config();
            config.session_resumption = false;
            sim_fixture fx(config);
            ticket_jar jar(fx.sim().ca_pem(), max_version);
            probe first(fx.sim().https_port(), jar); // open, as in the test above
            first.get(jobs_target());
            BOOST_TEST(jar.tickets() == 0u); // nothing a client could resume with
            for (int i = 0; i < 3; ++i) {
                probe next(fx.sim().https_port(), jar, jar.latest());
                BOOST_TEST(!next.resumed());
                BOOST_TEST(next.get(jobs_target()).result_int() == 401u);
            }
            const auto c =
                counters_when(fx.sim(), [](const auto& c) { return c.tls_handshakes >= 4; });
            BOOST_TEST(c.tls_handshakes == 4u);
            BOOST_TEST(c.tls_resumed_handshakes == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(tls_1_2_sessions_resume_unless_refused) {
    // The control for the test above: the same TLS 1.2 client does resume by default.
    sim_fixture fx;
    ticket_jar jar(fx.sim().ca_pem(), TLS1_2_VERSION);
    probe first(fx.sim().https_port(), jar);
    first.get(jobs_target());
    BOOST_TEST(jar.tickets() == 1u);
    BOOST_TEST_REQUIRE(jar.latest() != nullptr);
    probe second(fx.sim().https_port(), jar, jar.latest());
    BOOST_TEST(second.resumed());
    BOOST_TEST(counters_when(fx.sim(), [](const auto& c) {
                   return c.tls_resumed_handshakes >= 1;
               }).tls_resumed_handshakes == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
