// On resume: which jobs of unfinished windows an earlier run already wrote.
//
// Those windows are fetched again from their first page; the jobs found here are then dropped
// instead of written twice. Only the part of the output after the checkpoint's scanFrom is read,
// so the cost is the unfinished windows' jobs, not the whole output.
#pragma once

#include "cli/job_format.hpp"

#include <string>
#include <string_view>
#include <unordered_set>

namespace dynjobs::cli {

/// Adds the jobId of every complete line (record) of `text` to `ids`. `text` starts at a record
/// boundary; a CSV header row is skipped. Returns false with `error` describing the first line
/// that is not a job of this format.
bool collect_job_ids(output_format format, std::string_view text,
                     std::unordered_set<std::string>& ids, std::string& error);

} // namespace dynjobs::cli
