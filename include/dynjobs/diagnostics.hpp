// dynjobs/diagnostics.hpp - the human detail that goes with an error_code.
#pragma once

#include <string>

namespace dynjobs {

/// What a failing operation knows about its failure beyond the error_code.
///
/// Operations that take a `diagnostics&` clear it on entry and fill the relevant members on
/// failure. It never holds secrets: URLs are stored without credentials or tokens, and bodies of
/// token responses are never copied. Plain value type; not thread-safe to share while written.
struct diagnostics {
    /// One self-contained line for a person, e.g.
    /// "jobs[3].backupSize: expected an integer, got a string".
    std::string message;
    /// The field, query parameter, option or JSON path at fault ("jobs[3].backupSize", "pageSize").
    std::string field;
    /// The offending value as text, cut to a sane length, when there is one.
    std::string value;
    /// HTTP status of the response that failed, or 0 when no response was involved.
    int http_status = 0;
    /// The request URL without secrets, when a request was involved.
    std::string url;
    /// The first bytes of the response body (at most a few hundred), when a response was involved.
    std::string body_excerpt;
    /// OAuth 2.0 `error` and `error_description` from a token endpoint, when present.
    std::string oauth_error;
    std::string oauth_error_description; ///< see oauth_error

    /// Empties every field, for reuse across calls.
    void clear() { *this = diagnostics{}; }
};

} // namespace dynjobs
