// PostgreSQL as a backfill's destination: each completed segment's jobs and its row in
// `segments` commit in one transaction, so the database is its own checkpoint and a crash at
// any moment leaves only whole segments (see pg_sink.cpp for the transaction granularity).
#pragma once

#include "cli/backfill_plan.hpp"
#include "sink/sink.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>

namespace dynjobs::sink {

/// Inside a catch block, after connecting to `target` and preparing its schema failed: throws
/// std::runtime_error (exit 2, run again later) for a database not available now, and
/// cli::usage_error (exit 1) for one that cannot work, each naming --output.
[[noreturn]] void rethrow_as_open_failure(const pg::target& target);

/// `plan.pg` must be set; `plan` must outlive the sink.
std::unique_ptr<job_sink> make_pg_sink(const cli::backfill_plan& plan,
                                       boost::asio::any_io_executor ex);

} // namespace dynjobs::sink
