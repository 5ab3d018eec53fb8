// The pool through proxies: CONNECT tunnels through a real tinyproxy (TLS to the origin inside
// them, plain http too, credentials), and through scripted proxies for the answers tinyproxy
// does not give (a 503, garbage, a close, bytes after the 200, silence). Also an extra CA beside
// the system's store, as users of a TLS-inspecting proxy configure it.
#include "net_fixture.hpp"
#include "tinyproxy.hpp"

#include "net/proxy.hpp"

#include <boost/asio/ssl/error.hpp>

#include <arpa/inet.h>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace dynjobs;
using namespace dynjobs::net_test;
using net::http_pool;
using net::http_response;
using testkit::tinyproxy;

/// The proxy endpoint a client configured with `url` uses (credentials included).
net::proxy_endpoint endpoint_of(const std::string& url) {
    proxy_config config;
    config.url = url;
    std::optional<net::proxy_endpoint> out;
    diagnostics diag;
    const auto ec = net::choose_proxy(config, sim_server::parse("https://server.test"),
                                      net::environment{}, out, diag);
    BOOST_TEST_REQUIRE(!ec, diag.message);
    BOOST_TEST_REQUIRE(out.has_value());
    return *out;
}

std::string target_of(const net::origin& o) {
    return "127.0.0.1:" + std::to_string(o.port);
}

/// A proxy that answers every connection with `reply` (then closes it, or keeps it open and
/// silent with `hold`), keeping the request heads it received.
class scripted_proxy {
public:
    explicit scripted_proxy(std::string reply, bool hold = false)
        : reply_(std::move(reply))
        , hold_(hold) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        BOOST_TEST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        BOOST_TEST_REQUIRE(::listen(fd_, 16) == 0);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~scripted_proxy() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::vector<std::string> heads() const {
        std::lock_guard lock(mutex_);
        return heads_;
    }

private:
    bool readable(int fd) const {
        pollfd p{fd, POLLIN, 0};
        return ::poll(&p, 1, 20) > 0;
    }

    void serve() {
        while (!stop_) {
            if (!readable(fd_))
                continue;
            const int client = ::accept(fd_, nullptr, nullptr);
            std::string head;
            char buffer[1024];
            while (!stop_ && head.find("\r\n\r\n") == std::string::npos) {
                if (!readable(client))
                    continue;
                const auto n = ::recv(client, buffer, sizeof buffer, 0);
                if (n <= 0)
                    break;
                head.append(buffer, static_cast<std::size_t>(n));
            }
            {
                std::lock_guard lock(mutex_);
                heads_.push_back(head);
            }
            ::send(client, reply_.data(), reply_.size(), MSG_NOSIGNAL);
            while (hold_ && !stop_)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            ::close(client);
        }
    }

    std::string reply_;
    bool hold_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<std::string> heads_;
    std::thread thread_;
};

struct exchange_result {
    error_code ec;
    http_response response;
};

exchange_result get_through(const net::origin& where, std::shared_ptr<asio::ssl::context> ctx,
                            const net::proxy_endpoint& via, pool_config config = {}) {
    asio::io_context ioc;
    http_pool pool(ioc.get_executor(), where, std::move(ctx), config, via);
    exchange_result r;
    r.ec = run(ioc, pool.async_exchange(get("/nothing-here"), r.response, nullptr));
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(net_proxy)

BOOST_AUTO_TEST_CASE(tls_runs_to_the_origin_inside_one_kept_alive_tunnel) {
    sim_server server;
    tinyproxy proxy;
    asio::io_context ioc;
    http_pool pool(ioc.get_executor(), server.https_origin(), server.context(), pool_config{},
                   endpoint_of(proxy.url()));
    run(ioc, [&]() -> asio::awaitable<void> {
        auto request = get(jobs_target(50));
        request.authorization = co_await fetch_token(pool);
        for (int i = 0; i < 5; ++i) {
            http_response response;
            const auto ec = co_await pool.async_exchange(request, response, nullptr);
            BOOST_TEST_REQUIRE(!ec, ec.message());
            BOOST_TEST(response.status == 200u);
            BOOST_TEST(response.proxy_status == 0u);
        }
    }());
    // The certificate was verified against the origin's name (the context verifies, and the
    // proxy's address is not in it): one tunnel, opened by one CONNECT, carried all six.
    BOOST_TEST(pool.stats().connections_opened == 1u);
    BOOST_TEST(pool.stats().connections_reused == 5u);
    BOOST_TEST(server->request_log().size() == 6u);
    const std::vector<std::string> expected{target_of(server.https_origin())};
    BOOST_TEST(proxy.connects() == expected);
}

BOOST_AUTO_TEST_CASE(a_plain_http_origin_is_tunnelled_too) {
    sim_server server;
    tinyproxy proxy;
    const auto r = get_through(server.http_origin(), nullptr, endpoint_of(proxy.url()));
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    BOOST_TEST(r.response.status == 404u);
    const std::vector<std::string> expected{target_of(server.http_origin())};
    BOOST_TEST(proxy.connects() == expected);
}

BOOST_AUTO_TEST_CASE(percent_encoded_credentials_are_decoded_and_accepted) {
    sim_server server;
    tinyproxy proxy({.user = "alice", .password = "pa-ss.w_rd", .connect_ports = {}});
    const auto r = get_through(
        server.https_origin(), server.context(),
        endpoint_of("http://al%69ce:pa%2Dss.w_rd@127.0.0.1:" + std::to_string(proxy.port())));
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    BOOST_TEST(r.response.status == 404u);
}

BOOST_AUTO_TEST_CASE(missing_or_refused_credentials_are_proxy_auth_required) {
    sim_server server;
    tinyproxy proxy({.user = "alice", .password = "right-password", .connect_ports = {}});
    const auto none =
        get_through(server.https_origin(), server.context(), endpoint_of(proxy.url()));
    BOOST_TEST((none.ec == errc::proxy_auth_required), none.ec.message());
    BOOST_TEST(none.response.proxy_status == 407u);
    BOOST_TEST(none.response.status == 0u);
    // tinyproxy answers 401 to wrong credentials, where RFC 9110 says 407: both are refusals.
    const auto wrong = get_through(
        server.https_origin(), server.context(),
        endpoint_of("http://alice:wrong-password@127.0.0.1:" + std::to_string(proxy.port())));
    BOOST_TEST((wrong.ec == errc::proxy_auth_required), wrong.ec.message());
    BOOST_TEST(wrong.response.proxy_status == 401u);
    BOOST_TEST(server->request_log().empty());
    BOOST_TEST(server->counters().connections_accepted == 0u);
}

BOOST_AUTO_TEST_CASE(a_forbidden_port_is_proxy_refused_with_the_proxys_status) {
    sim_server server;
    tinyproxy proxy({.user = "", .password = "", .connect_ports = {443}});
    const auto r = get_through(server.https_origin(), server.context(), endpoint_of(proxy.url()));
    BOOST_TEST((r.ec == errc::proxy_refused), r.ec.message());
    BOOST_TEST(r.response.proxy_status == 403u);
    BOOST_TEST(server->counters().connections_accepted == 0u);
}

BOOST_AUTO_TEST_CASE(the_connect_request_names_the_origin_and_carries_basic_credentials) {
    scripted_proxy proxy("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
    const auto where = sim_server::parse("https://graph-us.example.com");
    const auto r = get_through(
        where, nullptr, endpoint_of("http://Aladdin:open%20sesame@" + proxy.url().substr(7)));
    BOOST_TEST((r.ec == errc::proxy_auth_required), r.ec.message());
    const auto heads = proxy.heads();
    BOOST_TEST_REQUIRE(heads.size() == 1u);
    BOOST_TEST(heads[0] == "CONNECT graph-us.example.com:443 HTTP/1.1\r\n"
                           "Host: graph-us.example.com:443\r\n"
                           "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(other_answers_are_proxy_refused) {
    const auto where = sim_server::parse("https://[::1]:8443");
    const std::pair<std::string, unsigned> answers[] = {
        {"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\nbusy!", 503},
        {"HTTP/1.0 502 Bad Gateway\r\n\r\n", 502},
        {"SSH-2.0-OpenSSH_9.2\r\n", 0},                          // not an HTTP proxy
        {"", 0},                                                 // closes at once
        {"HTTP/1.1 200 Connection established\r\n\r\nhello", 0}, // talks first
        {"HTTP/1.1 200 OK\r\nX-Pad: " + std::string(20'000, 'x') + "\r\n\r\n", 0}, // no end
    };
    for (const auto& [answer, status] : answers) {
        BOOST_TEST_CONTEXT(answer.substr(0, 40)) {
            scripted_proxy proxy(answer);
            const auto r = get_through(where, nullptr, endpoint_of(proxy.url()));
            BOOST_TEST((r.ec == errc::proxy_refused), r.ec.message());
            BOOST_TEST(r.response.proxy_status == status);
            BOOST_TEST_REQUIRE(proxy.heads().size() == 1u);
            BOOST_TEST(proxy.heads()[0].starts_with("CONNECT [::1]:8443 HTTP/1.1\r\n"));
            BOOST_TEST(proxy.heads()[0].find("Proxy-Authorization") == std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_silent_proxy_times_out_as_a_first_byte) {
    scripted_proxy proxy("", true);
    pool_config config;
    config.timeouts.first_byte = std::chrono::milliseconds(200);
    const auto r = get_through(sim_server::parse("https://graph-us.example.com"), nullptr,
                               endpoint_of(proxy.url()), config);
    BOOST_TEST((r.ec == errc::first_byte_timeout), r.ec.message());
}

BOOST_AUTO_TEST_CASE(an_extra_ca_is_trusted_beside_the_system_store) {
    sim_server server;
    tls_config extra;
    extra.extra_ca_file = server.tls().ca_file;
    std::shared_ptr<asio::ssl::context> ctx;
    diagnostics diag;
    BOOST_TEST_REQUIRE(!net::make_tls_context(extra, ctx, diag), diag.message);
    // The system's store alone does not know the simulator's CA...
    std::shared_ptr<asio::ssl::context> system_only;
    BOOST_TEST_REQUIRE(!net::make_tls_context(tls_config{}, system_only, diag), diag.message);
    asio::io_context ioc;
    http_response refused;
    http_pool plain(ioc.get_executor(), server.https_origin(), system_only, pool_config{});
    const auto refused_ec = run(ioc, plain.async_exchange(get("/x"), refused, nullptr));
    BOOST_TEST((refused_ec.category() == asio::error::get_ssl_category()), refused_ec.message());
    // ... which the extra CA file adds, keeping the system's CAs.
    http_response accepted;
    http_pool pool(ioc.get_executor(), server.https_origin(), ctx, pool_config{});
    const auto ec = run(ioc, pool.async_exchange(get("/x"), accepted, nullptr));
    BOOST_TEST_REQUIRE(!ec, ec.message());
    BOOST_TEST(accepted.status == 404u);
    const auto* objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx->native_handle()));
    const auto* system_objects =
        X509_STORE_get0_objects(SSL_CTX_get_cert_store(system_only->native_handle()));
    BOOST_TEST(sk_X509_OBJECT_num(objects) == sk_X509_OBJECT_num(system_objects) + 1);
}

BOOST_AUTO_TEST_SUITE_END()
