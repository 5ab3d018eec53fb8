// dynjobs/job_type.hpp - the `type` of a job and of a query.
#pragma once

#include <dynjobs/export.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace dynjobs {

/// Job types as the API numbers them. A value the docs do not list (a new type on the server) is
/// kept as its number: `static_cast<job_type>(64)` is valid and round-trips.
enum class job_type : std::int32_t {
    all = 0, ///< only meaningful in a query: every type
    backup = 1,
    restore = 2,
    dry_run = 4,
    retention = 8,
    audit_backup = 16,
    export_data = 32, ///< named "export" (a C++ keyword, hence the suffix)
};

/// True for the seven documented values.
DYNJOBS_DECL bool is_documented(job_type t) noexcept;

/// Lower-case name ("backup", "dry_run", "export", ...) or an empty view for an undocumented value.
DYNJOBS_DECL std::string_view to_string(job_type t) noexcept;

/// Accepts a documented name (case-insensitive; `-` and `_` optional: "dryrun", "dry-run",
/// "AuditBackup") or a decimal number (any int32, documented or not).
DYNJOBS_DECL std::optional<job_type> parse_job_type(std::string_view text) noexcept;

} // namespace dynjobs
