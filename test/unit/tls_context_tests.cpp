// The client TLS context: what it refuses to load, and its settings.
#include "auth_test_material.hpp"
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

// Certificates the context's store holds now (files are loaded at once; a folder only when a
// chain is verified).
std::size_t certificates_in(const tls_config& tls) {
    std::shared_ptr<boost::asio::ssl::context> ctx;
    diagnostics diag;
    const auto ec = dynjobs::net::make_tls_context(tls, ctx, diag);
    BOOST_TEST_REQUIRE(!ec, diag.message);
    return static_cast<std::size_t>(
        sk_X509_OBJECT_num(X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx->native_handle()))));
}

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

BOOST_AUTO_TEST_CASE(extra_ca_file_adds_to_the_store_in_use) {
    dynjobs::auth_test::temp_dir dir;
    const auto ca = dir.write("extra-ca.pem", dynjobs::auth_test::shared_rsa().cert_pem);
    tls_config system;
    tls_config extra;
    extra.extra_ca_file = ca;
    // The system's store stays (whatever it holds on this machine), with one more CA.
    BOOST_TEST(certificates_in(extra) == certificates_in(system) + 1);
    tls_config replaced;
    replaced.ca_file = ca;
    BOOST_TEST(certificates_in(replaced) == 1u);
    const auto other_key = dynjobs::auth_test::make_ec_key();
    const auto other = dynjobs::auth_test::make_certificate(other_key.get());
    replaced.extra_ca_file =
        dir.write("other-ca.pem", dynjobs::detail::certificate_to_pem(other.get()));
    BOOST_TEST(certificates_in(replaced) == 2u);
}

BOOST_AUTO_TEST_CASE(missing_extra_ca_file_is_named) {
    tls_config tls;
    tls.extra_ca_file = "/nonexistent/dynjobs/extra.pem";
    std::shared_ptr<boost::asio::ssl::context> ctx;
    diagnostics diag;
    const auto ec = dynjobs::net::make_tls_context(tls, ctx, diag);
    BOOST_TEST(ec == make_error_code(errc::credential_error));
    BOOST_TEST(diag.field == "tls.extra_ca_file");
    BOOST_TEST(diag.message == "tls.extra_ca_file: cannot load CA certificates from "
                               "'/nonexistent/dynjobs/extra.pem': No such file or directory");
    BOOST_TEST(ctx == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
