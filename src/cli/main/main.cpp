// dynjobs: the command. `dynjobs backfill` fetches jobs into a file, resumably; `dynjobs sync`
// keeps an output up to date as a service; `dynjobs sim` serves the API simulator.
#include "cli/arg_reader.hpp"
#include "cli/backfill.hpp"
#include "cli/backfill_options.hpp"
#include "cli/db_command.hpp"
#include "cli/sim_command.hpp"
#include "cli/sync.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view usage = R"(usage: dynjobs <command> [options]

Fetches job reports from the AvePoint Graph API (GET /dynamicsbackup/jobs, Cloud Backup for
Dynamics 365), fast and exactly once.

Commands:
  backfill    fetch every job of a selection into a JSONL or CSV file or PostgreSQL, resumable
              e.g. dynjobs backfill --region us --client-id ID --since 2024-01-01
              (with no endpoint or credentials: from the embedded simulator)
  sync        keep PostgreSQL or a JSONL file up to date, every few minutes, as a service with
              Prometheus metrics
              e.g. dynjobs sync --region us --client-id ID --since 90d --output postgresql://...
  db          create (init) or inspect (status) the PostgreSQL schema backfill writes to
              e.g. dynjobs db status --output postgresql://dynjobs@db.corp/reports
  sim         serve the API simulator for other clients and benchmarks
              e.g. dynjobs sim --port 8443 --rate-limit 200

  dynjobs <command> --help   the command's options, defaults and examples
  dynjobs --version          the version
)";

std::optional<std::string> from_environment(std::string_view name) {
    const char* value = std::getenv(std::string(name).c_str());
    if (!value)
        return std::nullopt;
    return std::string(value);
}

int backfill(std::span<const std::string_view> args) {
    using namespace dynjobs::cli;
    const auto options = parse_backfill_options(args);
    if (options.help) {
        std::cout << backfill_usage;
        return 0;
    }
    const auto now =
        std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    return run_backfill(resolve_backfill(options, now, from_environment));
}

int sync(std::span<const std::string_view> args) {
    using namespace dynjobs::cli;
    const auto options = parse_sync_options(args);
    if (options.help) {
        std::cout << sync_usage;
        return 0;
    }
    const auto now =
        std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    return run_sync(resolve_sync(options, now, from_environment));
}

int db(std::span<const std::string_view> args) {
    using namespace dynjobs::cli;
    const auto options = parse_db_options(args);
    if (options.help) {
        std::cout << db_usage;
        return 0;
    }
    return run_db(options);
}

int sim(std::span<const std::string_view> args) {
    using namespace dynjobs::cli;
    const auto options = parse_sim_options(args);
    if (options.help) {
        std::cout << sim_help();
        return 0;
    }
    return run_sim(options);
}

} // namespace

int main(int argc, char** argv) {
    // A file size limit (ulimit -f) reached: an error the output names (EFBIG), which sync
    // survives, instead of the default of dying on SIGXFSZ.
    std::signal(SIGXFSZ, SIG_IGN);
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    const std::string_view command = args.empty() ? "" : args.front();
    const std::span<const std::string_view> rest =
        args.empty() ? std::span<const std::string_view>{} : std::span(args).subspan(1);
    try {
        if (command == "backfill")
            return backfill(rest);
        if (command == "sync")
            return sync(rest);
        if (command == "sim")
            return sim(rest);
        if (command == "db")
            return db(rest);
        if (command == "--version" || command == "version") {
            std::cout << "dynjobs " DYNJOBS_VERSION "\n";
            return 0;
        }
        if (command == "--help" || command == "-h" || command == "help") {
            std::cout << usage;
            return 0;
        }
        std::cerr << "dynjobs: "
                  << (command.empty() ? "no command given"
                                      : "unknown command '" + std::string(command) + "'")
                  << "\n\n"
                  << usage;
        return 1;
    } catch (const dynjobs::cli::usage_error& e) {
        std::cerr << "dynjobs: " << e.message << '\n';
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "dynjobs: error: " << e.what() << '\n';
        return 2;
    }
}
