#include "cli/sync_options.hpp"

#include "cli/arg_reader.hpp"
#include "cli/status_server.hpp"
#include "cli/time_spec.hpp"

#include <algorithm>

namespace dynjobs::cli {

const std::string_view sync_usage = R"(usage: dynjobs sync --since TIME [options]

Keeps a PostgreSQL database (recommended) or a JSONL file up to date: every --every, fetches
the jobs that started in [max(--since, high-water mark - --lookback), now) and writes those
that are new or changed. The first cycle is a backfill from --since. The high-water mark (the
end of the last successful cycle's range) is kept in the output, so a restart continues. Runs
until SIGTERM or SIGINT: for a systemd service or a Kubernetes Deployment.

Schedule:
  --since TIME           where the first cycle starts: ISO 8601 UTC, a date, or a span back
                         from now (required; once a high-water mark is stored, it only bounds
                         the lookback)                               e.g. --since 90d
  --every SPAN           time between the starts of two cycles (s, m, h, d, w; default 5m)
                                                                     e.g. --every 15m
  --lookback SPAN        how far back of the high-water mark each cycle fetches again, so a
                         running job is fetched until it finishes (default 2d)  e.g. --lookback 7d
  --once                 run one cycle, then exit (for cron and tests; default: run until
                         SIGTERM)

Monitoring:
  --listen ADDR:PORT     serve /metrics (Prometheus text), /healthz and /readyz over HTTP on
                         this address (default: none)                e.g. --listen 127.0.0.1:9464
  --log-format text|json one line on stderr per cycle and per error (default text)
                                                                     e.g. --log-format json

Output:
  --output PATH|URI      postgresql://USER@HOST[:PORT]/DB[?...]: jobs upserted into
                         SCHEMA.jobs, the mark in SCHEMA.sync_state; or a JSONL file: a job's
                         line is appended when it is new or changed, the mark in
                         PATH.sync-state (default jobs.jsonl)      e.g. --output postgresql://dynjobs@db/reports
  --pg-schema NAME, --pg-password-file F, --pg-retry-for S
                         as for backfill; a database that stays away longer than --pg-retry-for
                         fails the cycle, and the next cycle tries again

Selection, speed and connection, as for backfill (dynjobs backfill --help):
  --type --status --org --orgs-file --window --page-size --time-filter --concurrency
  --max-rate --no-adaptive-rate --retry-after-host-wide --region --base-url --token-url
  --client-id --scope --client-secret-file --certificate --ca-file --extra-ca-file
  --allow-insecure-http --no-compression --proxy --no-proxy
  --help                 this text

A cycle that fails (API or database down, authentication refused) logs an error line, counts
in the metrics, and the next cycle tries again; /readyz answers 503 once no cycle succeeded
within two intervals.

Exit status: 0 stopped by SIGTERM or SIGINT (the open transaction finished or rolled back), or
--once succeeded; 1 bad usage or configuration (nothing sent); 2 the --once cycle failed; 3 its
authentication failed.
)";

namespace {

std::chrono::milliseconds span_of(arg_reader& reader) {
    const auto text = reader.value();
    const auto span = parse_span(text);
    if (!span)
        bad_value(reader.option(), text, "a span like 30s, 5m, 1h or 2d");
    return *span;
}

// Backfill options that mean nothing to a sync: the range is the schedule's, progress is the
// high-water mark, and the log is one line per cycle.
constexpr std::string_view not_for_sync[] = {
    "--until",
    "--resume",
    "--checkpoint",
    "--checkpoint-interval",
    "--stats-json",
    "--verbose",
    "-v",
    "--quiet",
    "-q",
    "--worker",
    "--lease",
    "--shard",
    "--split-above",
    "--tenants",
};

} // namespace

sync_options parse_sync_options(std::span<const std::string_view> args) {
    sync_options out;
    arg_reader reader(args);
    while (reader.next()) {
        const std::string_view opt = reader.option();
        if (opt == "--every") {
            out.every = span_of(reader);
        } else if (opt == "--lookback") {
            out.lookback = span_of(reader);
        } else if (opt == "--listen") {
            const auto text = reader.value();
            out.listen = parse_listen_endpoint(text);
            if (!out.listen)
                bad_value(opt, text, "an IP address and a port like 127.0.0.1:9464 or [::1]:9464");
        } else if (opt == "--log-format") {
            const auto text = reader.value();
            const auto format = parse_log_format(text);
            if (!format)
                bad_value(opt, text, "text or json");
            out.log = *format;
        } else if (opt == "--once") {
            reader.no_value();
            out.once = true;
        } else if (std::ranges::find(not_for_sync, opt) != std::end(not_for_sync)) {
            throw usage_error{std::string(opt) +
                              " does not apply to sync: its range is the schedule's and its "
                              "progress the high-water mark (dynjobs sync --help)"};
        } else if (!parse_backfill_option(reader, out.base)) {
            reader.unknown();
        }
    }
    out.help = out.base.help;
    if (out.base.format != output_format::jsonl)
        throw usage_error{"--format " + std::string(to_string(out.base.format)) +
                          " does not apply to sync: it appends JSON lines, or writes into "
                          "PostgreSQL"};
    return out;
}

sync_plan resolve_sync(const sync_options& o, timestamp now, const environment& env) {
    if (!o.base.since)
        throw usage_error{"--since is required: where the first cycle starts, e.g. --since "
                          "2024-01-01 or --since 90d"};
    if (o.base.output == "-")
        throw usage_error{"--output -: sync keeps its high-water mark beside the output; give a "
                          "file or a postgresql:// database"};
    sync_plan out;
    out.plan = resolve_backfill(o.base, now, env);
    if (out.plan.embedded)
        throw usage_error{"sync needs an API to follow: --region or --base-url, with --client-id "
                          "and a credential"};
    auto& plan = out.plan;
    // A failed page fails the cycle at once: the next cycle fetches the whole range again.
    plan.request.on_failure = failure_policy::stop;
    plan.checkpoint_path.clear();
    std::erase_if(plan.chosen, [](const auto& entry) {
        return entry.first == "--since" || entry.first == "--until" || entry.first == "--window" ||
               entry.first == "--page-size" || entry.first == "--time-filter" ||
               entry.first == "--format" || entry.first == "--output";
    });
    out.schedule.since = plan.request.start;
    out.schedule.every = o.every;
    out.schedule.lookback = o.lookback;
    out.listen = o.listen;
    out.log = o.log;
    out.once = o.once;
    return out;
}

} // namespace dynjobs::cli
