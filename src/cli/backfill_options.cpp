#include "cli/backfill_options.hpp"

#include "cli/arg_reader.hpp"
#include "cli/time_spec.hpp"
#include "net/proxy.hpp"
#include "sink/pg/identifier.hpp"

#include <dynjobs/job_status.hpp>
#include <dynjobs/job_type.hpp>
#include <dynjobs/jobs_query.hpp>
#include <dynjobs/organization_id.hpp>
#include <dynjobs/time_filter.hpp>

#include <charconv>

namespace dynjobs::cli {

const std::string_view backfill_usage = R"(usage: dynjobs backfill [options]

Fetches every job of the selection into one file, exactly once, resumable after a crash.
With no --region, --base-url or credentials, it backfills from an embedded simulator.

Selection:
  --type NAME|N          all, backup, restore, dry_run, retention, audit_backup, export, or a
                         number (default all)                        e.g. --type backup
  --status NAME|N        in_progress, finished, failed, finished_with_exception, or a number
                         (default: every status)                     e.g. --status failed
  --since TIME           start of the range: ISO 8601 UTC, a date, or a span back from now
                         (required; against the embedded simulator, default: the start of its
                         data)                                       e.g. --since 2024-01-01
  --until TIME           end of the range, same forms (default: now, fixed when the backfill
                         first starts)                               e.g. --until 2025-06-30T12:00:00Z
  --org GUID             an organization, repeatable (default: every organization the app may
                         see)                         e.g. --org 3f2504e0-4f89-41d3-9a0c-0305e82c3301
  --orgs-file FILE       organizations, one GUID per line, # comments and blank lines skipped
                         (default: none)                             e.g. --orgs-file orgs.txt
  --window SPAN          fetch each organization's range in windows of SPAN (s, m, h, d, w), or
                         none for one window (default 30d)           e.g. --window 7d
  --page-size N          jobs per request, 1 to 10000 (default 100)  e.g. --page-size 500
  --time-filter WHAT     what the API's startTime/finishTime select: start, finish, overlap,
                         ignored, or auto to infer it from the jobs returned (default auto); a
                         stated one that the jobs contradict is a warning, and the backfill
                         follows the jobs                             e.g. --time-filter start

Speed:
  --concurrency N        requests in flight at most, 1 to 1024 (default 16)  e.g. --concurrency 32
  --max-rate R           requests per second at most (default 0: no ceiling; 429s slow it down
                         anyway); with --worker, for all the workers of the selection together,
                         shared equally by those fetching         e.g. --max-rate 50
  --no-adaptive-rate     do not learn the server's rate limit from its 429s; only pause as each
                         Retry-After says (default: learn it; turn off for a gateway that
                         answers 429 at random rather than by rate)
  --retry-after-host-wide
                         a 429's Retry-After holds every request to the API until it passes
                         (default: only the request it answered, the learnt rate pacing the
                         rest, unless the server refuses everything; --no-adaptive-rate
                         implies this)

Connection (a real endpoint; secrets never on the command line):
  --region NAME          data centre: us, ca, uk, ne, we, fr, de, ch, au, sg, jp, kr, uae, za,
                         qa, gov, aos2, fedramp (default: none)      e.g. --region us
  --base-url URL         API origin instead of a region (default: none)
                                               e.g. --base-url https://graph-us.avepointonlineservices.com
  --token-url URL        token endpoint (default: the region's identity service; required
                         with a --base-url that is no region's host nor loopback)
                                               e.g. --token-url https://identity.avepointonlineservices.com/connect/token
  --client-id ID         the app's client id (default: none)         e.g. --client-id 8d1c...
  --scope SCOPE          the OAuth scope asked for (default dynamics.readwrite.all)
                                                                     e.g. --scope dynamics.readwrite.all
  --client-secret-file F the client secret is the first line of F (default: the environment
                         variable DYNJOBS_CLIENT_SECRET)             e.g. --client-secret-file ~/.dynjobs-secret
  --certificate FILE     authenticate with a certificate (PEM or PFX) instead of a secret; its
                         password in DYNJOBS_CERT_PASSWORD (default: none)  e.g. --certificate app.pfx
  --ca-file FILE         trust only the CAs in FILE: replaces the system's trust store
                         (default: the system's store)               e.g. --ca-file corp-ca.pem
  --extra-ca-file FILE   trust the CAs in FILE as well: added to the system's store (or to
                         --ca-file's), for a TLS-inspecting proxy (default: none)
                                                                     e.g. --extra-ca-file proxy-ca.pem
  --allow-insecure-http  allow http:// to a host that is not loopback: sends the token in clear
                         (default: refused)
  --no-compression       do not ask for gzip/deflate pages (default: ask, and inflate them as
                         they stream in; a page shrinks about 7 times on the wire)
  --proxy URL            reach every host, loopback included, through this HTTP proxy (a
                         CONNECT tunnel: TLS stays end to end): http://[USER@]HOST[:PORT], the
                         password in DYNJOBS_PROXY_PASSWORD, never on the command line
                         (default: HTTPS_PROXY or https_proxy, for hosts that are neither
                         loopback nor in NO_PROXY)                   e.g. --proxy http://proxy.corp:3128
  --no-proxy LIST        hosts reached directly, comma-separated: example.com (and its
                         subdomains), .example.com (subdomains only), IP addresses, CIDR ranges,
                         any with :PORT, or * for all (default: NO_PROXY or no_proxy)
                                                                     e.g. --no-proxy .corp.example,10.0.0.0/8

Output:
  --output PATH|URI      the output file, - for stdout, or a PostgreSQL database as a libpq URI
                         postgresql://USER@HOST[:PORT]/DB[?...] (default jobs.jsonl, or jobs.csv)
                                                                     e.g. --output /data/jobs.jsonl
  --format jsonl|csv     one JSON object per line with the API's fields, or RFC 4180 CSV with a
                         header row (default jsonl)                  e.g. --format csv
  --checkpoint PATH      the checkpoint file (default <output>.checkpoint)
                                                                     e.g. --checkpoint /var/lib/dynjobs/run.ckpt
  --resume               finish the backfill recorded in the checkpoint; the selection must be
                         the first run's (default: start afresh)
  --checkpoint-interval S  seconds between checkpoints (default 1)   e.g. --checkpoint-interval 10
  --stats-json PATH      also write the summary as JSON (default: none)  e.g. --stats-json stats.json

PostgreSQL (--output postgresql://...: jobs upserted into SCHEMA.jobs, progress in
SCHEMA.segments committed with them; a rerun continues an unfinished backfill by itself):
  --pg-schema NAME       the schema, created and migrated as needed (default dynjobs)
                                                                     e.g. --pg-schema reporting
  --pg-password-file F   the password is the first line of F (default: PGPASSWORD or
                         ~/.pgpass; never in the URI)                e.g. --pg-password-file ~/.pg-secret
  --pg-retry-for S       keep reconnecting to a database that went away for S seconds, then
                         stop with status 2 (default 60)             e.g. --pg-retry-for 300
  --shard I/N            fetch only this shard's segments: every N-th (organization x window),
                         starting at the I-th (0-based); auto/N takes I from
                         JOB_COMPLETION_INDEX (a Kubernetes Indexed Job). {shard} in --output,
                         --checkpoint and --stats-json becomes I. File outputs only (default: all)
                                                                     e.g. --shard auto/8 --output /data/jobs-{shard}.jsonl
  --worker               share the run with every process started with the same selection and
                         database, on any machine: the first plans the segments into
                         SCHEMA.work, each claims the next one with a lease (FOR UPDATE SKIP
                         LOCKED); a dead worker's segments are taken over when its lease ends;
                         all exit 0 once every segment is done (default: off)
  --lease S              with --worker: seconds a claimed segment stays this worker's without a
                         renewal; renewed every S/3 (default 60)      e.g. --lease 30
  --split-above N        with --worker: a segment whose first page says it holds more than N
                         jobs is split into shorter windows that any worker may claim, so that
                         one big organization does not leave the other workers idle, and a
                         worker holds at most about N jobs (default 20000)  e.g. --split-above 5000
  --tenants FILE         with --worker: many tenants in one run, each with its own app
                         registration, endpoint, organizations and --max-rate (JSON; README
                         "Many tenants"); each worker keeps a client per tenant. A tenant whose
                         credentials are refused fails alone: the others finish, exit 2 names it.
                         Replaces the connection options and --org (default: one tenant, the
                         command line's)                             e.g. --tenants tenants.json
  --verbose              when stderr is not a terminal, a progress line every 5 s; log retries
                         and failed requests (default: off)
  --quiet                print nothing but errors (default: off)
  --help                 this text

Exit status: 0 every job fetched; 1 bad usage or configuration (nothing sent); 2 finished with
failures (listed); 3 authentication failed; 130 interrupted (Ctrl-C; finish with --resume).
)";

namespace {

void check_time(std::string_view option, std::string_view text) {
    if (!parse_time_point(text, timestamp{}))
        bad_value(option, text,
                  "an ISO 8601 UTC time (2024-01-01T08:00:00Z), a date (2024-01-01) or a span "
                  "back from now (90d, 12h, 2w)");
}

void check_proxy(const std::string& url) {
    net::proxy_url parsed;
    std::string reason;
    if (net::parse_proxy_url(url, parsed, reason))
        throw usage_error{"invalid value '" + net::without_userinfo(url) +
                          "' for --proxy: " + reason};
    if (parsed.password)
        throw usage_error{"--proxy: a password in the URL is not accepted: it leaks into shell "
                          "history and the process list; give the user alone "
                          "(http://USER@host:port) and the password in DYNJOBS_PROXY_PASSWORD"};
}

} // namespace

bool parse_backfill_option(arg_reader& reader, backfill_options& out) {
    const std::string_view opt = reader.option();
    const auto text = [&] { return std::string(reader.value()); };
    if (opt == "--help" || opt == "-h") {
        reader.no_value();
        out.help = true;
    } else if (opt == "--type") {
        out.type = text();
        if (!parse_job_type(out.type))
            bad_value(opt, out.type,
                      "all, backup, restore, dry_run, retention, audit_backup, export or a "
                      "number");
    } else if (opt == "--status") {
        out.status = text();
        if (!parse_job_status(*out.status))
            bad_value(opt, *out.status,
                      "in_progress, finished, failed, finished_with_exception or a number");
    } else if (opt == "--since") {
        out.since = text();
        check_time(opt, *out.since);
    } else if (opt == "--until") {
        out.until = text();
        check_time(opt, *out.until);
    } else if (opt == "--org") {
        out.orgs.push_back(text());
        if (!organization_id::parse(out.orgs.back()))
            bad_value(opt, out.orgs.back(), "a GUID like 3f2504e0-4f89-41d3-9a0c-0305e82c3301");
    } else if (opt == "--orgs-file") {
        out.orgs_file = text();
    } else if (opt == "--window") {
        out.window = text();
        if (out.window != "none" && !parse_span(out.window))
            bad_value(opt, out.window, "a span like 30d, 12h or 2w, or none");
    } else if (opt == "--time-filter") {
        out.time_filter = text();
        if (!parse_time_filter(out.time_filter))
            bad_value(opt, out.time_filter, "start, finish, overlap, ignored or auto");
    } else if (opt == "--page-size") {
        out.page_size =
            parse_number<std::int64_t>(opt, reader.value(), 1, jobs_query::max_page_size);
    } else if (opt == "--concurrency") {
        out.concurrency = parse_number<std::size_t>(opt, reader.value(), 1, 1024);
    } else if (opt == "--max-rate") {
        out.max_rate = parse_real(opt, reader.value(), 0, 1e6);
    } else if (opt == "--no-adaptive-rate") {
        reader.no_value();
        out.adaptive_rate = false;
    } else if (opt == "--retry-after-host-wide") {
        reader.no_value();
        out.retry_after_host_wide = true;
    } else if (opt == "--region") {
        out.region = text();
    } else if (opt == "--base-url") {
        out.base_url = text();
    } else if (opt == "--token-url") {
        out.token_url = text();
    } else if (opt == "--client-id") {
        out.client_id = text();
        if (out.client_id->empty())
            bad_value(opt, "", "a client id");
    } else if (opt == "--scope") {
        out.scope = text();
        if (out.scope.empty() || out.scope.find_first_of(" \t\r\n") != std::string::npos)
            bad_value(opt, out.scope, "one scope such as dynamics.readwrite.all");
    } else if (opt == "--no-compression") {
        reader.no_value();
        out.compression = false;
    } else if (opt == "--client-secret") {
        throw usage_error{"--client-secret is not accepted: a secret on the command line "
                          "leaks into shell history and the process list; set "
                          "DYNJOBS_CLIENT_SECRET or use --client-secret-file"};
    } else if (opt == "--client-secret-file") {
        out.client_secret_file = text();
    } else if (opt == "--certificate") {
        out.certificate = text();
    } else if (opt == "--ca-file") {
        out.ca_file = text();
    } else if (opt == "--extra-ca-file") {
        out.extra_ca_file = text();
    } else if (opt == "--proxy") {
        out.proxy = text();
        check_proxy(*out.proxy);
    } else if (opt == "--no-proxy") {
        out.no_proxy = text();
        net::no_proxy_list list;
        std::string reason;
        if (net::no_proxy_list::parse(*out.no_proxy, true, list, reason))
            throw usage_error{"invalid value '" + *out.no_proxy + "' for --no-proxy: " + reason};
    } else if (opt == "--allow-insecure-http") {
        reader.no_value();
        out.allow_insecure_http = true;
    } else if (opt == "--output" || opt == "-o") {
        out.output = text();
        if (out.output->empty())
            bad_value(opt, "", "a file path, or - for stdout");
    } else if (opt == "--format") {
        const auto v = reader.value();
        const auto f = parse_output_format(v);
        if (!f)
            bad_value(opt, v, "jsonl or csv");
        out.format = *f;
    } else if (opt == "--checkpoint") {
        out.checkpoint = text();
    } else if (opt == "--resume") {
        reader.no_value();
        out.resume = true;
    } else if (opt == "--checkpoint-interval") {
        out.checkpoint_interval = parse_real(opt, reader.value(), 0, 3600);
    } else if (opt == "--stats-json") {
        out.stats_json = text();
    } else if (opt == "--pg-schema") {
        out.pg_schema = text();
        if (!sink::pg::is_plain_identifier(*out.pg_schema))
            bad_value(opt, *out.pg_schema,
                      "a schema name of lower-case letters, digits and _ (at most 63)");
    } else if (opt == "--pg-password-file") {
        out.pg_password_file = text();
    } else if (opt == "--pg-retry-for") {
        out.pg_retry_for = parse_real(opt, reader.value(), 0, 86'400);
    } else if (opt == "--shard") {
        const auto v = reader.value();
        if (!parse_shard(v, std::nullopt))
            bad_value(opt, v,
                      "I/N with 0 <= I < N <= 10000, or auto/N (the index from "
                      "JOB_COMPLETION_INDEX)");
        out.shard = std::string(v);
    } else if (opt == "--worker") {
        reader.no_value();
        out.worker = true;
    } else if (opt == "--lease") {
        out.lease = parse_real(opt, reader.value(), 1, 86'400);
    } else if (opt == "--tenants") {
        out.tenants = text();
    } else if (opt == "--split-above") {
        out.split_above = parse_number<std::int64_t>(opt, reader.value(), 100, 100'000'000);
    } else if (opt == "--verbose" || opt == "-v") {
        reader.no_value();
        out.verbose = true;
    } else if (opt == "--quiet" || opt == "-q") {
        reader.no_value();
        out.quiet = true;
    } else {
        return false;
    }
    return true;
}

std::optional<shard_spec> parse_shard(std::string_view text,
                                      std::optional<std::string_view> completion_index) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos)
        return std::nullopt;
    const auto number = [](std::string_view digits) -> std::optional<std::size_t> {
        std::size_t v = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size())
            return std::nullopt;
        return v;
    };
    const auto count = number(text.substr(slash + 1));
    if (!count || *count < 1 || *count > 10'000)
        return std::nullopt;
    const auto first = text.substr(0, slash);
    std::optional<std::size_t> index;
    if (first == "auto")
        index = completion_index ? number(*completion_index) : std::optional<std::size_t>(0);
    else
        index = number(first);
    if (!index || *index >= *count)
        return std::nullopt;
    return shard_spec{*index, *count};
}

backfill_options parse_backfill_options(std::span<const std::string_view> args) {
    backfill_options out;
    arg_reader reader(args);
    while (reader.next())
        if (!parse_backfill_option(reader, out))
            reader.unknown();
    if (out.verbose && out.quiet)
        throw usage_error{"--verbose and --quiet contradict each other; give one"};
    return out;
}

} // namespace dynjobs::cli
