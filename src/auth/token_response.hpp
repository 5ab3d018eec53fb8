// src/auth/token_response.hpp - what the token endpoint's answer means.
//
// Socket-free: the token manager feeds it the status and body of each attempt; unit tests feed
// it text.
#pragma once

#include <dynjobs/diagnostics.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace dynjobs::auth {

/// A token the endpoint issued.
struct issued_token {
    std::string access_token; ///< secret
    std::chrono::seconds expires_in{0};
};

/// What to do after one token endpoint answer.
enum class token_verdict {
    ok,    ///< `token` holds the token
    retry, ///< transient (408, 429, 5xx): retry with the retry policy
    fail,  ///< permanent: report `ec` with `diag` at once
};

/// Lifetime assumed when a success response omits expires_in (RFC 6749 makes it optional): the
/// documented lifetime of the API's tokens. Should it be shorter, a 401 renews it.
inline constexpr std::chrono::seconds default_expires_in{3600};

/// Parses a 2xx token response: `{"token_type":"Bearer","expires_in":3600,
/// "ext_expires_in":3600,"access_token":"..."}`. token_type is compared without case;
/// expires_in may be a number or a numeric string, 0 or more (capped at one year), and defaults
/// to default_expires_in when absent; other members are ignored.
///
/// Errors: errc::invalid_token_response with diag.field naming the member and diag.message
/// saying what is wrong. The body is never copied into diag (it may hold a token).
boost::system::error_code parse_token_success(std::string_view body, issued_token& token,
                                              diagnostics& diag);

/// Interprets one complete response from the token endpoint at `url` (no secrets in it).
///
/// - 2xx: parse_token_success -> ok, or fail with invalid_token_response.
/// - 408, 429, 5xx: retry (diag describes the failure, for the report if retries run out).
/// - 400, 401, 403: fail with errc::oauth_error, diag.oauth_error / oauth_error_description
///   from an OAuth error body (invalid_client, invalid_scope, ...).
/// - anything else: fail with errc::http_status.
/// diag.http_status and diag.url are always set on non-ok verdicts; a body that is not an
/// OAuth error JSON goes into diag.body_excerpt, cut to 300 characters.
token_verdict interpret_token_response(unsigned status, std::string_view body, std::string_view url,
                                       issued_token& token, boost::system::error_code& ec,
                                       diagnostics& diag);

/// At most this many characters of a body go into diag.body_excerpt.
inline constexpr std::size_t max_body_excerpt = 300;

} // namespace dynjobs::auth
