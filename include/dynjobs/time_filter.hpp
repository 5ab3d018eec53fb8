// dynjobs/time_filter.hpp - which job time the server's startTime/finishTime filter applies to.
#pragma once

#include <dynjobs/export.hpp>

#include <optional>
#include <string_view>

namespace dynjobs {

/// What the API's `startTime`/`finishTime` parameters select. The published page does not say,
/// so a fetch either infers it from the jobs the server returns (auto_detect, the default) or is
/// told. Windowing never changes what a fetch delivers; this decides what that is:
///
/// | semantics | the server returns for [a, b]        | the fetch delivers, for [start, finish] |
/// |-----------|--------------------------------------|-----------------------------------------|
/// | start     | startTime in [a, b]                  | startTime in the range                  |
/// | finish    | finishTime in [a, b] (never running) | finishTime in the range                 |
/// | overlap   | [startTime, finishTime] meets [a, b] | jobs that overlap the range             |
/// | ignored   | every job, whatever a and b          | startTime in the range (filtered here)  |
enum class time_filter {
    /// Infer from the jobs the server returns: start until a job shows otherwise.
    auto_detect,
    start,
    finish,
    overlap,
    ignored,
};

/// "auto", "start", "finish", "overlap", "ignored".
DYNJOBS_DECL std::string_view to_string(time_filter t) noexcept;
/// The inverse of to_string (exact, lower case); nullopt for anything else.
DYNJOBS_DECL std::optional<time_filter> parse_time_filter(std::string_view text) noexcept;

} // namespace dynjobs
