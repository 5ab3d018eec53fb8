// On resume: which jobs of unfinished windows an earlier run already wrote.
//
// Those windows are fetched again from their first page; the jobs found here are then dropped
// instead of written twice. Only the part of the output after the checkpoint's scanFrom is read,
// so the cost is the unfinished windows' jobs, not the whole output.
#pragma once

#include "cli/job_format.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace dynjobs::cli {

/// Finds the jobId of every record of an output, fed in chunks of any size: an output may hold
/// gigabytes after its scan offset (one window of millions of jobs), so it is read a piece at a
/// time and only a partial last record is carried from one chunk to the next.
class job_id_scan {
public:
    /// `on_id` is called with each jobId, in file order. A CSV header row is skipped.
    job_id_scan(output_format format, std::function<void(std::string_view)> on_id);
    /// Scans the records `chunk` completes. False with `error` describing the first line (or
    /// record) that is not a job of this format, counted from the first chunk.
    bool feed(std::string_view chunk, std::string& error);
    /// The end of the text: false when it ends inside a record.
    bool finish(std::string& error);

private:
    output_format format_;
    std::function<void(std::string_view)> on_id_;
    std::string pending_;          ///< a partial last record, then the chunk after it
    std::size_t records_seen_ = 0; ///< lines (JSONL) or records (CSV) before pending_
};

/// `dynjobs sync`'s change detection for JSONL: a 64-bit hash of a job's line as the writer
/// writes it (without the line end). Only ever compared within one process (the map is rebuilt
/// from the file at each start), so std::hash's value may differ between builds.
std::uint64_t line_fingerprint(std::string_view line) noexcept;

/// For every line of a JSONL `text` (starting at a line start, every line ended): jobId ->
/// line_fingerprint of its line, a later line of a job replacing an earlier one (the file's last
/// line per job is the job as it is now). False with `error` naming the first line that is not
/// a job.
bool collect_job_fingerprints(std::string_view text,
                              std::unordered_map<std::string, std::uint64_t>& fingerprints,
                              std::string& error);

} // namespace dynjobs::cli
