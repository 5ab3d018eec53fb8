// The client refuses servers it must not talk to: an expired certificate, a self-signed one it was
// not told to trust, and TLS below 1.2. (Wrong host names and unrelated CAs: net_tls_tests.cpp.)
// Each refusal has a control that changes only the one thing refused and connects, so the test
// proves which check refused.
#include "net_fixture.hpp"

#include <dynjobs/sim/certificates.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>

namespace {

using namespace dynjobs;
using namespace dynjobs::net_test;
using net::http_pool;
using net::http_response;
using tcp = asio::ip::tcp;

/// A TLS server on 127.0.0.1 with a given certificate and TLS versions, on its own thread. Each
/// connection that completes the handshake gets one `404` answer to its request.
class tls_server {
public:
    tls_server(const std::string& cert_pem, const std::string& key_pem, int min_version,
               int max_version)
        : ctx_(asio::ssl::context::tls_server) {
        SSL_CTX* native = ctx_.native_handle();
        // Security level 0: OpenSSL 3 (and Debian's openssl.cnf) forbid TLS 1.0/1.1 otherwise,
        // and the old-version server must really speak them.
        SSL_CTX_set_security_level(native, 0);
        BOOST_REQUIRE(SSL_CTX_set_min_proto_version(native, min_version) == 1);
        BOOST_REQUIRE(SSL_CTX_set_max_proto_version(native, max_version) == 1);
        ctx_.use_certificate_chain(asio::buffer(cert_pem));
        ctx_.use_private_key(asio::buffer(key_pem), asio::ssl::context::pem);
        accept();
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~tls_server() {
        ioc_.stop(); // pending handlers are destroyed with ioc_, never run
        thread_.join();
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    net::origin origin() const {
        return sim_server::parse("https://127.0.0.1:" + std::to_string(port()));
    }
    int handshakes() const { return handshakes_; }

private:
    void accept() {
        acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
            if (ec)
                return;
            serve(std::make_shared<asio::ssl::stream<tcp::socket>>(std::move(socket), ctx_));
            accept();
        });
    }
    void serve(std::shared_ptr<asio::ssl::stream<tcp::socket>> stream) {
        stream->async_handshake(asio::ssl::stream_base::server, [this, stream](error_code ec) {
            if (ec)
                return;
            ++handshakes_;
            auto buffer = std::make_shared<asio::streambuf>();
            asio::async_read_until(*stream, *buffer, "\r\n\r\n",
                                   [stream, buffer](error_code ec, std::size_t) {
                                       if (ec)
                                           return;
                                       static const std::string answer =
                                           "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
                                       asio::async_write(*stream, asio::buffer(answer),
                                                         [stream](error_code, std::size_t) {});
                                   });
        });
    }

    asio::io_context ioc_;
    asio::ssl::context ctx_;
    tcp::acceptor acceptor_{ioc_, {asio::ip::make_address("127.0.0.1"), 0}};
    std::atomic<int> handshakes_{0};
    std::thread thread_;
};

/// A PEM file in the temporary folder, removed with the object.
struct temp_pem {
    std::filesystem::path path;
    explicit temp_pem(const std::string& pem)
        : path(std::filesystem::temp_directory_path() /
               ("dynjobs-tls-" + std::to_string(std::random_device{}()) + ".pem")) {
        std::ofstream(path) << pem;
    }
    ~temp_pem() {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    }
};

/// The client's own TLS context (make_tls_context), trusting `ca_file`.
std::shared_ptr<asio::ssl::context> client_context(const std::string& ca_file) {
    tls_config tls;
    tls.ca_file = ca_file;
    std::shared_ptr<asio::ssl::context> ctx;
    diagnostics diag;
    BOOST_REQUIRE_MESSAGE(!net::make_tls_context(tls, ctx, diag), diag.message);
    return ctx;
}

error_code get_once(const net::origin& where, std::shared_ptr<asio::ssl::context> ctx,
                    http_response& response) {
    asio::io_context ioc;
    http_pool pool(ioc.get_executor(), where, std::move(ctx), pool_config{});
    return run(ioc, pool.async_exchange(get("/x"), response, nullptr));
}

bool is_verify_failure(const error_code& ec) {
    return ec.category() == asio::error::get_ssl_category() &&
           ec.message().find("certificate verify failed") != std::string::npos;
}

std::string pem_of(X509* cert) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_X509(bio.get(), cert);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string pem_of(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

/// A self-signed leaf for 127.0.0.1 and localhost, valid now: right in every way but its issuer.
sim::server_pki self_signed_leaf() {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    BOOST_REQUIRE(key && cert);
    X509_set_version(cert.get(), X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509_set_pubkey(cert.get(), key.get());
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, decltype(&X509_EXTENSION_free)> san(
        X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"),
        X509_EXTENSION_free);
    BOOST_REQUIRE(san && X509_add_ext(cert.get(), san.get(), -1) == 1);
    BOOST_REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
    sim::server_pki pki;
    pki.server_cert_pem = pem_of(cert.get());
    pki.server_key_pem = pem_of(key.get());
    return pki;
}

sim::server_pki generated_pki(int validity_days) {
    sim::pki_options options;
    options.validity_days = validity_days;
    sim::server_pki pki;
    diagnostics diag;
    BOOST_REQUIRE_MESSAGE(!sim::generate_server_pki(options, pki, diag), diag.message);
    return pki;
}

} // namespace

BOOST_AUTO_TEST_SUITE(net_tls_refusal)

BOOST_AUTO_TEST_CASE(an_expired_certificate_is_refused) {
    // Valid from an hour ago until yesterday: expired, from a CA the client trusts.
    const auto expired = generated_pki(-1);
    const temp_pem ca(expired.ca_cert_pem);
    tls_server server(expired.server_cert_pem, expired.server_key_pem, TLS1_2_VERSION,
                      TLS1_3_VERSION);
    http_response response;
    const auto ec = get_once(server.origin(), client_context(ca.path.string()), response);
    BOOST_TEST(is_verify_failure(ec), ec.message());
    BOOST_TEST(response.status == 0u);
    BOOST_TEST(server.handshakes() == 0);

    // Control: the same kind of PKI, still valid, is accepted.
    const auto valid = generated_pki(1);
    const temp_pem valid_ca(valid.ca_cert_pem);
    tls_server good(valid.server_cert_pem, valid.server_key_pem, TLS1_2_VERSION, TLS1_3_VERSION);
    const auto ok = get_once(good.origin(), client_context(valid_ca.path.string()), response);
    BOOST_TEST_REQUIRE(!ok, ok.message());
    BOOST_TEST(response.status == 404u);
}

BOOST_AUTO_TEST_CASE(a_self_signed_certificate_is_refused_unless_trusted) {
    const auto leaf = self_signed_leaf();
    tls_server server(leaf.server_cert_pem, leaf.server_key_pem, TLS1_2_VERSION, TLS1_3_VERSION);
    // Trusting another CA (the system store may be empty here, so name one explicitly).
    const auto other = generated_pki(1);
    const temp_pem other_ca(other.ca_cert_pem);
    http_response response;
    const auto ec = get_once(server.origin(), client_context(other_ca.path.string()), response);
    BOOST_TEST(is_verify_failure(ec), ec.message());
    BOOST_TEST(server.handshakes() == 0);

    // The system's default trust store does not know it either.
    std::shared_ptr<asio::ssl::context> system_ctx;
    diagnostics diag;
    BOOST_TEST_REQUIRE(!net::make_tls_context(tls_config{}, system_ctx, diag), diag.message);
    const auto ec2 = get_once(server.origin(), system_ctx, response);
    BOOST_TEST(is_verify_failure(ec2), ec2.message());
    BOOST_TEST(server.handshakes() == 0);

    // Control: told to trust exactly this certificate, the client connects.
    const temp_pem itself(leaf.server_cert_pem);
    const auto ok = get_once(server.origin(), client_context(itself.path.string()), response);
    BOOST_TEST_REQUIRE(!ok, ok.message());
    BOOST_TEST(response.status == 404u);
    BOOST_TEST(server.handshakes() == 1);
}

BOOST_AUTO_TEST_CASE(tls_below_1_2_is_refused) {
    const auto pki = generated_pki(1);
    const temp_pem ca(pki.ca_cert_pem);
    tls_server old(pki.server_cert_pem, pki.server_key_pem, TLS1_VERSION, TLS1_1_VERSION);
    http_response response;
    const auto ec = get_once(old.origin(), client_context(ca.path.string()), response);
    BOOST_TEST(ec.failed());
    BOOST_TEST(!is_verify_failure(ec), ec.message()); // refused over the version, not the chain
    BOOST_TEST(response.status == 0u);
    BOOST_TEST(old.handshakes() == 0);

    // Control: a client that allows TLS 1.1 completes the handshake with the same server, so the
    // server really speaks it and the refusal above is the client's minimum version.
    asio::io_context ioc;
    asio::ssl::context lax(asio::ssl::context::tls_client);
    SSL_CTX_set_security_level(lax.native_handle(), 0);
    BOOST_REQUIRE(SSL_CTX_set_min_proto_version(lax.native_handle(), TLS1_VERSION) == 1);
    lax.load_verify_file(ca.path.string());
    lax.set_verify_mode(asio::ssl::verify_peer);
    asio::ssl::stream<tcp::socket> stream(ioc, lax);
    stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), old.port()});
    error_code handshake_ec;
    stream.handshake(asio::ssl::stream_base::client, handshake_ec);
    BOOST_TEST_REQUIRE(!handshake_ec, handshake_ec.message());
    BOOST_TEST(SSL_version(stream.native_handle()) == TLS1_1_VERSION);
}

BOOST_AUTO_TEST_SUITE_END()
