// What a backfill tells its operator: the progress line, the final summary, and the summary as
// JSON for machines. Pure formatting of a snapshot: no I/O here.
#pragma once

#include <dynjobs/fetch_stats.hpp>
#include <dynjobs/job_stream.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace dynjobs::cli {

enum class run_outcome {
    complete,    ///< every segment fetched and written
    failed,      ///< finished, but some pages failed or the run stopped on an error
    auth_failed, ///< the identity service refused the credentials
    interrupted, ///< Ctrl-C or SIGTERM
    /// The configuration cannot work, found out only on the way: the proxy wants credentials or
    /// refuses them. Exit status 1, as for bad usage.
    misconfigured,
};

/// Exit status of the command for an outcome: 0, 2, 3, 130, 1.
int exit_status(run_outcome o) noexcept;

struct run_snapshot {
    fetch_stats stats;                   ///< this run's fetch
    std::uint64_t jobs_written = 0;      ///< by this run
    std::uint64_t jobs_before = 0;       ///< already in the output from earlier runs (resume)
    std::uint64_t resume_duplicates = 0; ///< refetched jobs that an earlier run had written
    std::size_t segments_total = 0;
    std::size_t segments_done = 0;   ///< including those done by earlier runs
    std::size_t segments_before = 0; ///< done by earlier runs
    std::chrono::milliseconds elapsed{0};
};

/// One line, no line end: "pages 120/400 | jobs 12,034 (5,321/s) | windows 10/500 | ETA 0:42 |
/// retries 3 | 429s 1".
std::string format_progress(const run_snapshot& s);

struct run_result {
    run_snapshot totals;
    run_outcome outcome = run_outcome::complete;
    std::string error; ///< why the run stopped early, when it did
    std::vector<page_failure> failures;
    std::string output;     ///< path, or "<stdout>"
    std::string checkpoint; ///< path, or empty
};

/// The multi-line summary printed on stderr at the end.
std::string format_summary(const run_result& r);

/// The same as JSON (--stats-json). Holds no secret: counts, times, paths and failure messages
/// (which carry URLs without credentials).
std::string format_summary_json(const run_result& r);

/// "1,234,567".
std::string with_separators(std::uint64_t n);

/// "12.3 s".
std::string seconds_text(std::chrono::milliseconds ms);

} // namespace dynjobs::cli
