// Fuzzes the token endpoint's answer: parse_token_success and interpret_token_response.
//
// Invariants:
// - an accepted token is non-empty visible ASCII (it goes into an Authorization header) and its
//   lifetime is 0..366 days;
// - the diagnostics of a 2xx answer do not depend on the access token's value: the same body
//   with every visible character of the token changed gives the same diagnostics (no secret in
//   logs; other answers are quoted by design, cut to max_body_excerpt);
// - excerpts and OAuth texts stay within their documented bounds.
#include "fuzz_check.hpp"

#include "auth/token_response.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

using namespace dynjobs;
using namespace dynjobs::auth;

namespace {

// The body with each visible ASCII character of its access_token replaced by another one; the
// token's validity (empty, visible ASCII or not) stays the same. nullopt without such a token.
std::optional<std::string> with_other_token(const std::string& body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object())
        return std::nullopt;
    auto* access = v.as_object().if_contains("access_token");
    if (access == nullptr || !access->is_string())
        return std::nullopt;
    std::string other(access->as_string());
    for (char& c : other)
        if (c > 0x20 && c < 0x7F)
            c = c == 'A' ? 'B' : 'A';
    access->emplace_string() = other;
    std::string text = boost::json::serialize(v);
    // Boost.JSON writes an overflowed number (3e999 reads as infinity) as text it cannot read
    // back; such a body says nothing about the token.
    boost::json::parse(text, ec);
    if (ec)
        return std::nullopt;
    return text;
}

void require_same(const diagnostics& a, const diagnostics& b) {
    if (a.message == b.message && a.field == b.field && a.value == b.value &&
        a.body_excerpt == b.body_excerpt && a.http_status == b.http_status)
        return;
    std::fprintf(stderr, "diagnostics depend on the token:\n  '%s' (%s)\n  '%s' (%s)\n",
                 a.message.c_str(), a.field.c_str(), b.message.c_str(), b.field.c_str());
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const auto status = in.ConsumeIntegralInRange<unsigned>(100, 599);
    const std::string body = in.ConsumeRemainingBytesAsString();
    const std::string url = "https://login.example/token";

    issued_token token;
    diagnostics diag;
    const auto ec = parse_token_success(body, token, diag);
    if (!ec) {
        FUZZ_CHECK(!token.access_token.empty());
        for (const char c : token.access_token)
            FUZZ_CHECK(c > 0x20 && c < 0x7F);
        FUZZ_CHECK(token.expires_in >= std::chrono::seconds{0});
        FUZZ_CHECK(token.expires_in <= std::chrono::hours{24 * 366});
    }

    issued_token verdict_token;
    boost::system::error_code verdict_ec;
    diagnostics verdict_diag;
    const auto verdict =
        interpret_token_response(status, body, url, verdict_token, verdict_ec, verdict_diag);
    const bool success = status >= 200 && status < 300;
    FUZZ_CHECK((verdict == token_verdict::ok) == (success && !ec));
    FUZZ_CHECK((verdict == token_verdict::fail) == static_cast<bool>(verdict_ec));
    if (!success) {
        FUZZ_CHECK(verdict_diag.http_status == static_cast<int>(status));
        FUZZ_CHECK(verdict_diag.body_excerpt.size() <= max_body_excerpt);
        FUZZ_CHECK(verdict_diag.oauth_error.size() <= 500);
        FUZZ_CHECK(verdict_diag.oauth_error_description.size() <= 500);
        return 0;
    }
    FUZZ_CHECK(verdict_diag.body_excerpt.empty());

    if (const auto other = with_other_token(body)) {
        issued_token other_token;
        diagnostics other_diag;
        FUZZ_CHECK(parse_token_success(*other, other_token, other_diag) == ec);
        require_same(other_diag, diag);
        boost::system::error_code other_ec;
        diagnostics other_verdict_diag;
        interpret_token_response(status, *other, url, other_token, other_ec, other_verdict_diag);
        require_same(other_verdict_diag, verdict_diag);
    }
    return 0;
}
