// Parsing base URLs into origins: schemes, hosts, ports, paths, and what is refused.
#include "net/origin.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/unit_test.hpp>

namespace {

using dynjobs::diagnostics;
using dynjobs::errc;
using dynjobs::tls_config;
using dynjobs::net::origin;
using dynjobs::net::parse_origin;

struct parsed {
    boost::system::error_code ec;
    origin o;
    diagnostics diag;
};

parsed parse(std::string_view url, tls_config tls = {}) {
    parsed p;
    p.ec = parse_origin(url, tls, "endpoint", p.o, p.diag);
    return p;
}

} // namespace

BOOST_AUTO_TEST_SUITE(origin_parsing)

BOOST_AUTO_TEST_CASE(https_with_default_port_and_path) {
    const auto p = parse("https://graph-us.avepointonlineservices.com");
    BOOST_TEST_REQUIRE(!p.ec);
    BOOST_TEST(p.o.tls);
    BOOST_TEST(p.o.host == "graph-us.avepointonlineservices.com");
    BOOST_TEST(p.o.port == 443);
    BOOST_TEST(p.o.base_path == "");
    BOOST_TEST(p.o.to_string() == "https://graph-us.avepointonlineservices.com");
    BOOST_TEST(!p.o.is_loopback());
}

BOOST_AUTO_TEST_CASE(explicit_port_path_and_trailing_slashes) {
    const auto p = parse("https://Example.COM:8443/v2//");
    BOOST_TEST_REQUIRE(!p.ec);
    BOOST_TEST(p.o.host == "example.com");
    BOOST_TEST(p.o.port == 8443);
    BOOST_TEST(p.o.base_path == "/v2");
    BOOST_TEST(p.o.to_string() == "https://example.com:8443");
}

BOOST_AUTO_TEST_CASE(default_port_written_explicitly_is_omitted) {
    const auto p = parse("https://example.com:443/");
    BOOST_TEST_REQUIRE(!p.ec);
    BOOST_TEST(p.o.port == 443);
    BOOST_TEST(p.o.base_path == "");
    BOOST_TEST(p.o.to_string() == "https://example.com");
}

BOOST_AUTO_TEST_CASE(ipv6_host_is_stored_without_brackets) {
    const auto p = parse("https://[::1]:9000/api");
    BOOST_TEST_REQUIRE(!p.ec);
    BOOST_TEST(p.o.host == "::1");
    BOOST_TEST(p.o.port == 9000);
    BOOST_TEST(p.o.base_path == "/api");
    BOOST_TEST(p.o.to_string() == "https://[::1]:9000");
    BOOST_TEST(p.o.is_loopback());
}

BOOST_AUTO_TEST_CASE(scheme_is_case_insensitive) {
    const auto p = parse("HTTPS://example.com");
    BOOST_TEST_REQUIRE(!p.ec);
    BOOST_TEST(p.o.tls);
}

BOOST_AUTO_TEST_CASE(plain_http_to_loopback_is_allowed) {
    for (const char* url : {"http://127.0.0.1:8080", "http://localhost", "http://LOCALHOST:81/x",
                            "http://127.9.8.7", "http://[::1]:80"}) {
        const auto p = parse(url);
        BOOST_TEST(!p.ec, url << ": " << p.diag.message);
        BOOST_TEST(!p.o.tls);
        BOOST_TEST(p.o.is_loopback(), url);
    }
    const auto p = parse("http://localhost");
    BOOST_TEST(p.o.port == 80);
    BOOST_TEST(p.o.to_string() == "http://localhost");
}

BOOST_AUTO_TEST_CASE(plain_http_elsewhere_needs_the_opt_in) {
    const auto refused = parse("http://example.com");
    BOOST_TEST(refused.ec == make_error_code(errc::insecure_scheme));
    BOOST_TEST(refused.diag.field == "endpoint");
    BOOST_TEST(!refused.diag.message.empty());

    tls_config allow;
    allow.allow_insecure_http = true;
    const auto allowed = parse("http://example.com", allow);
    BOOST_TEST(!allowed.ec);
    BOOST_TEST(!allowed.o.tls);
}

BOOST_AUTO_TEST_CASE(loopback_detection) {
    origin o;
    for (const char* host :
         {"localhost", "localhost.", "127.0.0.1", "127.255.0.3", "::1", "::ffff:127.0.0.1"}) {
        o.host = host;
        BOOST_TEST(o.is_loopback(), host);
    }
    for (const char* host : {"128.0.0.1", "10.0.0.1", "::2", "localhost.example.com", "mylocalhost",
                             "example.com", ""}) {
        o.host = host;
        BOOST_TEST(!o.is_loopback(), host);
    }
}

BOOST_AUTO_TEST_CASE(refused_urls) {
    for (const char* url :
         {"", "example.com", "/dynamicsbackup", "ftp://example.com", "https://", "https:///path",
          "https://example.com?x=1", "https://example.com/#frag", "https://example.com:0",
          "https://example.com:70000", "https://[v1.x]/", "mailto:someone@example.com"}) {
        const auto p = parse(url);
        BOOST_TEST(p.ec == make_error_code(errc::invalid_argument),
                   "'" << url << "' gave " << p.ec.message());
        BOOST_TEST(p.diag.field == "endpoint");
        BOOST_TEST(!p.diag.message.empty());
    }
}

BOOST_AUTO_TEST_CASE(user_info_is_refused_and_never_echoed) {
    const auto p = parse("https://user:s3cret@example.com");
    BOOST_TEST(p.ec == make_error_code(errc::invalid_argument));
    BOOST_TEST(p.diag.value.find("s3cret") == std::string::npos);
    BOOST_TEST(p.diag.message.find("s3cret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(failure_leaves_output_untouched) {
    origin o;
    o.host = "kept";
    diagnostics diag;
    const auto ec = parse_origin("nonsense", tls_config{}, "f", o, diag);
    BOOST_TEST(ec == make_error_code(errc::invalid_argument));
    BOOST_TEST(o.host == "kept");
}

BOOST_AUTO_TEST_SUITE_END()
