// dynjobs/job_status.hpp - the `status` of a job and of a query.
#pragma once

#include <dynjobs/export.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace dynjobs {

/// Job statuses as the API numbers them. An undocumented value is kept as its number.
enum class job_status : std::int32_t {
    in_progress = 2,
    finished = 3,
    failed = 4,
    finished_with_exception = 7,
};

/// True for the four documented values.
DYNJOBS_DECL bool is_documented(job_status s) noexcept;

/// Lower-case name ("in_progress", "finished_with_exception", ...) or empty when undocumented.
DYNJOBS_DECL std::string_view to_string(job_status s) noexcept;

/// Accepts a documented name (case-insensitive; `-`, `_` and spaces optional) or a decimal number.
DYNJOBS_DECL std::optional<job_status> parse_job_status(std::string_view text) noexcept;

} // namespace dynjobs
