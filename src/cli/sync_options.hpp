// `dynjobs sync` options: the backfill's selection, connection and PostgreSQL options, plus the
// schedule (--every, --lookback), the status endpoint (--listen), the log (--log-format) and
// --once. parse_sync_options() is pure; resolve_sync() reads files and the environment as
// resolve_backfill() does, and fixes --since.
#pragma once

#include "cli/backfill_options.hpp"
#include "cli/backfill_plan.hpp"
#include "cli/sync_log.hpp"
#include "cli/sync_schedule.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <optional>
#include <span>
#include <string_view>

namespace dynjobs::cli {

struct sync_options {
    backfill_options base; ///< the options sync shares with backfill
    std::chrono::milliseconds every = std::chrono::minutes(5);
    std::chrono::milliseconds lookback = std::chrono::hours(48);
    std::optional<boost::asio::ip::tcp::endpoint> listen; ///< none: no HTTP endpoint
    log_format log = log_format::text;
    bool once = false;
    bool help = false;
};

/// Parses the arguments after `sync`. Throws usage_error naming the option and the value for a
/// bad value, and for the backfill options that have no meaning for a sync (--until, --resume,
/// --checkpoint, --checkpoint-interval, --stats-json, --verbose, --quiet).
sync_options parse_sync_options(std::span<const std::string_view> args);

struct sync_plan {
    /// The fetch and the destination. `plan.chosen` is the sync's selection: what decides which
    /// jobs it fetches (type, status, organizations, endpoint, app), not the time range, so
    /// that a restart with another --since, or a relative one, keeps the high-water mark.
    backfill_plan plan;
    sync_schedule schedule;
    std::optional<boost::asio::ip::tcp::endpoint> listen;
    log_format log = log_format::text;
    bool once = false;
};

/// Resolves as resolve_backfill() does, plus the sync's own rules: --since is required (the
/// first cycle backfills from it: a default would silently leave history out), a real endpoint
/// with credentials (the embedded simulator's data does not move), and a JSONL file or
/// PostgreSQL as the output (the file's state needs a file beside it; CSV cannot be scanned for
/// changes line by line). Throws usage_error.
sync_plan resolve_sync(const sync_options& options, timestamp now, const environment& env);

/// `dynjobs sync --help`.
extern const std::string_view sync_usage;

} // namespace dynjobs::cli
