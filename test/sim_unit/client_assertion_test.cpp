// The JWT client-assertion verifier and the token store, without sockets: time is passed in, so
// the skew and lifetime boundaries are checked exactly.
#include "sim/shared_crypto.hpp"
#include "sim/client_assertion.hpp"
#include "sim/token_store.hpp"

#include <dynjobs/sim/certificates.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>

namespace {

using namespace dynjobs::sim;
using namespace dynjobs::sim::detail;
using clock = std::chrono::system_clock;
using std::chrono::seconds;

const client_certificate& cert() {
    static const client_certificate c = [] {
        client_certificate out;
        dynjobs::diagnostics diag;
        if (make_client_certificate("unit", out, diag))
            throw std::runtime_error(diag.message);
        return out;
    }();
    return c;
}

std::int64_t epoch(clock::time_point t) {
    return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count();
}

/// RS256-signs `payload` with the test certificate's key.
std::string sign(const boost::json::object& payload, std::string_view alg = "RS256") {
    boost::json::object header{{"alg", alg}, {"typ", "JWT"}};
    const std::string input = base64url_encode(boost::json::serialize(header)) + "." +
                              base64url_encode(boost::json::serialize(payload));
    const std::string& pem = cert().key_pem;
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::string sig(512, '\0');
    std::size_t len = sig.size();
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
        throw std::runtime_error("signing failed");
    sig.resize(len);
    return input + "." + base64url_encode(sig);
}

constexpr std::string_view aud = "https://127.0.0.1:1/connect/token";

struct verifier_fixture {
    client_assertion_verifier verifier;
    const clock::time_point now = clock::time_point(seconds(1'800'000'000));
    client_assertion_verifier::certificate_lookup lookup = [](std::string_view id) {
        return id == "app" ? &cert().cert_pem : nullptr;
    };
    int next_jti = 0;

    boost::json::object claims(seconds exp_in = seconds(300)) {
        return {{"iss", "app"},
                {"sub", "app"},
                {"aud", aud},
                {"jti", "jti-" + std::to_string(++next_jti)},
                {"iat", epoch(now)},
                {"nbf", epoch(now)},
                {"exp", epoch(now + exp_in)}};
    }
    assertion_result verify(const std::string& jwt) {
        return verifier.verify(jwt, "app", aud, "", lookup, now);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(client_assertion)

BOOST_AUTO_TEST_CASE(base64url_round_trips_every_length) {
    std::string bytes;
    for (int n = 0; n < 70; ++n) {
        BOOST_TEST(base64url_decode(base64url_encode(bytes)).value_or("?") == bytes);
        bytes += static_cast<char>(n * 37 + 200);
    }
    BOOST_TEST(base64url_encode("\xfb\xff") == "-_8");
    BOOST_TEST(base64url_decode("-_8=").value() == "\xfb\xff");
    BOOST_TEST(!base64url_decode("a+b/").has_value());  // the non-url alphabet is refused
    BOOST_TEST(!base64url_decode("abcde").has_value()); // 4n+1 characters cannot be
}

BOOST_FIXTURE_TEST_CASE(valid_assertion_passes_once, verifier_fixture) {
    const std::string jwt = sign(claims());
    auto r = verify(jwt);
    BOOST_TEST(r.ok, r.failure);
    BOOST_TEST(r.client_id == "app");
    r = verify(jwt);
    BOOST_TEST(!r.ok);
    BOOST_TEST(r.failure.find("jti") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(time_claims_allow_60_seconds_of_skew_exactly, verifier_fixture) {
    auto c = claims();
    c["exp"] = epoch(now - seconds(59));
    BOOST_TEST(verify(sign(c)).ok);
    c = claims();
    c["exp"] = epoch(now - seconds(60));
    BOOST_TEST(verify(sign(c)).failure.find("expired") != std::string::npos);

    c = claims();
    c["nbf"] = epoch(now + seconds(60));
    BOOST_TEST(verify(sign(c)).ok);
    c = claims();
    c["nbf"] = epoch(now + seconds(61));
    BOOST_TEST(verify(sign(c)).failure.find("nbf") != std::string::npos);
    c = claims();
    c["iat"] = epoch(now + seconds(61));
    BOOST_TEST(verify(sign(c)).failure.find("iat") != std::string::npos);

    BOOST_TEST(verify(sign(claims(seconds(660)))).ok); // 10 min + skew
    BOOST_TEST(verify(sign(claims(seconds(661)))).failure.find("too far") != std::string::npos);
    c = claims();
    c.erase("exp");
    BOOST_TEST(verify(sign(c)).failure.find("exp") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(audience_may_be_an_array_containing_ours, verifier_fixture) {
    auto c = claims();
    c["aud"] = boost::json::array{"https://elsewhere", aud};
    BOOST_TEST(verify(sign(c)).ok);
    c = claims();
    c["aud"] = boost::json::array{"https://elsewhere"};
    BOOST_TEST(verify(sign(c)).failure.find("aud") != std::string::npos);
    // The alternative spelling is accepted only when given.
    c = claims();
    c["aud"] = "https://localhost:1/connect/token";
    BOOST_TEST(!verify(sign(c)).ok);
    BOOST_TEST(
        verifier.verify(sign(c), "app", aud, "https://localhost:1/connect/token", lookup, now).ok);
}

BOOST_FIXTURE_TEST_CASE(structure_and_algorithm_are_checked, verifier_fixture) {
    BOOST_TEST(verify("a.b").failure.find("JWS") != std::string::npos);
    BOOST_TEST(verify("a.b.c.d").failure.find("JWS") != std::string::npos);
    BOOST_TEST(verify("!!.e30.c2ln").failure.find("header") != std::string::npos);
    BOOST_TEST(verify(sign(claims(), "none")).failure.find("RS256") != std::string::npos);
    auto c = claims();
    c.erase("jti");
    BOOST_TEST(verify(sign(c)).failure.find("jti") != std::string::npos);
    c = claims();
    c["iss"] = c["sub"] = "stranger";
    BOOST_TEST(verifier.verify(sign(c), "", aud, "", lookup, now).failure.find("certificate") !=
               std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(used_jtis_are_forgotten_once_their_assertion_expired, verifier_fixture) {
    auto c = claims(seconds(30));
    c["jti"] = "reused";
    BOOST_TEST(verify(sign(c)).ok);
    // Much later, the same jti in a fresh assertion: the old entry has been purged.
    const auto later = now + std::chrono::minutes(5);
    auto fresh = c;
    fresh["iat"] = fresh["nbf"] = epoch(later);
    fresh["exp"] = epoch(later + seconds(60));
    BOOST_TEST(verifier.verify(sign(fresh), "app", aud, "", lookup, later).ok);
}

BOOST_AUTO_TEST_CASE(token_store_issues_checks_expires_and_revokes) {
    token_store store;
    const auto t0 = std::chrono::steady_clock::time_point(std::chrono::hours(1));
    const std::string a = store.issue("app", seconds(10), t0);
    const std::string b = store.issue("other", seconds(10), t0);
    BOOST_TEST(a.size() == 43u);
    BOOST_TEST(a != b);
    BOOST_TEST(std::get<std::string>(store.check(a, t0 + seconds(9))) == "app");
    BOOST_TEST((std::get<token_store::refusal>(store.check(a, t0 + seconds(10))) ==
                token_store::refusal::expired));
    BOOST_TEST(
        (std::get<token_store::refusal>(store.check("nope", t0)) == token_store::refusal::unknown));
    store.revoke_client("app");
    BOOST_TEST(
        (std::get<token_store::refusal>(store.check(a, t0)) == token_store::refusal::revoked));
    BOOST_TEST(std::get<std::string>(store.check(b, t0)) == "other");
    store.revoke_all();
    BOOST_TEST(
        (std::get<token_store::refusal>(store.check(b, t0)) == token_store::refusal::revoked));
    const std::string expired_at_once = store.issue("app", seconds(0), t0);
    BOOST_TEST((std::get<token_store::refusal>(store.check(expired_at_once, t0)) ==
                token_store::refusal::expired));
}

BOOST_AUTO_TEST_SUITE_END()
