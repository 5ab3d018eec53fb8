// `dynjobs sim`: the API simulator as a standalone server, for other clients and benchmarks.
#pragma once

#include <dynjobs/sim/sim_config.hpp>

#include <span>
#include <string>
#include <string_view>

namespace dynjobs::cli {

struct sim_options {
    sim::sim_config config;
    int threads = 2; ///< threads serving requests
    bool help = false;
};

/// Parses the arguments after `sim`. Throws usage_error naming the option and the value.
sim_options parse_sim_options(std::span<const std::string_view> args);

/// Starts the simulator, prints its URLs and the credentials it accepts on stdout, and serves
/// until SIGINT or SIGTERM. Returns the exit status (1 when it cannot start).
int run_sim(const sim_options& options);

/// `dynjobs sim --help`: every option with its default and an example, and the fault kinds.
std::string sim_help();

} // namespace dynjobs::cli
