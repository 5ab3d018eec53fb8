// `dynjobs sync`: the long-running command that keeps an output up to date, cycle by cycle.
#pragma once

#include "cli/sync_options.hpp"

namespace dynjobs::cli {

/// Runs cycles every plan.schedule.every (or one, with --once) until SIGTERM or SIGINT, serving
/// /metrics, /healthz and /readyz when --listen is given, and logging one line per cycle and per
/// error on stderr. A failed cycle is logged and counted, and the next one tries again.
///
/// The first signal cancels the fetch, drops the jobs the cycle had not committed (the open
/// transaction finishes; the high-water mark stays, so the next start fetches that range
/// again) and returns 0; if that has not happened within 9 s (a database that does not answer)
/// the process exits 0 at once, and the server rolls the transaction back as the connection
/// drops. A second signal exits at once (130).
///
/// Returns 0, or with --once 2 (the cycle failed) or 3 (authentication failed). Throws
/// usage_error for bad input found before the first request (exit status 1).
int run_sync(sync_plan plan);

} // namespace dynjobs::cli
