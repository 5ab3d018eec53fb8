// --listen: which addresses sync's status server accepts.
#include "cli/status_server.hpp"

#include <boost/test/unit_test.hpp>

using namespace dynjobs::cli;

BOOST_AUTO_TEST_SUITE(cli_listen_endpoint)

BOOST_AUTO_TEST_CASE(listen_addresses_are_ip_literals_with_a_port) {
    auto v4 = parse_listen_endpoint("127.0.0.1:9464");
    BOOST_TEST_REQUIRE(v4.has_value());
    BOOST_TEST(v4->address().to_string() == "127.0.0.1");
    BOOST_TEST(v4->port() == 9464);
    auto v6 = parse_listen_endpoint("[::1]:9464");
    BOOST_TEST_REQUIRE(v6.has_value());
    BOOST_TEST(v6->address().is_v6());
    for (const char* bad : {"9464", "localhost:9464", "::1:9464", "127.0.0.1:0", "127.0.0.1:65536",
                            "127.0.0.1:", "127.0.0.1:94x", "[::1]"})
        BOOST_TEST(!parse_listen_endpoint(bad).has_value(), bad);
}

BOOST_AUTO_TEST_SUITE_END()
