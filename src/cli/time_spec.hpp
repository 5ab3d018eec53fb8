// Times and spans as the command line writes them: "2024-01-01", "2024-01-01T08:00:00Z",
// "90d". Pure functions of the text and of `now`, so a run's range is fixed once at its start.
#pragma once

#include <dynjobs/timestamp.hpp>

#include <chrono>
#include <optional>
#include <string_view>

namespace dynjobs::cli {

/// A span: a whole number followed by a unit, s (seconds), m (minutes), h (hours), d (days) or
/// w (weeks): "90d", "12h", "2w". nullopt for anything else, zero, or more than 100 years.
std::optional<std::chrono::milliseconds> parse_span(std::string_view text) noexcept;

/// A point in time: ISO 8601 UTC as the API writes it ("2024-01-01T08:00:00Z", fractions and
/// offsets accepted), a bare date ("2024-01-01", midnight UTC), or a span back from `now`
/// ("90d" = now - 90 days). nullopt for anything else.
std::optional<timestamp> parse_time_point(std::string_view text, timestamp now);

} // namespace dynjobs::cli
