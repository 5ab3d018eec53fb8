// dynjobs/error.hpp - the library's error codes and their category.
//
// Every dynjobs operation reports failure as a boost::system::error_code whose category is
// dynjobs::error_category() (or an Asio/SSL/Beast category for raw transport errors). The human
// detail of a failure (field, value, JSON path, HTTP status, URL, body excerpt, OAuth error) lives
// in a dynjobs::diagnostics object filled by the same operation; see diagnostics.hpp.
#pragma once

#include <dynjobs/export.hpp>

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace dynjobs {

/// Error conditions raised by dynjobs itself.
enum class errc {
    // --- Bad input from the caller (nothing was sent) ---
    /// A query, configuration or command-line value is invalid. diagnostics::field names it.
    invalid_argument = 1,

    // --- Response bodies that cannot be decoded ---
    /// The body is not well-formed JSON (even allowing comments and trailing commas).
    json_syntax,
    /// The body ended before the JSON document was complete.
    truncated_body,
    /// A field has the wrong JSON type (for example a string where an integer is expected).
    unexpected_type,
    /// A number does not fit the field's type (for example a negative or fractional count).
    value_out_of_range,
    /// A field's text is not a valid value (a timestamp or GUID that does not parse).
    invalid_value,
    /// A field the API always sends is absent.
    missing_field,
    /// The body exceeds a configured limit: total size, string length, nesting depth or jobs.
    limit_exceeded,

    // --- Requests the retry policy gave up on ---
    /// The server answered a status that is not retried (400, 403, 404, ...). See
    /// diagnostics::http_status, url and body_excerpt.
    http_status,
    /// A request failed with retryable errors on every allowed attempt.
    retries_exhausted,
    /// Too many retries across the client recently (the shared retry budget is spent).
    retry_budget_exhausted,
    /// The fetch's deadline passed, or a wait the server asked for would end after it.
    deadline_exceeded,

    // --- Transport: each phase's timeout has its own code; each compares equal to
    // std::errc::timed_out (the category's default_error_condition) ---
    resolve_timeout,
    connect_timeout,
    tls_handshake_timeout,
    write_timeout,
    /// The request was sent but no response byte came in time.
    first_byte_timeout,
    /// The response started but did not complete in time.
    body_timeout,
    /// No pooled connection became free in time.
    pool_acquire_timeout,
    /// The server closed the connection before a complete response.
    connection_closed,
    /// A plain http:// URL to a host that is not loopback, without the explicit opt-in.
    insecure_scheme,

    // --- Authentication ---
    /// The token endpoint refused the credentials or the request (invalid_client, invalid_scope,
    /// unauthorized_client, ...). See diagnostics::oauth_error and oauth_error_description.
    oauth_error,
    /// The token endpoint answered something that is not a valid token response.
    invalid_token_response,
    /// The API refused a fresh token too (401 after the replay). Ends the whole fetch.
    unauthorized,
    /// A certificate or private key could not be loaded (bad file, format or password).
    credential_error,

    // --- Fetch ---
    /// totalCount kept changing while a window was paged, more times than allowed.
    drift_unresolved,
    /// One or more pages failed and the fetch went on (failure policy "continue"); the stream's
    /// failures() lists them.
    pages_failed,
    /// A window's pages held fewer distinct jobs than its totalCount, on every refetch allowed.
    /// diagnostics::message names the organization, the window and the missing count.
    incomplete_window,
    /// A nextLink that does not parse, has no query, or names a page already fetched.
    invalid_next_link,
    /// A totalCount that would take more pages than fetch_request::max_pages_per_window.
    implausible_total,
    /// A compressed body that is corrupt or truncated, or a Content-Encoding the client cannot
    /// decode (br, compress).
    bad_content_encoding,
    /// The API answered 403: the app may not read this (scope, permissions, an organization it
    /// may not see). Ends the whole fetch: every other page would be refused alike.
    forbidden,
    /// A 200 whose Content-Type is not JSON (a gateway's HTML sign-in or error page).
    unexpected_content_type,

    // --- Proxy (client_config::proxy) ---
    /// The proxy wants credentials, or refused the ones sent (407, or 401 as tinyproxy answers
    /// wrong ones), to open a tunnel. A configuration error: the fetch stops at once, nothing
    /// retried. diagnostics::http_status is the proxy's status, url the proxy without credentials.
    proxy_auth_required,
    /// The proxy did not open a tunnel: another status (403, 502, ...; diagnostics::http_status
    /// holds it), an answer that is not HTTP, or a close. Retried like other transport errors.
    proxy_refused,
};

/// True for the transport timeouts (resolve ... pool acquire).
DYNJOBS_DECL bool is_timeout(const boost::system::error_code& ec) noexcept;

/// The category of dynjobs::errc. Its name is "dynjobs".
DYNJOBS_DECL const boost::system::error_category& error_category() noexcept;

/// Makes an error_code of dynjobs' category; found by ADL so `ec = errc::json_syntax;` works.
inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace dynjobs

/// \cond
template <>
struct boost::system::is_error_code_enum<dynjobs::errc> : std::true_type {};
/// \endcond
