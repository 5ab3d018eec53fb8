// `dynjobs sim`: the API simulator as a standalone server, for other clients and benchmarks.
#pragma once

#include "cli/sim_options.hpp"

namespace dynjobs::cli {

/// Starts the simulator, prints its URLs and the credentials it accepts on stdout, and serves
/// until SIGINT or SIGTERM. With options.write_pages, writes the static pages instead, prints
/// how to start nginx on them and the matching `dynjobs backfill` arguments, and returns.
/// Returns the exit status (1 when it cannot start or write).
int run_sim(const sim_options& options);

} // namespace dynjobs::cli
