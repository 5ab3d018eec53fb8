// The JSONL or CSV output file with its checkpoint file (see cli/checkpoint.hpp and
// cli/output_file.hpp for the crash-safety rules), or standard output.
#pragma once

#include "cli/backfill_plan.hpp"
#include "sink/sink.hpp"

#include <memory>

namespace dynjobs::sink {

/// `plan` must outlive the sink.
std::unique_ptr<job_sink> make_file_sink(const cli::backfill_plan& plan);

} // namespace dynjobs::sink
