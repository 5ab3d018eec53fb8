// TLS verification of the pool's connections: wrong host names and untrusted CAs are refused.
#include "net_fixture.hpp"

#include <dynjobs/sim/certificates.hpp>

#include <boost/asio/ssl/error.hpp>

#include <fstream>

namespace {

using namespace dynjobs;
using namespace dynjobs::net_test;
using net::http_pool;
using net::http_response;

/// One GET of a path the simulator answers 404 to; the error code of the exchange.
error_code get_once(asio::io_context& ioc, const net::origin& where,
                    std::shared_ptr<asio::ssl::context> ctx, http_response& response) {
    http_pool pool(ioc.get_executor(), where, std::move(ctx), pool_config{});
    return run(ioc, pool.async_exchange(get("/x"), response, nullptr));
}

bool is_verify_failure(const error_code& ec) {
    return ec.category() == asio::error::get_ssl_category() &&
           ec.message().find("certificate verify failed") != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(net_tls)

BOOST_AUTO_TEST_CASE(trusted_ca_and_matching_name_connect) {
    sim_server server;
    asio::io_context ioc;
    http_response response;
    // By name this time (the certificate has DNS:localhost): SNI and name verification.
    auto where = server.https_origin();
    where.host = "localhost";
    const auto ec = get_once(ioc, where, server.context(), response);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    BOOST_TEST(response.status == 404u);
}

BOOST_AUTO_TEST_CASE(host_name_not_in_certificate_is_refused) {
    // 127.0.0.2 is loopback too, but the certificate names only localhost and 127.0.0.1.
    auto config = sim_server::small_config();
    config.host = "127.0.0.2";
    sim_server server(config);
    asio::io_context ioc;
    http_response response;
    const auto ec = get_once(ioc, server.https_origin(), server.context(), response);
    BOOST_TEST(is_verify_failure(ec), ec.message());
    BOOST_TEST(response.status == 0u);
    BOOST_TEST(server->counters().requests == 0u);

    // Same server, verification off: it was the name check that refused.
    tls_config off;
    off.verify_peer = false;
    std::shared_ptr<asio::ssl::context> lax;
    diagnostics diag;
    BOOST_TEST_REQUIRE(!net::make_tls_context(off, lax, diag));
    const auto ec2 = get_once(ioc, server.https_origin(), lax, response);
    BOOST_TEST(!ec2, ec2.message());
    BOOST_TEST(response.status == 404u);
}

BOOST_AUTO_TEST_CASE(untrusted_ca_is_refused) {
    sim_server server;
    // Another CA, unrelated to the one that signed the simulator's certificate.
    sim::server_pki other;
    diagnostics diag;
    BOOST_TEST_REQUIRE(!sim::generate_server_pki({}, other, diag), diag.message);
    const auto path = std::filesystem::temp_directory_path() /
                      ("dynjobs-other-ca-" + std::to_string(std::random_device{}()) + ".pem");
    std::ofstream(path) << other.ca_cert_pem;
    tls_config tls;
    tls.ca_file = path.string();
    std::shared_ptr<asio::ssl::context> ctx;
    const auto made = net::make_tls_context(tls, ctx, diag);
    std::filesystem::remove(path);
    BOOST_TEST_REQUIRE(!made, diag.message);

    asio::io_context ioc;
    http_response response;
    const auto ec = get_once(ioc, server.https_origin(), ctx, response);
    BOOST_TEST(is_verify_failure(ec), ec.message());
    BOOST_TEST(server->counters().requests == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
