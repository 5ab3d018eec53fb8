// On resume: which jobs of unfinished windows an earlier run already wrote.
//
// Those windows are fetched again from their first page; the jobs found here are then dropped
// instead of written twice. Only the part of the output after the checkpoint's scanFrom is read,
// so the cost is the unfinished windows' jobs, not the whole output.
#pragma once

#include "cli/job_format.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace dynjobs::cli {

/// Adds the jobId of every complete line (record) of `text` to `ids`. `text` starts at a record
/// boundary; a CSV header row is skipped. Returns false with `error` describing the first line
/// that is not a job of this format.
bool collect_job_ids(output_format format, std::string_view text,
                     std::unordered_set<std::string>& ids, std::string& error);

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
