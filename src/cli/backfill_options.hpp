// `dynjobs backfill` options: what the command line says, checked for shape, nothing resolved.
//
// parse_backfill_options() is pure (no files, no environment, no clock), so every syntax rule is
// unit-tested and fuzzed alone. resolve_backfill() (backfill_plan.hpp) then reads files and the
// environment and fixes the time range.
#pragma once

#include "cli/job_format.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dynjobs::cli {

/// A shard: index `index` of `count`.
struct shard_spec {
    std::size_t index = 0;
    std::size_t count = 1;
    friend bool operator==(const shard_spec&, const shard_spec&) = default;
};

/// "I/N" (0 <= I < N <= 10000) or "auto/N", auto taking I from `completion_index` (the text of
/// JOB_COMPLETION_INDEX; when nullopt, only the shape of "auto/N" is checked and the index is
/// 0). nullopt when malformed.
std::optional<shard_spec> parse_shard(std::string_view text,
                                      std::optional<std::string_view> completion_index);

struct backfill_options {
    // What to fetch.
    std::string type = "all";             ///< --type: name or number; all = every type
    std::optional<std::string> status;    ///< --status: name or number; none = every status
    std::optional<std::string> since;     ///< --since: required, except against the embedded sim
    std::optional<std::string> until;     ///< --until: none = now, fixed at the first run's start
    std::vector<std::string> orgs;        ///< --org (repeatable): GUIDs; none = every organization
    std::optional<std::string> orgs_file; ///< --orgs-file: one GUID per line
    /// --window: each organization's range is fetched in windows of this span. 30 days keeps the
    /// per-window dedupe memory small and makes resume lose little work; "none" = one window.
    std::string window = "30d";
    std::int64_t page_size = 100; ///< --page-size: jobs per request (API default 10; max unknown)
    /// --time-filter: what the server's startTime/finishTime select (start, finish, overlap,
    /// ignored). The API does not document it, so "auto" infers it from the jobs returned.
    std::string time_filter = "auto";

    // How hard to push.
    std::size_t concurrency = 16; ///< --concurrency: requests in flight at most
    double max_rate = 0;          ///< --max-rate: requests per second at most; 0 = no ceiling
    /// --no-adaptive-rate turns it off. A backfill runs long against an API whose limits are not
    /// documented: learning the rate the server accepts from its 429s beats paying a
    /// Retry-After pause for most of them (against a 200/s limit: 0.65 R instead of 0.07 R).
    /// Off is for a gateway that answers 429 at random, which walks the learnt rate down.
    bool adaptive_rate = true;
    bool retry_after_host_wide = false; ///< --retry-after-host-wide

    // Where and who.
    std::optional<std::string> region;    ///< --region: a data centre name (us, we, au, ...)
    std::optional<std::string> base_url;  ///< --base-url: API origin instead of a region
    std::optional<std::string> token_url; ///< required with a base URL of no known region
    /// --scope: the OAuth scope asked for. The endpoint's own, requested alone (a documented
    /// server bug failed requests combining it with others).
    std::string scope = "dynamics.readwrite.all";
    /// --no-compression turns it off: compressed pages are ~7x smaller on the wire.
    bool compression = true;
    std::optional<std::string> client_id;
    std::optional<std::string> client_secret_file; ///< the secret, first line of this file
    std::optional<std::string> certificate;        ///< PEM or PFX; password in the environment
    std::optional<std::string> ca_file;            ///< trust these CAs instead of the system's
    std::optional<std::string> extra_ca_file;      ///< trust these CAs besides the system's
    bool allow_insecure_http = false; ///< --allow-insecure-http: http:// to a non-loopback host
    /// --proxy: http://[user@]host[:port] for every host, loopback included, but --no-proxy's;
    /// its password in DYNJOBS_PROXY_PASSWORD. None: HTTPS_PROXY / NO_PROXY, never loopback.
    std::optional<std::string> proxy;
    std::optional<std::string> no_proxy; ///< --no-proxy: hosts reached directly (NO_PROXY form)

    // Output.
    std::optional<std::string> output; ///< --output: none = jobs.jsonl / jobs.csv; "-" = stdout
    output_format format = output_format::jsonl;
    std::optional<std::string> checkpoint; ///< --checkpoint: none = <output>.checkpoint
    bool resume = false;
    /// --checkpoint-interval: seconds between checkpoints. Each costs an fsync of the output and
    /// of the checkpoint; a crash loses at most this much work.
    double checkpoint_interval = 1.0;
    std::optional<std::string> stats_json;
    // PostgreSQL (--output postgresql://...).
    std::optional<std::string> pg_schema;        ///< --pg-schema: none = dynjobs
    std::optional<std::string> pg_password_file; ///< --pg-password-file: the first line
    std::optional<double> pg_retry_for;          ///< --pg-retry-for: seconds; none = 60
    /// --shard I/N or auto/N: this process fetches only every N-th segment, starting at the I-th
    /// (0-based; auto: JOB_COMPLETION_INDEX, a Kubernetes Indexed Job's). For file outputs.
    std::optional<std::string> shard;
    /// --worker: one of many processes sharing the selection's segments through the database's
    /// work table (sink/pg/work_queue.hpp).
    bool worker = false;
    /// --lease: seconds a claimed segment stays this worker's without a renewal (renewed every
    /// third of it). Long enough to ride out a stalled database connection; short enough that a
    /// dead worker's segments are taken over soon. none = 60.
    std::optional<double> lease;
    /// --split-above: a claimed segment whose first page reports more jobs than this is split
    /// into shorter windows (a worker holds a segment's jobs until it commits them, and a big
    /// segment keeps the other workers idle at the end). none = 20,000.
    std::optional<std::int64_t> split_above;
    /// --tenants: a JSON file of tenants (tenants_file.hpp), each fetched with its own client;
    /// for --worker. Replaces the connection options and --org.
    std::optional<std::string> tenants;
    bool verbose = false;
    bool quiet = false;
    bool help = false;
};

/// Parses the arguments after `backfill`. Throws usage_error naming the option and the value
/// for an unknown option, a missing value, or a value of the wrong shape (a type or status
/// name, a GUID, a date or span, a number out of range, a format).
backfill_options parse_backfill_options(std::span<const std::string_view> args);

class arg_reader;
/// One option of `reader` (its current one) into `out`, checked as parse_backfill_options does;
/// false when it is not a backfill option. `dynjobs sync` takes the backfill's options this way
/// besides its own.
bool parse_backfill_option(arg_reader& reader, backfill_options& out);

/// `dynjobs backfill --help`.
extern const std::string_view backfill_usage;

} // namespace dynjobs::cli
