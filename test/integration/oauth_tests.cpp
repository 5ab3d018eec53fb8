// POST /connect/token over real loopback TLS: both grants, and every refusal a client can meet.
#include "sim_fixture.hpp"
#include "test_jwt.hpp"

#include <dynjobs/sim/certificates.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

namespace {

using namespace dynjobs;
using namespace dynjobs::testkit;
using std::chrono::minutes;
using std::chrono::system_clock;

boost::json::object json_of(const http_response& r) {
    return boost::json::parse(r.body).as_object();
}

std::string str(const boost::json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                    : std::string();
}

/// Certificates are slow-ish to make (RSA 2048): once for the whole suite.
const sim::client_certificate& cert_a() {
    static const sim::client_certificate c = [] {
        sim::client_certificate out;
        diagnostics diag;
        if (sim::make_client_certificate("cert-client", out, diag))
            throw std::runtime_error(diag.message);
        return out;
    }();
    return c;
}
const sim::client_certificate& cert_b() {
    static const sim::client_certificate c = [] {
        sim::client_certificate out;
        diagnostics diag;
        if (sim::make_client_certificate("intruder", out, diag))
            throw std::runtime_error(diag.message);
        return out;
    }();
    return c;
}

sim::sim_config config_with_clients() {
    auto config = small_sim_config();
    config.clients.push_back({"secret-client", std::string("s3cret +&="), std::nullopt, {}});
    config.clients.push_back({"cert-client", std::nullopt, cert_a().cert_pem, {}});
    return config;
}

/// A fixture with a secret client and a certificate client.
struct oauth_fixture {
    sim_fixture fx{config_with_clients()};
    test_client client = fx.https_client();

    jwt_claims valid_claims() const {
        jwt_claims c;
        c.iss = c.sub = "cert-client";
        c.aud = fx.sim().token_url();
        c.x5t = cert_a().x5t;
        return c;
    }
    http_response assertion_grant(const std::string& jwt, std::string client_id = "cert-client") {
        std::vector<std::pair<std::string, std::string>> fields{
            {"grant_type", "client_credentials"},
            {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
            {"client_assertion", jwt},
            {"scope", "dynamics.readwrite.all"}};
        if (!client_id.empty())
            fields.emplace_back("client_id", client_id);
        return client.post_form("/connect/token", form_encode(fields));
    }
    /// Expects 401 invalid_client whose description contains `why`.
    void expect_assertion_refused(const std::string& jwt, std::string_view why) {
        auto res = assertion_grant(jwt);
        BOOST_TEST(res.status == 401u);
        auto body = json_of(res);
        BOOST_TEST(str(body, "error") == "invalid_client");
        BOOST_TEST(str(body, "error_description").find(why) != std::string::npos,
                   "'" << str(body, "error_description") << "' should mention '" << why << "'");
    }
};

void check_token_response(const http_response& res) {
    BOOST_TEST_REQUIRE(res.status == 200u, res.body);
    BOOST_TEST(res.header("Cache-Control").value_or("") == "no-store");
    BOOST_TEST(res.header("Content-Type").value_or("").starts_with("application/json"));
    auto body = json_of(res);
    BOOST_TEST(str(body, "token_type") == "Bearer");
    BOOST_TEST(body.at("expires_in").as_int64() == 3600);
    BOOST_TEST(body.at("ext_expires_in").as_int64() == 3600);
    const std::string token = str(body, "access_token");
    BOOST_TEST(token.size() >= 43u);
    BOOST_TEST(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789-_") == std::string::npos);
}

} // namespace

BOOST_AUTO_TEST_SUITE(oauth)

BOOST_FIXTURE_TEST_CASE(secret_grant_issues_a_usable_token, oauth_fixture) {
    auto res =
        client.post_form("/connect/token", secret_grant_form("secret-client", "s3cret +&=",
                                                             "Dynamics.ReadWrite.All")); // any case
    check_token_response(res);
    const std::string token = str(json_of(res), "access_token");
    BOOST_TEST(client.get(jobs_target(), token).status == 200u);
    BOOST_TEST(fx.sim().counters().tokens_issued == 1u);
}

BOOST_FIXTURE_TEST_CASE(form_plus_decodes_as_space, oauth_fixture) {
    // HTML form encoding: '+' is a space, %2B a plus.
    auto res = client.post_form("/connect/token",
                                "grant_type=client_credentials&client_id=secret-client"
                                "&client_secret=s3cret+%2B%26%3D&scope=dynamics.readwrite.all");
    check_token_response(res);
}

BOOST_FIXTURE_TEST_CASE(secret_grant_refusals, oauth_fixture) {
    struct refusal {
        std::string form;
        unsigned status;
        std::string error;
    };
    const std::vector<refusal> cases{
        {secret_grant_form("secret-client", "wrong"), 401, "invalid_client"},
        {secret_grant_form("nobody", "s3cret +&="), 401, "invalid_client"},
        {form_encode({{"grant_type", "client_credentials"},
                      {"client_id", "secret-client"},
                      {"scope", "dynamics.readwrite.all"}}),
         401, "invalid_client"},
        {secret_grant_form("secret-client", "s3cret +&=", "dynamics.read.all"), 400,
         "invalid_scope"},
        {secret_grant_form("secret-client", "s3cret +&=", "dynamics.readwrite.all offline_access"),
         400, "invalid_scope"},
        {form_encode({{"grant_type", "client_credentials"},
                      {"client_id", "secret-client"},
                      {"client_secret", "s3cret +&="}}),
         400, "invalid_scope"},
        {form_encode({{"grant_type", "password"},
                      {"client_id", "secret-client"},
                      {"client_secret", "s3cret +&="},
                      {"scope", "dynamics.readwrite.all"}}),
         400, "unsupported_grant_type"},
        {"grant_type=client_credentials&grant_type=client_credentials", 400, "invalid_request"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("form " << c.form) {
            auto res = client.post_form("/connect/token", c.form);
            BOOST_TEST(res.status == c.status);
            auto body = json_of(res);
            BOOST_TEST(str(body, "error") == c.error);
            BOOST_TEST(!str(body, "error_description").empty());
        }
    }
    BOOST_TEST(fx.sim().counters().tokens_issued == 0u);
}

BOOST_FIXTURE_TEST_CASE(token_endpoint_method_and_content_type, oauth_fixture) {
    auto get = client.get("/connect/token");
    BOOST_TEST(get.status == 405u);
    BOOST_TEST(get.header("Allow").value_or("") == "POST");

    http_response res;
    BOOST_TEST_REQUIRE(!client.request("POST", "/connect/token", res,
                                       {{"Content-Type", "application/json"}},
                                       R"({"grant_type":"client_credentials"})"));
    BOOST_TEST(res.status == 400u);
    BOOST_TEST(str(json_of(res), "error") == "invalid_request");
}

BOOST_FIXTURE_TEST_CASE(certificate_grant_issues_a_usable_token, oauth_fixture) {
    auto res = assertion_grant(make_jwt(valid_claims(), cert_a().key_pem));
    check_token_response(res);
    BOOST_TEST(client.get(jobs_target(), str(json_of(res), "access_token")).status == 200u);

    // Without x5t, without client_id in the form, and with aud naming the host "localhost".
    auto claims = valid_claims();
    claims.x5t.reset();
    claims.aud = "https://localhost:" + std::to_string(fx.sim().https_port()) + "/connect/token";
    check_token_response(assertion_grant(make_jwt(claims, cert_a().key_pem), ""));
}

BOOST_FIXTURE_TEST_CASE(certificate_grant_refusals, oauth_fixture) {
    const auto now = system_clock::now();

    expect_assertion_refused(make_jwt(valid_claims(), cert_b().key_pem), "signature");

    auto c = valid_claims();
    c.aud = "https://identity.avepointonlineservices.com/connect/token";
    expect_assertion_refused(make_jwt(c, cert_a().key_pem), "aud");

    c = valid_claims();
    c.iat = c.nbf = now - minutes(20);
    c.exp = now - minutes(10);
    expect_assertion_refused(make_jwt(c, cert_a().key_pem), "expired");

    c = valid_claims();
    c.exp = now + minutes(60);
    expect_assertion_refused(make_jwt(c, cert_a().key_pem), "too far");

    c = valid_claims();
    c.nbf = now + minutes(5);
    expect_assertion_refused(make_jwt(c, cert_a().key_pem), "nbf");

    c = valid_claims();
    c.sub = "someone-else";
    expect_assertion_refused(make_jwt(c, cert_a().key_pem), "sub");

    c = valid_claims();
    c.x5t = cert_b().x5t;
    expect_assertion_refused(make_jwt(c, cert_a().key_pem), "x5t");

    c = valid_claims();
    c.alg = "HS256";
    expect_assertion_refused(make_jwt(c, cert_a().key_pem), "RS256");

    // A client registered with a secret only cannot use a certificate.
    c = valid_claims();
    c.iss = c.sub = "secret-client";
    auto res = assertion_grant(make_jwt(c, cert_a().key_pem), "secret-client");
    BOOST_TEST(res.status == 401u);
    BOOST_TEST(str(json_of(res), "error_description").find("certificate") != std::string::npos);

    // iss must be the client_id of the form.
    res = assertion_grant(make_jwt(valid_claims(), cert_a().key_pem), "secret-client");
    BOOST_TEST(res.status == 401u);
    BOOST_TEST(str(json_of(res), "error_description").find("iss") != std::string::npos);

    expect_assertion_refused("not-a-jwt", "JWS");
    BOOST_TEST(fx.sim().counters().tokens_issued == 0u);
}

BOOST_FIXTURE_TEST_CASE(assertion_jti_cannot_be_replayed, oauth_fixture) {
    auto claims = valid_claims();
    claims.jti = "replayed-jti-1";
    const std::string jwt = make_jwt(claims, cert_a().key_pem);
    check_token_response(assertion_grant(jwt));
    expect_assertion_refused(jwt, "jti");
    claims.jti = "";
    expect_assertion_refused(make_jwt(claims, cert_a().key_pem) + "x", "signature");
}

BOOST_AUTO_TEST_SUITE_END()
