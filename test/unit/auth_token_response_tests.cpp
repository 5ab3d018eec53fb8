// Token endpoint answers: success variants, OAuth errors, transient failures, malformed
// bodies, and that a token never reaches the diagnostics.
#include "auth/token_response.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/unit_test.hpp>

BOOST_TEST_DONT_PRINT_LOG_VALUE(dynjobs::auth::token_verdict)

namespace dynjobs::auth_test {
namespace {

using auth::interpret_token_response;
using auth::issued_token;
using auth::token_verdict;

constexpr const char* url = "https://identity.example/connect/token";

struct outcome {
    token_verdict verdict;
    issued_token token;
    boost::system::error_code ec;
    diagnostics diag;
};

outcome interpret(unsigned status, std::string_view body) {
    outcome o;
    o.verdict = interpret_token_response(status, body, url, o.token, o.ec, o.diag);
    return o;
}

/// Nothing of the token may leak into any diagnostic member.
void check_no_leak(const diagnostics& d, std::string_view secret) {
    for (const std::string* s : {&d.message, &d.field, &d.value, &d.url, &d.body_excerpt,
                                 &d.oauth_error, &d.oauth_error_description})
        BOOST_TEST(s->find(secret) == std::string::npos, *s);
}

} // namespace

BOOST_AUTO_TEST_SUITE(auth_token_response)

BOOST_AUTO_TEST_CASE(documented_success) {
    const auto o = interpret(200, R"({"token_type":"Bearer","expires_in":3600,)"
                                  R"("ext_expires_in":3600,"access_token":"eyJ0.abc-_~+/="})");
    BOOST_TEST(o.verdict == token_verdict::ok);
    BOOST_TEST(!o.ec);
    BOOST_TEST(o.token.access_token == "eyJ0.abc-_~+/=");
    BOOST_TEST(o.token.expires_in.count() == 3600);
}

BOOST_AUTO_TEST_CASE(success_variants) {
    // Lower-case token type, numeric string lifetime, extra members (scope), spacing.
    auto o = interpret(200, R"( { "access_token" : "t1", "token_type" : "bearer",
                                 "expires_in" : "1799", "scope" : "dynamics.readwrite.all" } )");
    BOOST_REQUIRE(o.verdict == token_verdict::ok);
    BOOST_TEST(o.token.access_token == "t1");
    BOOST_TEST(o.token.expires_in.count() == 1799);

    o = interpret(200, R"({"token_type":"BEARER","expires_in":59.9,"access_token":"t2"})");
    BOOST_REQUIRE(o.verdict == token_verdict::ok);
    BOOST_TEST(o.token.expires_in.count() == 59);

    // expires_in is optional in RFC 6749: the documented hour is assumed.
    o = interpret(200, R"({"token_type":"Bearer","access_token":"t3"})");
    BOOST_REQUIRE(o.verdict == token_verdict::ok);
    BOOST_TEST(o.token.expires_in.count() == 3600);

    // Zero: an already expired token is still a token (the API will judge it).
    o = interpret(200, R"({"token_type":"Bearer","expires_in":0,"access_token":"t4"})");
    BOOST_REQUIRE(o.verdict == token_verdict::ok);
    BOOST_TEST(o.token.expires_in.count() == 0);

    // Absurdly long lifetimes are capped rather than overflowing time arithmetic.
    o = interpret(200, R"({"token_type":"Bearer","expires_in":99999999999,"access_token":"t"})");
    BOOST_REQUIRE(o.verdict == token_verdict::ok);
    BOOST_TEST(o.token.expires_in.count() == 366LL * 24 * 3600);

    o = interpret(201, R"({"token_type":"Bearer","expires_in":10,"access_token":"t5"})");
    BOOST_TEST(o.verdict == token_verdict::ok);
}

BOOST_AUTO_TEST_CASE(malformed_success_is_invalid_token_response) {
    const char* secret = "SECRET-TOKEN-VALUE";
    struct bad {
        std::string body;
        std::string field;
    };
    const bad cases[] = {
        {"not json at all SECRET-TOKEN-VALUE", ""},
        {R"(["SECRET-TOKEN-VALUE"])", ""},
        {R"({"token_type":"Bearer","expires_in":3600,"access_token":"SECRET-TOKEN-VALUE")", ""},
        {R"({"expires_in":3600,"access_token":"SECRET-TOKEN-VALUE"})", "token_type"},
        {R"({"token_type":"mac","expires_in":3600,"access_token":"SECRET-TOKEN-VALUE"})",
         "token_type"},
        {R"({"token_type":7,"access_token":"SECRET-TOKEN-VALUE"})", "token_type"},
        {R"({"token_type":"Bearer","expires_in":3600})", "access_token"},
        {R"({"token_type":"Bearer","access_token":""})", "access_token"},
        {R"({"token_type":"Bearer","access_token":42})", "access_token"},
        {"{\"token_type\":\"Bearer\",\"access_token\":\"SECRET-TOKEN-VALUE\\r\\nX: y\"}",
         "access_token"},
        {R"({"token_type":"Bearer","expires_in":-5,"access_token":"SECRET-TOKEN-VALUE"})",
         "expires_in"},
        {R"({"token_type":"Bearer","expires_in":"soon","access_token":"SECRET-TOKEN-VALUE"})",
         "expires_in"},
        {R"({"token_type":"Bearer","expires_in":"12a","access_token":"SECRET-TOKEN-VALUE"})",
         "expires_in"},
        {R"({"token_type":"Bearer","expires_in":null,"access_token":"SECRET-TOKEN-VALUE"})",
         "expires_in"},
        // Found by fuzz/token_response.cpp (UBSan): the double was cast to int64 out of range.
        {R"({"token_type":"Bearer","expires_in":-1e300,"access_token":"SECRET-TOKEN-VALUE"})",
         "expires_in"},
        {R"({"token_type":"Bearer","expires_in":-0.5,"access_token":"SECRET-TOKEN-VALUE"})",
         "expires_in"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.body) {
            const auto o = interpret(200, c.body);
            BOOST_TEST(o.verdict == token_verdict::fail);
            BOOST_TEST(o.ec == make_error_code(errc::invalid_token_response));
            BOOST_TEST(o.diag.field == c.field);
            BOOST_TEST(o.diag.http_status == 200);
            BOOST_TEST(o.diag.url == url);
            BOOST_TEST(o.diag.body_excerpt.empty()); // a success body is never copied
            BOOST_TEST(o.diag.message.find(url) != std::string::npos);
            BOOST_TEST(o.token.access_token.empty());
            check_no_leak(o.diag, secret);
        }
    }
}

BOOST_AUTO_TEST_CASE(permanent_oauth_errors) {
    for (unsigned status : {400u, 401u, 403u}) {
        for (const char* error : {"invalid_client", "invalid_scope", "unauthorized_client",
                                  "invalid_grant", "unsupported_grant_type", "invalid_request"}) {
            BOOST_TEST_CONTEXT(status << " " << error) {
                const std::string body = std::string(R"({"error":")") + error +
                                         R"(","error_description":"Invalid client secret"})";
                const auto o = interpret(status, body);
                BOOST_TEST(o.verdict == token_verdict::fail);
                BOOST_TEST(o.ec == make_error_code(errc::oauth_error));
                BOOST_TEST(o.diag.oauth_error == error);
                BOOST_TEST(o.diag.oauth_error_description == "Invalid client secret");
                BOOST_TEST(o.diag.http_status == static_cast<int>(status));
                BOOST_TEST(o.diag.url == url);
                BOOST_TEST(o.diag.message.find("Invalid client secret") != std::string::npos);
                BOOST_TEST(o.diag.body_excerpt.empty());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(error_without_oauth_body) {
    auto o = interpret(401, "<html>Unauthorized</html>");
    BOOST_TEST(o.verdict == token_verdict::fail);
    BOOST_TEST(o.ec == make_error_code(errc::oauth_error));
    BOOST_TEST(o.diag.oauth_error.empty());
    BOOST_TEST(o.diag.body_excerpt == "<html>Unauthorized</html>");

    o = interpret(404, R"({"message":"no such path"})");
    BOOST_TEST(o.verdict == token_verdict::fail);
    BOOST_TEST(o.ec == make_error_code(errc::http_status));
    BOOST_TEST(o.diag.http_status == 404);
    BOOST_TEST(o.diag.body_excerpt == R"({"message":"no such path"})");

    // Long bodies are cut, control characters flattened.
    o = interpret(400, std::string(1000, 'x') + "\r\n");
    BOOST_TEST(o.diag.body_excerpt.size() <= auth::max_body_excerpt);
    BOOST_TEST(o.diag.body_excerpt.ends_with("..."));
    // Never cut inside a UTF-8 sequence ("\xC3\xA9" is e-acute, straddling the cut).
    o = interpret(502, std::string(296, 'x') + "\xC3\xA9" + std::string(100, 'y'));
    BOOST_TEST(o.diag.body_excerpt == std::string(296, 'x') + "...");
    BOOST_TEST(o.diag.body_excerpt.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(transient_failures_are_retried) {
    for (unsigned status : {408u, 429u, 500u, 502u, 503u, 504u}) {
        BOOST_TEST_CONTEXT(status) {
            const auto o = interpret(status, R"({"error":"temporarily_unavailable"})");
            BOOST_TEST(o.verdict == token_verdict::retry);
            BOOST_TEST(!o.ec);
            BOOST_TEST(o.diag.http_status == static_cast<int>(status));
            BOOST_TEST(o.diag.oauth_error == "temporarily_unavailable");
        }
    }
    const auto o = interpret(503, "");
    BOOST_TEST(o.verdict == token_verdict::retry);
    BOOST_TEST(o.diag.message.find("503") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace dynjobs::auth_test
