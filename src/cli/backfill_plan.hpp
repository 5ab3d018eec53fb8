// What one `dynjobs backfill` run will do, resolved from its options, the environment and the
// clock: the endpoint and credentials, the fetch request, the files. Everything that can be
// checked without sending a request is checked here.
#pragma once

#include "cli/backfill_options.hpp"
#include "cli/checkpoint.hpp"
#include "cli/job_format.hpp"
#include "sink/pg/target.hpp"

#include <dynjobs/client_config.hpp>
#include <dynjobs/fetch_request.hpp>
#include <dynjobs/timestamp.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace dynjobs::cli {

enum class verbosity {
    quiet,
    normal,
    verbose,
};

/// One tenant of --tenants, resolved: its own client configuration (credentials read) and
/// organizations.
struct tenant_plan {
    std::string name;
    client_config config;
    std::vector<organization_id> organizations; ///< empty: every organization its app sees
};

struct backfill_plan {
    /// No endpoint and no credentials were given: the run starts the simulator in process, and
    /// `config`'s URLs and CA are filled in once it listens.
    bool embedded = false;
    client_config config;
    fetch_request request;
    selection chosen; ///< what a resume must repeat
    bool to_stdout = false;
    std::filesystem::path output;
    output_format format = output_format::jsonl;
    std::filesystem::path checkpoint_path; ///< empty when writing to stdout or PostgreSQL
    std::optional<sink::pg::target> pg;    ///< --output postgresql://...: the database instead
    bool resume = false;
    /// --shard: this process's share (segments_of_other_shards() are not fetched).
    std::optional<shard_spec> shard;
    bool worker = false;                     ///< --worker: segments claimed from SCHEMA.work
    std::chrono::milliseconds lease{60'000}; ///< --lease
    std::int64_t split_above = 20'000;       ///< --split-above
    /// --tenants: one client each, `config` and `request.organizations` then unused for
    /// connecting; empty without --tenants (one tenant: the command line's).
    std::vector<tenant_plan> tenants;
    std::chrono::milliseconds checkpoint_interval{1000};
    std::optional<std::filesystem::path> stats_json;
    verbosity level = verbosity::normal;
};

/// Reads an environment variable; nullopt when unset.
using environment = std::function<std::optional<std::string>(std::string_view name)>;

/// Resolves the options against the environment (DYNJOBS_CLIENT_SECRET, DYNJOBS_CERT_PASSWORD,
/// DYNJOBS_PROXY_PASSWORD; HTTPS_PROXY and NO_PROXY are the client's to read)
/// and the clock (`now` fixes relative times and the default --until). Throws usage_error for
/// bad input, naming the option and the value: an empty range, an unreadable secret or
/// organizations file, credentials without an endpoint or an endpoint without credentials, an
/// output folder that does not exist, --resume with stdout.
backfill_plan resolve_backfill(const backfill_options& options, timestamp now,
                               const environment& env);

/// The segments of `r` that belong to the other shards: every segment whose position in
/// time-major order (window, then organization) is not `shard.index` modulo `shard.count`.
std::vector<policy::segment_key> segments_of_other_shards(const fetch_request& r,
                                                          const shard_spec& shard);

/// The first line of a secret file (BOM and trailing blanks removed). Throws usage_error naming
/// `option` when it cannot be read or the line is empty.
std::string read_secret_file(const std::string& path, std::string_view option);

/// The command-line option (or environment variable) that a library diagnostics field stands
/// for, so library errors read in the command's terms: "base_url" -> "--base-url".
std::string_view option_for_field(std::string_view field) noexcept;

} // namespace dynjobs::cli
