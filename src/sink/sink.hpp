// Where a backfill's jobs go: one small interface for the JSONL/CSV file with its checkpoint
// file (file_sink) and for PostgreSQL (pg_sink), so the driver (cli/backfill.cpp) does not know
// which it writes to.
//
// The contract every sink keeps: a segment (organization x window) is recorded as done only
// once every job of it is durable in the destination, and a resumed run skips exactly the
// segments recorded done; jobs of a segment that was not recorded done are written again
// without duplicates.
#pragma once

#include <dynjobs/fetch_request.hpp>
#include <dynjobs/job_stream.hpp>
#include <dynjobs/timestamp.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dynjobs::sink {

/// Orders segments (for the sinks' maps and sets).
struct segment_less {
    bool operator()(const policy::segment_key& a, const policy::segment_key& b) const noexcept {
        return a.org_slot != b.org_slot ? a.org_slot < b.org_slot : a.window < b.window;
    }
};

/// What the destination holds of an earlier run of the same selection.
struct resume_point {
    /// Continue that run: fetch [start, finish) (its range, fixed at its start) minus `done`.
    bool resuming = false;
    /// That run finished and a resume was asked for: nothing is left to do.
    bool complete = false;
    timestamp start{};
    timestamp finish{};
    std::vector<policy::segment_key> done;
    std::uint64_t jobs_before = 0; ///< jobs the earlier runs wrote
};

/// Counts for the progress line and the summary.
struct sink_totals {
    std::uint64_t jobs_written = 0;      ///< by this run: durable, or made so by finish()
    std::uint64_t jobs_before = 0;       ///< by earlier runs of the selection
    std::uint64_t resume_duplicates = 0; ///< jobs an earlier run had written, dropped
    std::size_t segments_done = 0;       ///< including earlier runs'; as jobs_written
    std::size_t segments_before = 0;
};

class job_sink {
public:
    virtual ~job_sink() = default;

    /// Before any API request: checks that the destination can be written and reads what an
    /// earlier run left. Throws cli::usage_error, naming the option and the problem, for a
    /// destination that cannot work; writes nothing the caller could not undo.
    virtual boost::asio::awaitable<resume_point> open() = 0;
    /// Once the request is validated, before the first batch: prepares the destination for
    /// `segments_total` segments (creates or cuts the output, records the run).
    virtual boost::asio::awaitable<void> start(std::size_t segments_total) = 0;
    /// One batch of one segment; batch.segment_complete ends that segment. Throws on a write
    /// that fails for good (the run then stops, with everything recorded still true).
    virtual boost::asio::awaitable<void> write(job_batch batch) = 0;
    /// Makes everything written durable and records it; `complete`: every segment is done.
    virtual boost::asio::awaitable<void> finish(bool complete) = 0;

    virtual sink_totals totals() const = 0;
    /// The output as the summary names it: a path, "<stdout>", or a URI without its password.
    virtual std::string output_name() const = 0;
    /// Where progress is recorded (a checkpoint file, a table); empty when nowhere (stdout).
    virtual std::string progress_name() const = 0;
};

} // namespace dynjobs::sink
