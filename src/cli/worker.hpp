// `dynjobs backfill --output postgresql://... --worker`: one of any number of identical
// processes that share a selection's segments through SCHEMA.work (sink/pg/work_queue.hpp).
#pragma once

#include "cli/backfill_plan.hpp"

namespace dynjobs::cli {

/// Runs this worker until no segment is left to claim; `plan.pg` and `plan.worker` are set.
/// Exit status: 0 every segment of the run is done (by any worker); 2 segments failed out, or
/// the database stayed away; 3 authentication failed; 130 interrupted (its leases given back).
int run_worker(backfill_plan plan);

} // namespace dynjobs::cli
