// dynjobs/timestamp.hpp - UTC instants and their ISO 8601 text form.
#pragma once

#include <dynjobs/export.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dynjobs {

/// A UTC instant with millisecond precision: the API's timestamps carry at most milliseconds.
using timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

/// Parses ISO 8601 / RFC 3339 date-time text: `YYYY-MM-DDTHH:MM[:SS[.fraction]][zone]`.
///
/// - `T` may be `t` or a single space; the fraction may have any number of digits and is
///   truncated to milliseconds;
/// - zone is `Z`/`z`, `+HH:MM`, `+HHMM` or `+HH` (and `-`); the result is converted to UTC.
///   Without a zone the time is taken as UTC, as the API documents all its times as UTC;
/// - years 0001-9999; fields are range-checked (month 1-12, day within the month, leap years,
///   hour 0-23, minute 0-59, second 0-60 where 60 is folded into 59.999).
/// Returns nullopt for anything else, including trailing characters.
DYNJOBS_DECL std::optional<timestamp> parse_iso8601(std::string_view text);

/// Formats as `YYYY-MM-DDTHH:MM:SS.mmmZ`, or `YYYY-MM-DDTHH:MM:SSZ` when the milliseconds are 0.
/// parse_iso8601(format_iso8601(t)) == t for every t in years 0001-9999.
DYNJOBS_DECL std::string format_iso8601(timestamp t);
/// Appends format_iso8601(t) to `out` without a temporary.
DYNJOBS_DECL void append_iso8601(std::string& out, timestamp t);

} // namespace dynjobs
