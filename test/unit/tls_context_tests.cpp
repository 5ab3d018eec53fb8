// The client TLS context: what it refuses to load, and its settings.
#include "net/http_pool.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/unit_test.hpp>

#include <openssl/ssl.h>

#include <filesystem>
#include <fstream>

namespace {

using dynjobs::diagnostics;
using dynjobs::errc;
using dynjobs::tls_config;

} // namespace

BOOST_AUTO_TEST_SUITE(tls_context)

BOOST_AUTO_TEST_CASE(defaults_require_tls12_and_verify_the_peer) {
    std::shared_ptr<boost::asio::ssl::context> ctx;
    diagnostics diag;
    const auto ec = dynjobs::net::make_tls_context(tls_config{}, ctx, diag);
    BOOST_TEST_REQUIRE(!ec, diag.message);
    BOOST_TEST_REQUIRE(ctx != nullptr);
    BOOST_TEST(SSL_CTX_get_min_proto_version(ctx->native_handle()) == TLS1_2_VERSION);
    BOOST_TEST((SSL_CTX_get_verify_mode(ctx->native_handle()) & SSL_VERIFY_PEER) != 0);
    BOOST_TEST((SSL_CTX_get_session_cache_mode(ctx->native_handle()) & SSL_SESS_CACHE_CLIENT) != 0);
}

BOOST_AUTO_TEST_CASE(verification_can_be_turned_off) {
    tls_config tls;
    tls.verify_peer = false;
    std::shared_ptr<boost::asio::ssl::context> ctx;
    diagnostics diag;
    BOOST_TEST_REQUIRE(!dynjobs::net::make_tls_context(tls, ctx, diag));
    BOOST_TEST((SSL_CTX_get_verify_mode(ctx->native_handle()) & SSL_VERIFY_PEER) == 0);
}

BOOST_AUTO_TEST_CASE(missing_ca_file_is_named) {
    tls_config tls;
    tls.ca_file = "/nonexistent/dynjobs/ca.pem";
    std::shared_ptr<boost::asio::ssl::context> ctx;
    diagnostics diag;
    const auto ec = dynjobs::net::make_tls_context(tls, ctx, diag);
    BOOST_TEST(ec == make_error_code(errc::credential_error));
    BOOST_TEST(diag.field == "tls.ca_file");
    BOOST_TEST(diag.message.find(tls.ca_file) != std::string::npos, diag.message);
    BOOST_TEST(ctx == nullptr);
}

BOOST_AUTO_TEST_CASE(ca_file_without_certificates_is_refused) {
    const auto path = std::filesystem::temp_directory_path() / "dynjobs-not-a-ca.pem";
    std::ofstream(path) << "this is not PEM\n";
    tls_config tls;
    tls.ca_file = path.string();
    std::shared_ptr<boost::asio::ssl::context> ctx;
    diagnostics diag;
    const auto ec = dynjobs::net::make_tls_context(tls, ctx, diag);
    std::filesystem::remove(path);
    BOOST_TEST(ec == make_error_code(errc::credential_error));
    BOOST_TEST(diag.message.find(tls.ca_file) != std::string::npos, diag.message);
}

BOOST_AUTO_TEST_CASE(missing_ca_folder_is_named) {
    tls_config tls;
    tls.ca_path = "/nonexistent/dynjobs/certs";
    std::shared_ptr<boost::asio::ssl::context> ctx;
    diagnostics diag;
    const auto ec = dynjobs::net::make_tls_context(tls, ctx, diag);
    BOOST_TEST(ec == make_error_code(errc::credential_error));
    BOOST_TEST(diag.field == "tls.ca_path");
    BOOST_TEST(diag.message.find(tls.ca_path) != std::string::npos, diag.message);
}

BOOST_AUTO_TEST_SUITE_END()
