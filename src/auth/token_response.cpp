// src/auth/token_response.cpp - see token_response.hpp.
#include "auth/token_response.hpp"

#include <dynjobs/error.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <optional>

namespace dynjobs::auth {

namespace {

namespace json = boost::json;

/// Longest expires_in taken as given; absurd values must not overflow time arithmetic.
constexpr std::int64_t max_expires_in = 366LL * 24 * 3600;
/// OAuth error strings are short; a server could send anything, so they are cut too.
constexpr std::size_t max_oauth_text = 500;

boost::system::error_code invalid(diagnostics& diag, std::string_view field,
                                  std::string_view problem) {
    diag.field = std::string(field);
    diag.message = "token response: " + std::string(problem);
    return errc::invalid_token_response;
}

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

/// Printable text of at most `max` bytes, "..." included when cut (never inside a UTF-8
/// sequence), control bytes replaced.
std::string cut_text(std::string_view text, std::size_t max) {
    std::size_t n = text.size();
    if (n > max) {
        n = max > 3 ? max - 3 : 0;
        while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80)
            --n;
    }
    std::string out(text.substr(0, n));
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
            c = ' ';
    if (n < text.size())
        out += "...";
    return out;
}

/// expires_in as JSON gives it: an integer, a real, or a string of digits.
std::optional<std::int64_t> seconds_of(const json::value& v) {
    if (v.is_int64())
        return v.as_int64();
    if (v.is_uint64())
        return v.as_uint64() > static_cast<std::uint64_t>(max_expires_in)
                   ? max_expires_in
                   : static_cast<std::int64_t>(v.as_uint64());
    if (v.is_double()) {
        const double d = v.as_double();
        if (!std::isfinite(d))
            return std::nullopt;
        if (d < 0) // refused like a negative integer; never cast: below INT64_MIN that is UB
            return -1;
        return d > static_cast<double>(max_expires_in) ? max_expires_in
                                                       : static_cast<std::int64_t>(d);
    }
    if (v.is_string()) {
        std::string_view s = v.as_string();
        while (!s.empty() && s.front() == ' ')
            s.remove_prefix(1);
        while (!s.empty() && s.back() == ' ')
            s.remove_suffix(1);
        if (s.empty() || s.size() > 12 ||
            !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        return std::stoll(std::string(s));
    }
    return std::nullopt;
}

/// The OAuth error of a body, when it is one: {"error": "...", "error_description": "..."}.
bool oauth_error_of(std::string_view body, diagnostics& diag) {
    boost::system::error_code ec;
    const json::value v = json::parse(body, ec);
    if (ec || !v.is_object())
        return false;
    const json::object& o = v.as_object();
    const auto* error = o.if_contains("error");
    if (error == nullptr || !error->is_string() || error->as_string().empty())
        return false;
    diag.oauth_error = cut_text(error->as_string(), max_oauth_text);
    if (const auto* d = o.if_contains("error_description"); d != nullptr && d->is_string())
        diag.oauth_error_description = cut_text(d->as_string(), max_oauth_text);
    return true;
}

} // namespace

boost::system::error_code parse_token_success(std::string_view body, issued_token& token,
                                              diagnostics& diag) {
    token = issued_token{};
    boost::system::error_code ec;
    const json::value v = json::parse(body, ec);
    if (ec)
        return invalid(diag, "", "the body is not valid JSON (" + ec.message() + ")");
    if (!v.is_object())
        return invalid(diag, "", "the body is not a JSON object");
    const json::object& o = v.as_object();

    const auto* type = o.if_contains("token_type");
    if (type == nullptr)
        return invalid(diag, "token_type", "token_type is missing");
    if (!type->is_string())
        return invalid(diag, "token_type", "token_type is not a string");
    if (!iequals(type->as_string(), "bearer")) {
        diag.value = cut_text(type->as_string(), 40);
        return invalid(diag, "token_type",
                       "token_type is '" + diag.value + "', only Bearer tokens are supported");
    }

    const auto* access = o.if_contains("access_token");
    if (access == nullptr)
        return invalid(diag, "access_token", "access_token is missing");
    if (!access->is_string())
        return invalid(diag, "access_token", "access_token is not a string");
    const std::string_view value = access->as_string();
    if (value.empty())
        return invalid(diag, "access_token", "access_token is empty");
    // It goes into an HTTP header: only visible ASCII (RFC 6750 b64token is a subset) is safe.
    if (!std::all_of(value.begin(), value.end(), [](char c) { return c > 0x20 && c < 0x7F; }))
        return invalid(diag, "access_token",
                       "access_token has characters that cannot go into an HTTP header");

    std::int64_t seconds = default_expires_in.count();
    if (const auto* expires = o.if_contains("expires_in"); expires != nullptr) {
        const auto s = seconds_of(*expires);
        if (!s || *s < 0)
            return invalid(diag, "expires_in", "expires_in is not a number of seconds (0 or more)");
        seconds = std::min(*s, max_expires_in);
    }

    token.access_token = std::string(value);
    token.expires_in = std::chrono::seconds(seconds);
    return {};
}

token_verdict interpret_token_response(unsigned status, std::string_view body, std::string_view url,
                                       issued_token& token, boost::system::error_code& ec,
                                       diagnostics& diag) {
    diag.clear();
    ec.clear();
    token = issued_token{};
    const std::string where = "token endpoint " + std::string(url);

    if (status >= 200 && status < 300) {
        ec = parse_token_success(body, token, diag);
        if (!ec)
            return token_verdict::ok;
        // Never the body: a half-valid success response may well hold a token.
        diag.http_status = static_cast<int>(status);
        diag.url = std::string(url);
        diag.message = where + ": " + diag.message;
        return token_verdict::fail;
    }

    diag.http_status = static_cast<int>(status);
    diag.url = std::string(url);
    const bool is_oauth = oauth_error_of(body, diag);
    if (!is_oauth && !body.empty())
        diag.body_excerpt = cut_text(body, max_body_excerpt);

    diag.message = where + " answered HTTP " + std::to_string(status);
    if (is_oauth) {
        diag.message += ": " + diag.oauth_error;
        if (!diag.oauth_error_description.empty())
            diag.message += ": " + diag.oauth_error_description;
    }

    if (status == 408 || status == 429 || (status >= 500 && status < 600))
        return token_verdict::retry;
    ec = (status == 400 || status == 401 || status == 403) ? errc::oauth_error : errc::http_status;
    return token_verdict::fail;
}

} // namespace dynjobs::auth
