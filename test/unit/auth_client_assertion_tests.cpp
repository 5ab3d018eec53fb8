// The JWT client assertion: segments, header, claims, and an RS256 signature that the
// certificate's public key verifies.
#include "auth/client_assertion.hpp"
#include "auth_test_material.hpp"
#include "common/base64url.hpp"

#include <dynjobs/error.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/err.h>

#include <vector>

namespace dynjobs::auth_test {
namespace {

namespace json = boost::json;

struct decoded_jwt {
    json::object header;
    json::object claims;
    std::string signing_input;
    std::string signature;
};

decoded_jwt decode(const std::string& jwt) {
    const auto dot1 = jwt.find('.');
    const auto dot2 = jwt.find('.', dot1 + 1);
    BOOST_REQUIRE(dot1 != std::string::npos);
    BOOST_REQUIRE(dot2 != std::string::npos);
    BOOST_REQUIRE(jwt.find('.', dot2 + 1) == std::string::npos);
    BOOST_TEST(jwt.find('=') == std::string::npos); // unpadded base64url
    decoded_jwt d;
    const auto header = detail::base64url_decode(jwt.substr(0, dot1));
    const auto claims = detail::base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
    const auto signature = detail::base64url_decode(jwt.substr(dot2 + 1));
    BOOST_REQUIRE(header && claims && signature);
    d.header = json::parse(*header).as_object();
    d.claims = json::parse(*claims).as_object();
    d.signing_input = jwt.substr(0, dot2);
    d.signature = *signature;
    return d;
}

bool verify_rs256(X509* cert, const std::string& input, const std::string& signature) {
    EVP_PKEY* key = X509_get0_pubkey(cert);
    detail::evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
    const bool ok =
        EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                         input.size()) == 1;
    ERR_clear_error();
    return ok;
}

auth::signing_certificate loaded_certificate() {
    const auto& m = shared_rsa();
    auth::signing_certificate cert;
    diagnostics diag;
    const auto ec =
        auth::parse_signing_certificate(m.cert_pem + m.key_pem, "", "memory", cert, diag);
    BOOST_REQUIRE_MESSAGE(!ec, diag.message);
    return cert;
}

} // namespace

BOOST_AUTO_TEST_SUITE(auth_client_assertion)

BOOST_AUTO_TEST_CASE(header_claims_and_signature) {
    const auto cert = loaded_certificate();
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'767'225'600));
    std::string jwt;
    diagnostics diag;
    BOOST_REQUIRE(!auth::build_client_assertion(
        cert, "my-client", "https://id.example/connect/token", now, jwt, diag));
    const auto d = decode(jwt);

    BOOST_TEST(d.header.at("alg").as_string() == "RS256");
    BOOST_TEST(d.header.at("typ").as_string() == "JWT");
    BOOST_TEST(d.header.at("x5t").as_string() == cert.x5t);
    BOOST_TEST(d.header.at("kid").as_string() == cert.kid);

    BOOST_TEST(d.claims.at("iss").as_string() == "my-client");
    BOOST_TEST(d.claims.at("sub").as_string() == "my-client");
    BOOST_TEST(d.claims.at("aud").as_string() == "https://id.example/connect/token");
    BOOST_TEST(d.claims.at("iat").as_int64() == 1'767'225'600);
    BOOST_TEST(d.claims.at("nbf").as_int64() == 1'767'225'600);
    BOOST_TEST(d.claims.at("exp").as_int64() == 1'767'225'600 + 300);
    BOOST_TEST(d.claims.at("jti").as_string().size() == 36u); // UUID text

    BOOST_TEST(d.signature.size() == 256u); // RSA 2048
    BOOST_TEST(verify_rs256(shared_rsa().cert.get(), d.signing_input, d.signature));
    // A changed claim no longer verifies: the signature covers header and claims.
    std::string tampered = d.signing_input;
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    BOOST_TEST(!verify_rs256(shared_rsa().cert.get(), tampered, d.signature));
}

BOOST_AUTO_TEST_CASE(every_assertion_has_a_fresh_jti) {
    const auto cert = loaded_certificate();
    std::vector<std::string> jtis;
    for (int i = 0; i < 5; ++i) {
        std::string jwt;
        diagnostics diag;
        BOOST_REQUIRE(!auth::build_client_assertion(cert, "c", "https://a/t",
                                                    std::chrono::system_clock::now(), jwt, diag));
        const std::string jti(decode(jwt).claims.at("jti").as_string());
        for (const auto& seen : jtis)
            BOOST_TEST(seen != jti);
        jtis.push_back(jti);
    }
}

BOOST_AUTO_TEST_CASE(claims_are_json_escaped) {
    const auto cert = loaded_certificate();
    std::string jwt;
    diagnostics diag;
    BOOST_REQUIRE(!auth::build_client_assertion(cert, "we\"ird\\id", "https://a/t",
                                                std::chrono::system_clock::now(), jwt, diag));
    BOOST_TEST(decode(jwt).claims.at("iss").as_string() == "we\"ird\\id");
}

BOOST_AUTO_TEST_CASE(no_key_is_an_error) {
    auth::signing_certificate empty;
    std::string jwt;
    diagnostics diag;
    BOOST_TEST(auth::build_client_assertion(empty, "c", "https://a/t",
                                            std::chrono::system_clock::now(), jwt,
                                            diag) == make_error_code(errc::credential_error));
    BOOST_TEST(jwt.empty());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace dynjobs::auth_test
