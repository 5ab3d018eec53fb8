// Certificate loading for the certificate grant: PEM (plain and encrypted) and PFX, and the
// checks that reject what cannot sign an RS256 assertion.
#include "auth/certificate_loader.hpp"
#include "auth_test_material.hpp"
#include "common/base64url.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/unit_test.hpp>

#include <openssl/sha.h>

#include <cctype>

namespace dynjobs::auth_test {
namespace {

using auth::load_signing_certificate;
using auth::signing_certificate;

constexpr const char* password = "c0rrect-h0rse+battery&staple";

/// The message names the file, says `problem`, and never shows the password.
void check_failure(boost::system::error_code ec, const diagnostics& diag, const std::string& path,
                   const std::string& problem) {
    BOOST_TEST(ec == make_error_code(errc::credential_error));
    BOOST_TEST(diag.field == "certificate");
    BOOST_TEST(diag.message.find(path) != std::string::npos, diag.message);
    BOOST_TEST(diag.message.find(problem) != std::string::npos, diag.message);
    BOOST_TEST(diag.message.find(password) == std::string::npos);
    BOOST_TEST(diag.value.find(password) == std::string::npos);
}

std::string expected_x5t(X509* cert) {
    const std::string der = detail::certificate_to_der(cert);
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(der.data()), der.size(), md);
    return detail::base64url_encode(std::string_view(reinterpret_cast<char*>(md), sizeof md));
}

void check_loaded(const signing_certificate& out) {
    const auto& m = shared_rsa();
    BOOST_REQUIRE(out.certificate);
    BOOST_REQUIRE(out.private_key);
    BOOST_TEST(X509_cmp(out.certificate.get(), m.cert.get()) == 0);
    BOOST_TEST(EVP_PKEY_eq(out.private_key.get(), m.key.get()) == 1);
    BOOST_TEST(out.x5t == expected_x5t(m.cert.get()));
    BOOST_TEST(out.x5t.size() == 27u); // 20 bytes, base64url without padding
    BOOST_TEST(out.kid.size() == 40u);
    for (char c : out.kid)
        BOOST_TEST((std::isdigit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'F')));
    // kid is the same digest as x5t, in upper-case hex.
    const auto raw = detail::base64url_decode(out.x5t);
    BOOST_REQUIRE(raw.has_value());
    std::string hex;
    for (unsigned char c : *raw) {
        static constexpr char digits[] = "0123456789ABCDEF";
        hex += digits[c >> 4];
        hex += digits[c & 0xF];
    }
    BOOST_TEST(out.kid == hex);
}

} // namespace

BOOST_AUTO_TEST_SUITE(auth_certificate_loader)

BOOST_AUTO_TEST_CASE(pem_with_certificate_then_key) {
    temp_dir dir;
    const auto& m = shared_rsa();
    const auto path = dir.write("client.pem", m.cert_pem + m.key_pem);
    signing_certificate out;
    diagnostics diag;
    BOOST_TEST(!load_signing_certificate(path, "", out, diag), diag.message);
    check_loaded(out);
}

BOOST_AUTO_TEST_CASE(pem_with_key_first_and_text_around) {
    temp_dir dir;
    const auto& m = shared_rsa();
    const auto path =
        dir.write("client.pem", "Bag Attributes\n" + m.key_pem + "subject=CN = x\n" + m.cert_pem);
    signing_certificate out;
    diagnostics diag;
    BOOST_TEST(!load_signing_certificate(path, "", out, diag), diag.message);
    check_loaded(out);
}

BOOST_AUTO_TEST_CASE(encrypted_pkcs8_pem) {
    temp_dir dir;
    const auto& m = shared_rsa();
    const auto path =
        dir.write("client.pem", m.cert_pem + encrypted_key_pem(m.key.get(), password));
    signing_certificate out;
    diagnostics diag;
    BOOST_TEST(!load_signing_certificate(path, password, out, diag), diag.message);
    check_loaded(out);

    auto ec = load_signing_certificate(path, "not-the-password", out, diag);
    check_failure(ec, diag, path, "wrong password");
    BOOST_TEST(!out.private_key);

    ec = load_signing_certificate(path, "", out, diag);
    check_failure(ec, diag, path, "encrypted and no password");
}

BOOST_AUTO_TEST_CASE(encrypted_traditional_pem) {
    temp_dir dir;
    const auto& m = shared_rsa();
    const auto path =
        dir.write("client.pem", m.cert_pem + encrypted_traditional_key_pem(m.key.get(), password));
    signing_certificate out;
    diagnostics diag;
    BOOST_TEST(!load_signing_certificate(path, password, out, diag), diag.message);
    check_loaded(out);
    check_failure(load_signing_certificate(path, "wrong", out, diag), diag, path, "wrong password");
}

BOOST_AUTO_TEST_CASE(pfx_with_password) {
    temp_dir dir;
    const auto& m = shared_rsa();
    const auto path = dir.write("client.pfx", pfx(m.key.get(), m.cert.get(), password));
    signing_certificate out;
    diagnostics diag;
    BOOST_TEST(!load_signing_certificate(path, password, out, diag), diag.message);
    check_loaded(out);

    check_failure(load_signing_certificate(path, "wrong", out, diag), diag, path, "wrong password");
    check_failure(load_signing_certificate(path, "", out, diag), diag, path,
                  "password and none was given");
}

BOOST_AUTO_TEST_CASE(pfx_without_password) {
    temp_dir dir;
    const auto& m = shared_rsa();
    const auto path = dir.write("client.p12", pfx(m.key.get(), m.cert.get(), ""));
    signing_certificate out;
    diagnostics diag;
    BOOST_TEST(!load_signing_certificate(path, "", out, diag), diag.message);
    check_loaded(out);
}

BOOST_AUTO_TEST_CASE(missing_file_and_garbage) {
    temp_dir dir;
    signing_certificate out;
    diagnostics diag;
    const auto missing = (dir.path() / "nope.pem").string();
    check_failure(load_signing_certificate(missing, password, out, diag), diag, missing,
                  "cannot open");
    const auto garbage = dir.write("garbage.bin", std::string("\x01\x02garbage", 9));
    check_failure(load_signing_certificate(garbage, password, out, diag), diag, garbage,
                  "neither a PEM file nor a PFX");
}

BOOST_AUTO_TEST_CASE(pem_without_key_or_certificate) {
    temp_dir dir;
    const auto& m = shared_rsa();
    signing_certificate out;
    diagnostics diag;
    const auto cert_only = dir.write("cert.pem", m.cert_pem);
    check_failure(load_signing_certificate(cert_only, "", out, diag), diag, cert_only,
                  "no private key");
    const auto key_only = dir.write("key.pem", m.key_pem);
    check_failure(load_signing_certificate(key_only, "", out, diag), diag, key_only,
                  "no certificate");
}

BOOST_AUTO_TEST_CASE(key_not_matching_certificate) {
    temp_dir dir;
    const auto& m = shared_rsa();
    const auto other = make_rsa_key();
    const auto path = dir.write("client.pem", m.cert_pem + detail::private_key_to_pem(other.get()));
    signing_certificate out;
    diagnostics diag;
    check_failure(load_signing_certificate(path, "", out, diag), diag, path, "does not match");
    BOOST_TEST(!out.private_key);
}

BOOST_AUTO_TEST_CASE(ec_key_is_refused) {
    temp_dir dir;
    const auto key = make_ec_key();
    const auto cert = make_certificate(key.get());
    signing_certificate out;
    diagnostics diag;
    const auto pem = dir.write("ec.pem", detail::certificate_to_pem(cert.get()) +
                                             detail::private_key_to_pem(key.get()));
    check_failure(load_signing_certificate(pem, "", out, diag), diag, pem,
                  "RS256 needs an RSA key");
    const auto p12 = dir.write("ec.pfx", pfx(key.get(), cert.get(), password));
    check_failure(load_signing_certificate(p12, password, out, diag), diag, p12,
                  "RS256 needs an RSA key");
}

BOOST_AUTO_TEST_CASE(key_usage_without_digital_signature_is_refused) {
    temp_dir dir;
    const auto& m = shared_rsa();
    cert_options options;
    options.key_usage = "critical,keyEncipherment";
    const auto cert = make_certificate(m.key.get(), options);
    const auto path = dir.write("client.pem", detail::certificate_to_pem(cert.get()) + m.key_pem);
    signing_certificate out;
    diagnostics diag;
    check_failure(load_signing_certificate(path, "", out, diag), diag, path, "digitalSignature");

    // No keyUsage extension at all: any use is allowed.
    options.key_usage.clear();
    const auto plain = make_certificate(m.key.get(), options);
    const auto ok = dir.write("plain.pem", detail::certificate_to_pem(plain.get()) + m.key_pem);
    BOOST_TEST(!load_signing_certificate(ok, "", out, diag), diag.message);
}

BOOST_AUTO_TEST_CASE(expired_certificate_is_refused) {
    temp_dir dir;
    const auto& m = shared_rsa();
    cert_options options;
    options.not_before_days = -10;
    options.not_after_days = -1;
    const auto cert = make_certificate(m.key.get(), options);
    const auto path = dir.write("old.pem", detail::certificate_to_pem(cert.get()) + m.key_pem);
    signing_certificate out;
    diagnostics diag;
    check_failure(load_signing_certificate(path, "", out, diag), diag, path, "expired");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace dynjobs::auth_test
