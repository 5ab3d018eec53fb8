// Shared pieces of the end-to-end tests: a scratch folder, `dynjobs sim` as a process, the
// dataset it serves (rebuilt in-process from the same seed), and outputs read back into jobs.
#pragma once

#include "process.hpp"

#include <dynjobs/job.hpp>
#include <dynjobs/sim/dataset.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dynjobs::e2e {

/// A fresh folder under the temp dir, removed at the end.
class scratch_dir {
public:
    scratch_dir();
    ~scratch_dir();
    const std::filesystem::path& path() const noexcept { return path_; }
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

struct sim_options {
    std::size_t organizations = 5;
    std::size_t jobs = 5'000;
    std::uint64_t seed = 7;
    std::vector<std::string> extra; ///< more `dynjobs sim` options (latency, faults, ...)
    /// Its stdout and stderr files in the scratch folder: NAME.stdout, NAME.stderr. (A second
    /// simulator in one folder must serve the first one's --cert and --key: each start writes
    /// new certificates into the folder's sim-certs.)
    std::string name = "sim";
};

/// `dynjobs sim` running in its own process until the object ends (SIGTERM).
class sim_process {
public:
    sim_process(const scratch_dir& dir, sim_options options = {});
    ~sim_process();

    const std::string& base_url() const noexcept { return base_url_; }
    const std::string& ca_file() const noexcept { return ca_file_; }
    const sim_options& options() const noexcept { return options_; }

    /// The jobs the simulator holds whose startTime is in [start, finish).
    std::vector<job> expected(timestamp start, timestamp finish) const;

    /// Options that point `dynjobs backfill` at this simulator.
    std::vector<std::string> connection() const;
    /// The environment that carries its client secret.
    static std::map<std::string, std::string> secret_env();

private:
    sim_options options_;
    std::unique_ptr<child> process_;
    std::string base_url_;
    std::string ca_file_;
};

/// Reads a JSONL or CSV output back into jobs (decoded by the library's page decoder, which is
/// independent of the writer).
std::vector<job> read_jsonl(const std::filesystem::path& path);
std::vector<job> read_csv(const std::filesystem::path& path);

/// Every expected job exactly once, equal field by field, and nothing else.
void require_exactly(const std::vector<job>& written, const std::vector<job>& expected);

/// `args` followed by the options that point a backfill at `sim` over its whole range.
std::vector<std::string> against(const sim_process& sim, std::vector<std::string> args);

/// The range the tests backfill: the simulator's two years of data.
timestamp range_start();
timestamp range_finish();
std::vector<std::string> range_options();

} // namespace dynjobs::e2e
