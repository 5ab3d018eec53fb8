#include "cli/backfill_plan.hpp"

#include "cli/arg_reader.hpp"
#include "cli/tenants_file.hpp"
#include "cli/time_spec.hpp"

#include <dynjobs/job_status.hpp>
#include <dynjobs/job_type.hpp>
#include <dynjobs/region.hpp>
#include <dynjobs/sim/dataset.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <system_error>
#include <unistd.h>

namespace dynjobs::cli {
namespace {

// A file, not a folder (an ifstream opens a folder without complaint).
bool is_readable_file(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_regular_file(path, ec);
}

// Editors on Windows start UTF-8 files with one; it is not part of the first line.
void strip_byte_order_mark(std::string& line) {
    if (line.starts_with("\xEF\xBB\xBF"))
        line.erase(0, 3);
}

std::set<organization_id> organizations(const backfill_options& o) {
    std::set<organization_id> out;
    for (const auto& text : o.orgs)
        out.insert(*organization_id::parse(text)); // shape checked by the parser
    if (!o.orgs_file)
        return out;
    std::ifstream in(*o.orgs_file);
    if (!is_readable_file(*o.orgs_file) || !in)
        throw usage_error{"--orgs-file: cannot read '" + *o.orgs_file + "'"};
    std::string line;
    bool listed_any = false;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        if (number == 1)
            strip_byte_order_mark(line);
        const auto first = line.find_first_not_of(" \t\r");
        if (first == line.npos || line[first] == '#')
            continue;
        const auto last = line.find_last_not_of(" \t\r");
        const auto text = line.substr(first, last - first + 1);
        const auto id = organization_id::parse(text);
        if (!id)
            throw usage_error{"--orgs-file: line " + std::to_string(number) + " of '" +
                              *o.orgs_file + "': '" + text + "' is not a GUID"};
        out.insert(*id);
        listed_any = true;
    }
    // An empty list would silently widen the backfill to every organization.
    if (!listed_any)
        throw usage_error{"--orgs-file: '" + *o.orgs_file + "' lists no organization"};
    return out;
}

std::filesystem::path check_output(const std::string& text, std::string_view option) {
    if (text.empty())
        bad_value(option, text, "a file path");
    const std::filesystem::path path(text);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw usage_error{std::string(option) + ": '" + text + "' is a folder, not a file"};
    const auto folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(folder, ec))
        throw usage_error{std::string(option) + ": the folder '" + folder.string() + "' of '" +
                          text + "' does not exist"};
    if (::access(folder.c_str(), W_OK) != 0)
        throw usage_error{std::string(option) + ": the folder '" + folder.string() + "' of '" +
                          text + "' is not writable"};
    return std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec);
}

// The first connection option given, to name it when the endpoint is missing.
std::optional<std::string> first_connection_option(const backfill_options& o,
                                                   const environment& env) {
    const std::pair<bool, const char*> given[] = {
        {o.region.has_value(), "--region"},
        {o.base_url.has_value(), "--base-url"},
        {o.client_id.has_value(), "--client-id"},
        {o.client_secret_file.has_value(), "--client-secret-file"},
        {o.certificate.has_value(), "--certificate"},
        {o.token_url.has_value(), "--token-url"},
        {o.ca_file.has_value(), "--ca-file"},
        {o.extra_ca_file.has_value(), "--extra-ca-file"},
        {o.allow_insecure_http, "--allow-insecure-http"},
        {o.proxy.has_value(), "--proxy"},
        {o.no_proxy.has_value(), "--no-proxy"},
        {!env("DYNJOBS_CLIENT_SECRET").value_or("").empty(), "DYNJOBS_CLIENT_SECRET"},
    };
    for (const auto& [present, name] : given)
        if (present)
            return name;
    return std::nullopt;
}

// True for a base URL whose token endpoint is known: a region's API host (its identity
// service), or loopback (the simulator's layout, <base-url>/connect/token). Anywhere else,
// guessing would post the client's credentials to a server that may not be the identity one.
bool guessable_token_endpoint(const std::string& base_url, bool allow_insecure_http) {
    const auto url = boost::urls::parse_uri(base_url);
    // A malformed URL, or plain http refused anyway: the library's validation says why.
    if (!url || (url->scheme() == "http" && !allow_insecure_http))
        return true;
    std::string host(url->encoded_host());
    for (auto& ch : host)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (find_region_by_host(host) || host == "localhost" || host == "[::1]")
        return true;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(host, ec);
    return !ec && address.is_loopback();
}

void resolve_connection(const backfill_options& o, const environment& env, backfill_plan& plan) {
    const auto given = first_connection_option(o, env);
    plan.embedded = !given;
    if (plan.embedded)
        return;
    if (o.region && !find_region(*o.region)) {
        std::string names;
        for (const auto& known : regions())
            names += (names.empty() ? "" : ", ") + std::string(known.name);
        bad_value("--region", *o.region, "one of " + names);
    }
    if (o.region && o.base_url)
        throw usage_error{"--region " + *o.region + " and --base-url " + *o.base_url +
                          " are both given: give one"};
    if (!o.region && !o.base_url)
        throw usage_error{*given +
                          " given, but no endpoint: add --region or --base-url (or remove every "
                          "connection option and DYNJOBS_CLIENT_SECRET to use the embedded "
                          "simulator)"};
    plan.config.region = o.region.value_or("");
    plan.config.base_url = o.base_url.value_or("");
    plan.config.scope = o.scope;
    plan.config.token_url = o.token_url.value_or("");
    plan.config.tls.ca_file = o.ca_file.value_or("");
    plan.config.tls.extra_ca_file = o.extra_ca_file.value_or("");
    plan.config.tls.allow_insecure_http = o.allow_insecure_http;
    for (const auto& [file, option] :
         {std::pair{o.ca_file, "--ca-file"}, std::pair{o.extra_ca_file, "--extra-ca-file"}}) {
        if (!file)
            continue;
        std::ifstream probe(*file);
        if (!is_readable_file(*file) || !probe)
            throw usage_error{std::string(option) + ": cannot read '" + *file + "'"};
    }
    // The environment's proxy settings are the library's to read; the password is the
    // command's, as the client secret is.
    plan.config.proxy.url = o.proxy.value_or("");
    plan.config.proxy.no_proxy = o.no_proxy.value_or("");
    plan.config.proxy.password = env("DYNJOBS_PROXY_PASSWORD").value_or("");
    const std::string where = o.region ? "--region " + *o.region : "--base-url " + *o.base_url;
    if (!o.client_id)
        throw usage_error{"--client-id is required with " + where};
    auto env_secret = env("DYNJOBS_CLIENT_SECRET");
    if (env_secret && env_secret->empty()) // exported but empty: as if unset
        env_secret.reset();
    const int ways =
        (env_secret ? 1 : 0) + (o.client_secret_file ? 1 : 0) + (o.certificate ? 1 : 0);
    if (ways == 0 && env("DYNJOBS_CLIENT_SECRET"))
        throw usage_error{"DYNJOBS_CLIENT_SECRET is set but empty, and no other credential is "
                          "given for " +
                          where};
    if (ways == 0)
        throw usage_error{"no credentials for " + where +
                          ": set DYNJOBS_CLIENT_SECRET, or pass --client-secret-file or "
                          "--certificate"};
    if (ways > 1)
        throw usage_error{"more than one credential given (DYNJOBS_CLIENT_SECRET, "
                          "--client-secret-file, --certificate): give one"};
    if (o.base_url && !o.token_url && !guessable_token_endpoint(*o.base_url, o.allow_insecure_http))
        throw usage_error{"--token-url is required with --base-url " + *o.base_url +
                          ": it is no region's host nor loopback, so where to send the "
                          "credentials cannot be guessed"};
    if (o.certificate) {
        std::ifstream probe(*o.certificate, std::ios::binary);
        if (!is_readable_file(*o.certificate) || !probe)
            throw usage_error{"--certificate: cannot read '" + *o.certificate + "'"};
        plan.config.creds = certificate_credentials{*o.client_id, *o.certificate,
                                                    env("DYNJOBS_CERT_PASSWORD").value_or("")};
    } else {
        auto secret = env_secret ? *env_secret
                                 : read_secret_file(*o.client_secret_file, "--client-secret-file");
        plan.config.creds = client_secret_credentials{*o.client_id, std::move(secret)};
    }
}

// --output postgresql://...: the URI checked by libpq's parser (nothing is connected yet), the
// password read, and the file-only options refused.
sink::pg::target resolve_pg(const backfill_options& o, const std::string& uri) {
    if (auto error = sink::pg::check_uri("--output", uri))
        throw usage_error{*error};
    if (o.checkpoint)
        throw usage_error{"--checkpoint does not apply to a PostgreSQL --output: the database "
                          "records progress in its segments table"};
    if (o.format != output_format::jsonl)
        throw usage_error{"--format " + std::string(to_string(o.format)) +
                          " does not apply to a PostgreSQL --output"};
    sink::pg::target t;
    t.uri = uri;
    t.shown = sink::pg::without_password(uri);
    t.schema = o.pg_schema.value_or("dynjobs");
    if (o.pg_password_file)
        t.password = read_secret_file(*o.pg_password_file, "--pg-password-file");
    if (o.pg_retry_for)
        t.retry_for = std::chrono::milliseconds(static_cast<std::int64_t>(*o.pg_retry_for * 1000));
    return t;
}

// How hard to push and how to ask: the same for every tenant.
void apply_fetch_settings(const backfill_options& o, client_config& c) {
    c.pool.max_connections = o.concurrency;
    c.rate.max_in_flight = o.concurrency;
    c.max_in_flight_per_organization = o.concurrency;
    c.rate.max_requests_per_second = o.max_rate;
    c.rate.adaptive_rate = o.adaptive_rate;
    c.rate.retry_after_per_request = !o.retry_after_host_wide;
    c.user_agent = "dynjobs-cli/" DYNJOBS_VERSION;
    c.compression = o.compression;
}

// --tenants: each tenant resolved as the command line's connection options would be (the same
// checks, the same messages), its secret read from where the file says.
std::vector<tenant_plan> resolve_tenants(const backfill_options& o, const environment& env) {
    const auto& file = *o.tenants;
    const std::pair<bool, const char*> per_tenant[] = {
        {o.region.has_value(), "--region"},
        {o.base_url.has_value(), "--base-url"},
        {o.token_url.has_value(), "--token-url"},
        {o.client_id.has_value(), "--client-id"},
        {o.client_secret_file.has_value(), "--client-secret-file"},
        {o.certificate.has_value(), "--certificate"},
        {!o.orgs.empty(), "--org"},
        {o.orgs_file.has_value(), "--orgs-file"},
    };
    for (const auto& [given, option] : per_tenant)
        if (given)
            throw usage_error{std::string(option) + " is given with --tenants " + file +
                              ": each tenant has its own; put it in the tenants file"};
    std::ifstream in(file, std::ios::binary);
    if (!is_readable_file(file) || !in)
        throw usage_error{"--tenants: cannot read '" + file + "'"};
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::vector<tenant_plan> out;
    for (const auto& spec : parse_tenants(text, "--tenants " + file)) {
        const auto where = "--tenants " + file + ": tenant '" + spec.name + "'";
        const auto from_env = [&](const std::optional<std::string>& name, const char* field) {
            if (!name)
                return std::optional<std::string>();
            auto value = env(*name);
            if (!value || value->empty())
                throw usage_error{where + ": \"" + field + "\" names " + *name +
                                  ", which is not set or empty"};
            return value;
        };
        const auto secret = from_env(spec.client_secret_env, "client-secret-env");
        const auto password = from_env(spec.certificate_password_env, "certificate-password-env");
        backfill_options own = o;
        own.region = spec.region;
        own.base_url = spec.base_url;
        own.token_url = spec.token_url;
        own.client_id = spec.client_id;
        own.client_secret_file = spec.client_secret_file;
        own.certificate = spec.certificate;
        own.scope = spec.scope.value_or(o.scope);
        // The environment the command line would read, as this tenant's file says.
        const environment own_env = [&](std::string_view name) -> std::optional<std::string> {
            if (name == "DYNJOBS_CLIENT_SECRET")
                return secret;
            if (name == "DYNJOBS_CERT_PASSWORD")
                return password;
            return env(name);
        };
        backfill_plan resolved;
        try {
            resolve_connection(own, own_env, resolved);
        } catch (const usage_error& e) {
            throw usage_error{where + ": " + e.message};
        }
        tenant_plan t{spec.name, std::move(resolved.config), {}};
        apply_fetch_settings(o, t.config);
        t.config.rate.max_requests_per_second = spec.max_rate.value_or(o.max_rate);
        std::set<organization_id> orgs;
        for (const auto& text : spec.orgs)
            orgs.insert(*organization_id::parse(text)); // shape checked by the parser
        t.organizations.assign(orgs.begin(), orgs.end());
        out.push_back(std::move(t));
    }
    return out;
}

std::string client_id_of(const credentials& creds) {
    if (const auto* secret = std::get_if<client_secret_credentials>(&creds))
        return secret->client_id;
    if (const auto* certificate = std::get_if<certificate_credentials>(&creds))
        return certificate->client_id;
    return {};
}

// What --tenants fetches, for the selection's hash: a tenant added, moved or given other
// organizations is another run. Never a secret, nor where it is kept.
std::string tenants_selection(const std::vector<tenant_plan>& tenants) {
    std::string out;
    for (const auto& t : tenants) {
        if (!out.empty())
            out += ';';
        out += t.name + "|" + t.config.region + "|" + t.config.base_url + "|" +
               client_id_of(t.config.creds) + "|";
        for (std::size_t i = 0; i < t.organizations.size(); ++i) {
            if (i > 0)
                out += ',';
            out += t.organizations[i].to_string();
        }
    }
    return out;
}

std::string joined(const std::set<organization_id>& orgs) {
    std::string out;
    for (const auto& id : orgs)
        out += (out.empty() ? "" : ",") + id.to_string();
    return out;
}

} // namespace

std::string read_secret_file(const std::string& path, std::string_view option) {
    std::ifstream in(path);
    std::string line;
    if (!is_readable_file(path) || !in || !std::getline(in, line))
        throw usage_error{std::string(option) + ": cannot read '" + path + "'"};
    strip_byte_order_mark(line);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
        line.pop_back();
    if (line.empty())
        throw usage_error{std::string(option) + ": the first line of '" + path + "' is empty"};
    return line;
}

backfill_plan resolve_backfill(const backfill_options& o, timestamp now, const environment& env) {
    // Times derived from now (the default --until, spans like 90d) go out as whole seconds: a
    // server may not take milliseconds, and a resume must name the same instants.
    now = std::chrono::floor<std::chrono::seconds>(now);
    backfill_plan plan;
    if (o.tenants && !o.worker)
        throw usage_error{"--tenants applies to --worker only: start the workers with "
                          "--output postgresql://... --worker --tenants " +
                          *o.tenants};
    if (!o.tenants)
        resolve_connection(o, env, plan);

    fetch_request& r = plan.request;
    r.type = *parse_job_type(o.type);
    if (o.status)
        r.status = parse_job_status(*o.status);
    if (!o.since && !plan.embedded)
        throw usage_error{"--since is required: the start of the range to backfill, e.g. "
                          "--since 2024-01-01 or --since 90d"};
    r.start = o.since ? *parse_time_point(*o.since, now) : sim::dataset_config{}.begin;
    r.finish = o.until ? *parse_time_point(*o.until, now) : now;
    if (r.start >= r.finish)
        throw usage_error{"--since '" + o.since.value_or(format_iso8601(r.start)) + "' (" +
                          format_iso8601(r.start) + ") is not before --until '" +
                          o.until.value_or("now") + "' (" + format_iso8601(r.finish) + ")"};
    const auto orgs = organizations(o);
    r.organizations.assign(orgs.begin(), orgs.end());
    if (o.window != "none")
        r.window = parse_span(o.window);
    r.page_size = o.page_size;
    r.server_time_filter = *parse_time_filter(o.time_filter);
    // A backfill fetches everything it can and lists what failed; resume retries those.
    r.on_failure = failure_policy::go_on;

    apply_fetch_settings(o, plan.config);

    if (o.shard) {
        const auto index = env("JOB_COMPLETION_INDEX");
        plan.shard =
            parse_shard(*o.shard, index ? std::optional<std::string_view>(*index) : std::nullopt);
        if (o.shard->starts_with("auto/") && (!index || !plan.shard))
            throw usage_error{"--shard " + *o.shard +
                              " takes its index from JOB_COMPLETION_INDEX, " +
                              (index ? "which is '" + *index + "': not an index below the count"
                                     : std::string("which is not set (a Kubernetes Indexed Job "
                                                   "sets it)"))};
        // Each shard resolves its own "now": only an absolute range cuts the same windows in all.
        const auto later = now + std::chrono::hours(1);
        for (const auto& [option, text] :
             {std::pair<const char*, std::optional<std::string>>{"--since", o.since},
              {"--until", o.until}})
            if (!plan.embedded &&
                (!text || parse_time_point(*text, now) != parse_time_point(*text, later)))
                throw usage_error{"--shard needs an absolute " + std::string(option) + " (" +
                                  (text ? "'" + *text + "' is relative to now" : "not given") +
                                  "): every shard must cut the same windows, and each resolves "
                                  "its own now"};
    }

    plan.format = o.format;
    // {shard} names each shard's own file when every process has the same command line.
    const auto shard_path = [&](std::string path) {
        if (plan.shard)
            for (auto at = path.find("{shard}"); at != std::string::npos;
                 at = path.find("{shard}", at))
                path.replace(at, 7, std::to_string(plan.shard->index));
        return path;
    };
    const std::string output =
        shard_path(o.output.value_or(o.format == output_format::csv ? "jobs.csv" : "jobs.jsonl"));
    plan.to_stdout = output == "-";
    if (sink::pg::is_postgres_uri(output)) {
        if (o.shard)
            throw usage_error{"--shard splits a run between file outputs; with a database, "
                              "start the processes with --worker instead"};
        plan.pg = resolve_pg(o, output);
    } else if (const char* option = o.pg_schema          ? "--pg-schema"
                                    : o.pg_password_file ? "--pg-password-file"
                                    : o.pg_retry_for     ? "--pg-retry-for"
                                    : o.worker           ? "--worker"
                                                         : nullptr) {
        throw usage_error{std::string(option) +
                          " applies to a PostgreSQL output only: --output postgresql://..."};
    } else if (plan.to_stdout) {
        if (o.resume)
            throw usage_error{"--resume needs an output file: standard output cannot be resumed"};
        if (o.checkpoint)
            throw usage_error{"--checkpoint needs an output file: standard output cannot be "
                              "resumed"};
    } else {
        plan.output = check_output(output, "--output");
        plan.checkpoint_path = o.checkpoint
                                   ? check_output(shard_path(*o.checkpoint), "--checkpoint")
                                   : std::filesystem::path(plan.output.string() + ".checkpoint");
    }
    if (o.stats_json)
        plan.stats_json = check_output(shard_path(*o.stats_json), "--stats-json");
    // Two roles on one file would destroy the output (a rename over it, or an overwrite).
    const auto refuse_same = [](const std::filesystem::path& a, const std::filesystem::path& b,
                                std::string_view option, const std::string& given,
                                std::string_view role) {
        if (a == b)
            throw usage_error{std::string(option) + ": '" + given + "' is the " +
                              std::string(role) + " file; give another path"};
    };
    if (!plan.to_stdout && o.checkpoint)
        refuse_same(plan.checkpoint_path, plan.output, "--checkpoint", *o.checkpoint, "output");
    if (plan.stats_json) {
        if (!plan.to_stdout && !plan.pg)
            refuse_same(*plan.stats_json, plan.output, "--stats-json", *o.stats_json, "output");
        refuse_same(*plan.stats_json, plan.checkpoint_path, "--stats-json", *o.stats_json,
                    "checkpoint");
    }
    plan.resume = o.resume;
    if (o.lease && !o.worker)
        throw usage_error{"--lease applies to --worker only"};
    if (o.split_above && !o.worker)
        throw usage_error{"--split-above applies to --worker only"};
    if (o.worker && o.resume)
        throw usage_error{"--worker continues an unfinished run by itself: drop --resume"};
    if (o.worker && o.stats_json)
        throw usage_error{"--stats-json is not written by --worker: the run's figures are in "
                          "dynjobs db status"};
    plan.worker = o.worker;
    if (o.lease)
        plan.lease = std::chrono::milliseconds(static_cast<std::int64_t>(*o.lease * 1000));
    if (o.split_above)
        plan.split_above = *o.split_above;
    plan.checkpoint_interval =
        std::chrono::milliseconds(static_cast<std::int64_t>(o.checkpoint_interval * 1000));
    plan.level = o.quiet ? verbosity::quiet : o.verbose ? verbosity::verbose : verbosity::normal;

    if (o.tenants)
        plan.tenants = resolve_tenants(o, env);

    plan.chosen = {
        {"--type", std::to_string(static_cast<std::int32_t>(r.type))},
        {"--status", r.status ? std::to_string(static_cast<std::int32_t>(*r.status)) : ""},
        {"--since", o.since.value_or("")},
        {"--until", o.until.value_or("")},
        {"--org", joined(orgs)},
        {"--window", r.window ? std::to_string(r.window->count()) + "ms" : "none"},
        {"--page-size", std::to_string(r.page_size)},
        {"--time-filter", o.time_filter},
        {"--base-url", plan.embedded ? "embedded simulator" : o.base_url.value_or("")},
        {"--region", o.region.value_or("")},
        // Another app registration may see other organizations.
        {"--client-id", o.client_id.value_or("")},
        {"--format", std::string(to_string(o.format))},
        {"--output", plan.output.string()},
    };
    if (!plan.tenants.empty())
        plan.chosen.emplace_back("--tenants", tenants_selection(plan.tenants));
    if (plan.shard)
        plan.chosen.emplace_back("--shard", std::to_string(plan.shard->index) + "/" +
                                                std::to_string(plan.shard->count));
    // A database's runs are told apart by what they fetch; where it is, it knows.
    if (plan.pg)
        std::erase_if(plan.chosen, [](const auto& entry) {
            return entry.first == "--format" || entry.first == "--output";
        });
    return plan;
}

std::vector<policy::segment_key> segments_of_other_shards(const fetch_request& r,
                                                          const shard_spec& shard) {
    // Every N-th segment in time-major order: each shard gets every organization and the whole
    // range, so shards stay balanced when the jobs are denser in some years.
    std::vector<policy::segment_key> out;
    const auto windows = r.windows().size();
    const auto slots = std::max<std::size_t>(1, r.organizations.size());
    for (std::size_t w = 0; w < windows; ++w)
        for (std::size_t slot = 0; slot < slots; ++slot)
            if ((w * slots + slot) % shard.count != shard.index)
                out.push_back({slot, w});
    return out;
}

std::string_view option_for_field(std::string_view field) noexcept {
    static constexpr std::pair<std::string_view, std::string_view> table[] = {
        {"base_url", "--base-url"},
        {"token_url", "--token-url"},
        {"region", "--region"},
        {"client_id", "--client-id"},
        {"client_secret", "DYNJOBS_CLIENT_SECRET"},
        {"certificate_file", "--certificate"},
        {"certificate", "--certificate"},
        {"password", "DYNJOBS_CERT_PASSWORD"},
        {"ca_file", "--ca-file"},
        {"tls.ca_file", "--ca-file"},
        {"tls.extra_ca_file", "--extra-ca-file"},
        {"proxy.url", "--proxy"},
        {"proxy.no_proxy", "--no-proxy"},
        {"proxy.password", "DYNJOBS_PROXY_PASSWORD"},
        {"startTime", "--since"},
        {"finishTime", "--until"},
        {"pageSize", "--page-size"},
        {"window", "--window"},
        {"page_size", "--page-size"},
        {"organizations", "--org"},
        {"start", "--since"},
        {"finish", "--until"},
        {"type", "--type"},
        {"status", "--status"},
    };
    for (const auto& [name, option] : table)
        if (name == field)
            return option;
    return field;
}

} // namespace dynjobs::cli
