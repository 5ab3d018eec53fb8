// `dynjobs sim` options: what the command line says, checked for shape. Pure (no sockets,
// no files), so it is unit-tested and fuzzed alone; sim_command.hpp runs the server.
#pragma once

#include "sim/static_pages.hpp"

#include <dynjobs/sim/sim_config.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dynjobs::cli {

struct sim_options {
    sim::sim_config config;
    int threads = 2; ///< threads serving requests
    bool help = false;
    /// --write-pages DIR: write the dataset as static pages for nginx (its `endpoint` is
    /// `config.jobs`) and exit instead of serving. nullopt: serve.
    std::optional<sim::static_pages_config> write_pages;
    /// --print-orgs: print the dataset's organizations (GUID and name, one a line) and exit, for
    /// --org and --orgs-file of a client pointed at this simulator.
    bool print_organizations = false;
    /// --client-id and --client-secret-file: one app registration instead of the default
    /// dynjobs-sim-client / dynjobs-sim-secret, so that two simulators play two tenants with
    /// different credentials. The file is read when the server starts (parsing stays pure).
    std::optional<std::string> client_id;
    std::optional<std::string> client_secret_file;
};

/// Parses the arguments after `sim`. Throws usage_error naming the option and the value.
sim_options parse_sim_options(std::span<const std::string_view> args);

/// `dynjobs sim --help`: every option with its default and an example, and the fault kinds.
std::string sim_help();

} // namespace dynjobs::cli
