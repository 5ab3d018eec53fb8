// Creating, migrating and checking the sink's schema on a live connection.
#pragma once

#include "sink/pg/connection.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace dynjobs::sink::pg {

/// The database cannot hold the sink's tables as they are (a `jobs` table of another shape, a
/// newer schema version, a role that may not write). The message is for the operator.
struct schema_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Brings `schema` to schema_version (under an advisory lock, in one transaction, so that two
/// runs starting together migrate once), then checks the shape of its `jobs` table and, with
/// `for_writing`, that this session may write to it. A schema already at schema_version is only
/// read, so a read-only role gets the read-only message rather than a failed CREATE.
/// Throws schema_error, or pg::error for what the server refused.
boost::asio::awaitable<void> prepare_schema(connection& c, std::string schema, bool for_writing);

/// After prepare_schema(..., true), for `backfill --worker`: the role may use the work queue.
/// Throws schema_error naming the privileges it lacks (a plain run does not need them).
boost::asio::awaitable<void> check_work_writable(connection& c, std::string schema);

/// What `dynjobs db status` prints.
struct schema_status {
    int version = 0; ///< 0: not created
    std::vector<std::pair<std::int32_t, std::uint64_t>> jobs_by_status;
    struct run {
        std::string selection_hash;
        std::string range;        ///< "start .. finish"
        std::string completed_at; ///< empty while unfinished
        std::uint64_t segments = 0;
        std::uint64_t jobs = 0;
        /// `backfill --worker` runs (schema version 3 on): the work table's view.
        struct worker_summary {
            std::string name;
            std::uint64_t segments = 0; ///< done by it
            std::uint64_t jobs = 0;
            std::uint64_t pages = 0;
            double seconds = 0; ///< from its first claim to its last segment done
        };
        struct segment_counts {
            std::uint64_t total = 0, done = 0, leased = 0, pending = 0, failed = 0;
        };
        struct work_summary : segment_counts {
            std::uint64_t reclaims = 0; ///< claims after the first: expired leases, give-backs
            std::uint64_t failures = 0; ///< fetches given back with failures
            std::vector<worker_summary> workers;
            /// A `--tenants` run's segments by tenant (schema version 4 on); empty otherwise.
            std::vector<std::pair<std::string, segment_counts>> tenants;
        };
        std::optional<work_summary> work;
    };
    std::vector<run> runs;
    struct sync {
        std::string selection_hash;
        std::string high_water_mark;
        std::string updated_at;
    };
    std::vector<sync> syncs; ///< `dynjobs sync`'s selections (schema version 2 on)
};
/// `max_failures`: the worker's limit (segments failed that often count as failed, not pending).
boost::asio::awaitable<schema_status> read_status(connection& c, std::string schema,
                                                  int max_failures);

} // namespace dynjobs::sink::pg
