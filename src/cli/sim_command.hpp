// `dynjobs sim`: the API simulator as a standalone server, for other clients and benchmarks.
#pragma once

#include "cli/sim_options.hpp"

namespace dynjobs::cli {

/// Starts the simulator, prints its URLs and the credentials it accepts on stdout, and serves
/// until SIGINT or SIGTERM. Returns the exit status (1 when it cannot start).
int run_sim(const sim_options& options);

} // namespace dynjobs::cli
