// Where `dynjobs sync` writes: each cycle's jobs, and the high-water mark (the end of the range
// every job is known up to) in the destination itself, so a restart continues where the last
// successful cycle ended.
//
// Unlike a backfill's sink (sink.hpp) there is no segment bookkeeping: a cycle is small after
// the first, `segments` rows every few minutes would grow without bound, and a cycle that does
// not finish needs no resume: the next one fetches its whole range again from the old mark, and
// the destination's change detection (the PostgreSQL upsert, the JSONL file's fingerprints)
// keeps every job version once.
#pragma once

#include "cli/backfill_plan.hpp"

#include <dynjobs/job_stream.hpp>
#include <dynjobs/timestamp.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace dynjobs::sink {

/// What a cycle wrote.
struct cycle_counts {
    std::uint64_t upserted = 0; ///< jobs written: new, or stored and changed
    std::uint64_t changed = 0;  ///< of those, stored jobs whose fields changed
};

class sync_sink {
public:
    virtual ~sync_sink() = default;

    /// Before any API request: checks that the destination can be written, and returns the
    /// high-water mark stored there (nullopt: this selection was never synced into it). Throws
    /// cli::usage_error naming the option and the problem.
    virtual boost::asio::awaitable<std::optional<timestamp>> open() = 0;
    /// One batch of the current cycle. It may be made durable before the cycle ends (a first
    /// cycle can be a long backfill); the mark does not move until commit_cycle.
    virtual boost::asio::awaitable<void> write(job_batch batch) = 0;
    /// The cycle fetched every job of its range: makes the cycle's jobs durable and moves the
    /// mark to `high_water_mark`, together. Throws when it cannot (the mark then stays).
    virtual boost::asio::awaitable<cycle_counts> commit_cycle(timestamp high_water_mark) = 0;
    /// The cycle failed or was interrupted: jobs already durable stay (they are true), the rest
    /// is dropped, the mark stays. Never throws.
    virtual boost::asio::awaitable<cycle_counts> abandon_cycle() = 0;

    /// The output as the log names it: a path, or a URI without its password.
    virtual std::string output_name() const = 0;
};

/// PostgreSQL: `plan.pg` must be set. The mark in SCHEMA.sync_state, keyed by the selection's
/// hash (pg/sql.hpp). `plan` must outlive the sink.
std::unique_ptr<sync_sink> make_pg_sync_sink(const cli::backfill_plan& plan,
                                             boost::asio::any_io_executor ex);

/// A JSONL file: a job's line is appended when it is new or differs from its last line in the
/// file. The mark in `<output>.sync-state`. `plan` must outlive the sink.
std::unique_ptr<sync_sink> make_file_sync_sink(const cli::backfill_plan& plan);

} // namespace dynjobs::sink
