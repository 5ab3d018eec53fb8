// src/policy/retry_after.hpp - the HTTP Retry-After header.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace dynjobs::policy {

/// Parses a Retry-After value (RFC 9110 section 10.2.3) into a wait from `now`.
///
/// Accepts delay-seconds (`120`), fractional seconds (`0.5`, which RFC 9110 does not allow but
/// throttling gateways send), and an HTTP-date in any of its three forms: IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and
/// asctime (`Sun Nov  6 08:49:37 1994`). Surrounding spaces are ignored. A date in the past gives
/// zero. Returns nullopt when the value is none of these (the caller falls back to its own
/// backoff); negative or absurd numbers (over a year) are rejected the same way.
///
/// Pure function; thread-safe.
std::optional<std::chrono::milliseconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

} // namespace dynjobs::policy
