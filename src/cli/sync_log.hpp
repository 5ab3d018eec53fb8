// `dynjobs sync`'s log: one line per cycle and one per error, as text for people or as JSON
// for log collectors (`--log-format`). Pure formatting; the driver writes the lines to stderr.
#pragma once

#include "cli/sync_metrics.hpp"
#include "cli/sync_schedule.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace dynjobs::cli {

enum class log_format { text, json };

/// "text" or "json"; nullopt for anything else.
std::optional<log_format> parse_log_format(std::string_view text) noexcept;

/// The line for a finished cycle, no line end. Text:
/// `2024-06-01T00:05:00Z info cycle ok 2024-05-30T00:00:00Z..2024-06-01T00:05:00Z jobs 120
/// upserted 7 changed 3 pages 12 requests 13 429s 1 retries 1 1.5s`. JSON: one object with
/// `time`, `level`, `event`, `result`, `start`, `finish` and the same counts as numbers.
std::string format_cycle_line(log_format format, const sync_range& range,
                              const cycle_report& cycle);

/// The line for an error: `level` "error", the message as given (which must hold no secret).
std::string format_error_line(log_format format, timestamp at, std::string_view message);

} // namespace dynjobs::cli
