// `dynjobs db init|status`: the PostgreSQL sink's schema for operators. `init` creates or
// migrates it (what a backfill would do on its first run) and checks that the role may write;
// `status` prints its version, the jobs by status and each backfill's progress, changing nothing.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dynjobs::cli {

struct db_options {
    std::string action; ///< init or status
    std::string uri;    ///< --output
    std::string schema = "dynjobs";
    std::optional<std::string> password_file;
    bool help = false;
};

/// Parses the arguments after `db`. Throws usage_error naming the option and the value.
db_options parse_db_options(std::span<const std::string_view> args);

/// Returns the exit status: 0, or 1 for a database that cannot be reached or used (one line on
/// stderr naming it and the problem).
int run_db(const db_options& options);

extern const std::string_view db_usage;

} // namespace dynjobs::cli
