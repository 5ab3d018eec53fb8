// src/sim/static_pages.cpp - see static_pages.hpp.
#include "sim/static_pages.hpp"

#include <dynjobs/error.hpp>
#include <dynjobs/sim/certificates.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>

namespace dynjobs::sim {

namespace {

using boost::system::error_code;
using namespace std::chrono;

/// The fixed token nginx hands out: the pages check none, the client only needs a well-formed
/// answer from the token endpoint.
constexpr std::string_view static_token = "dynjobs-static-pages";
constexpr std::string_view static_client_id = "dynjobs-static-pages";

/// The folder as written into nginx.conf: absolute, normal, without a trailing slash.
std::filesystem::path absolute_folder(const std::filesystem::path& p) {
    auto folder = std::filesystem::absolute(p).lexically_normal();
    if (!folder.has_filename() && folder.has_relative_path()) {
        folder = folder.parent_path();
    }
    return folder;
}

error_code invalid(diagnostics& diag, std::string field, std::string value, std::string message) {
    diag.field = std::move(field);
    diag.value = std::move(value);
    diag.message = std::move(message);
    return errc::invalid_argument;
}

bool whole_seconds(milliseconds d) {
    return d % seconds{1} == milliseconds{0};
}

/// 2024-01-02T00:00:00Z as 20240102T000000Z: what nginx's maps make of startTime and finishTime.
std::string compact_time(timestamp t) {
    std::string out;
    for (char c : format_iso8601(t)) {
        if (c != '-' && c != ':') {
            out += c;
        }
    }
    return out;
}

/// The window as dynjobs backfill's --window writes it: the largest unit that divides it.
std::string span_text(milliseconds d) {
    for (const auto& [unit, suffix] :
         {std::pair{milliseconds{weeks{1}}, 'w'}, std::pair{milliseconds{days{1}}, 'd'},
          std::pair{milliseconds{hours{1}}, 'h'}, std::pair{milliseconds{minutes{1}}, 'm'}}) {
        if (d % unit == milliseconds{0}) {
            return std::to_string(d / unit) + suffix;
        }
    }
    return std::to_string(duration_cast<seconds>(d).count()) + 's';
}

error_code write_file(const std::filesystem::path& path, std::string_view bytes,
                      diagnostics& diag) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
        error_code ec(errno != 0 ? errno : EIO, boost::system::system_category());
        diag.message = "cannot write " + path.string() + ": " + ec.message();
        diag.value = path.string();
        return ec;
    }
    return {};
}

error_code make_folder(const std::filesystem::path& path, diagnostics& diag) {
    std::error_code sec;
    std::filesystem::create_directories(path, sec);
    if (sec) {
        diag.message = "cannot create folder " + path.string() + ": " + sec.message();
        diag.value = path.string();
        return error_code(sec.value(), boost::system::system_category());
    }
    return {};
}

/// The windows a backfill with --since begin --until end --window w asks for, as
/// fetch_request::windows() cuts them: [from, min(end, from + w)], adjacent ones sharing ends.
std::vector<std::pair<timestamp, timestamp>> windows_of(const dataset_config& data,
                                                        const static_pages_config& config) {
    if (config.endpoint.window == window_match::ignored || !config.window) {
        return {{data.begin, data.end}};
    }
    std::vector<std::pair<timestamp, timestamp>> out;
    for (timestamp from = data.begin; from < data.end; from += *config.window) {
        out.emplace_back(from, std::min(data.end, from + *config.window));
    }
    return out;
}

error_code check(const dataset& data, const static_pages_config& config, diagnostics& diag) {
    if (config.dir.empty()) {
        return invalid(diag, "dir", "", "dir: the folder to write into is required");
    }
    const std::string dir = absolute_folder(config.dir).string();
    const auto unsafe = std::find_if(dir.begin(), dir.end(), [](char c) {
        return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 std::string_view{"/._-+@,="}.find(c) != std::string_view::npos);
    });
    if (unsafe != dir.end()) {
        return invalid(diag, "dir", dir,
                       "dir: '" + dir +
                           "' may hold only letters, digits and / . _ - + @ , = (nginx would "
                           "read other characters as syntax)");
    }
    if (config.page_size < 1 || config.page_size > config.endpoint.max_page_size) {
        return invalid(diag, "page_size", std::to_string(config.page_size),
                       "page_size must be from 1 to max_page_size (" +
                           std::to_string(config.endpoint.max_page_size) + ")");
    }
    if (config.window && (config.window->count() <= 0 || !whole_seconds(*config.window))) {
        return invalid(diag, "window", std::to_string(config.window->count()) + "ms",
                       "window must be a positive whole number of seconds");
    }
    const dataset_config& range = data.config();
    if (!whole_seconds(range.begin.time_since_epoch()) ||
        !whole_seconds(range.end.time_since_epoch()) || range.begin >= range.end) {
        return invalid(diag, "dataset", format_iso8601(range.begin),
                       "the dataset's begin and end must be whole seconds, begin before end");
    }
    if (config.endpoint.unstable_order || config.endpoint.huge_total) {
        return invalid(diag, config.endpoint.unstable_order ? "unstable_order" : "huge_total", "",
                       "static pages serve one order and a finite number of pages: "
                       "unstable_order and huge_total cannot be written");
    }
    if (config.port == 0) {
        return invalid(diag, "port", "0", "port must be given: nginx needs a fixed one");
    }
    if (config.rate_limit > 0 && config.rate_burst == 0) {
        return invalid(diag, "rate_burst", "0", "rate_burst must be at least 1");
    }
    if (config.latency < milliseconds{0} || config.latency > minutes{10}) {
        return invalid(diag, "latency", std::to_string(config.latency.count()) + "ms",
                       "latency must be from 0 to 600 s");
    }
    std::error_code ignored;
    if (config.latency > milliseconds{0} &&
        !std::filesystem::is_regular_file(config.echo_module, ignored)) {
        return invalid(diag, "echo_module", config.echo_module.string(),
                       "echo_module: " + config.echo_module.string() +
                           " is not there, and nginx needs it to delay its answers (latency): "
                           "install Debian's libnginx-mod-http-echo");
    }
    return {};
}

constexpr std::string_view time_regex =
    R"(~^(\d{4})-(\d\d)-(\d\d)T(\d\d)(?::|%3[Aa])(\d\d)(?::|%3[Aa])(\d\d)Z$)";
constexpr std::string_view guid_regex =
    "~^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

std::string nginx_conf(const static_pages_config& config, const std::string& dir,
                       const std::vector<std::string>& backfill) {
    const bool ignore_time = config.endpoint.window == window_match::ignored;
    std::string args;
    for (const auto& a : backfill) {
        args += ' ' + a;
    }
    std::string c;
    if (config.latency > milliseconds{0}) {
        c += "load_module " + config.echo_module.string() + ";\n";
    }
    c += "# Written by `dynjobs sim --write-pages`: the simulator's dataset as static pages, each\n"
         "# the body `dynjobs sim` answers to the same query, to test a client against a server\n"
         "# that is not the simulator. As any user, from any folder:\n"
         "#   start: nginx -p " +
         dir + " -c " + dir + "/nginx.conf -e " + dir +
         "/error.log\n"
         "#   stop:  nginx -p " +
         dir + " -c " + dir + "/nginx.conf -e " + dir +
         "/error.log -s stop\n"
         "# Pages exist only for the queries of:\n"
         "#   DYNJOBS_CLIENT_SECRET=any dynjobs backfill" +
         args +
         "\n"
         "# (--org GUID may be added); any other query is a 404.\n";
    c += "worker_processes 1;\n";
    if (config.foreground) {
        c += "daemon off;\n";
    }
    c += "pid " + dir + "/nginx.pid;\n";
    c += "error_log " + dir + "/error.log notice;\n";
    c += "events {\n    worker_connections 1024;\n}\n";
    c += "http {\n";
    c += "    access_log " + dir + "/access.log;\n";
    for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
        c += "    " + std::string{temp} + "_temp_path " + dir + "/temp/" + temp + ";\n";
    }
    c += "    default_type application/json;\n"
         "    # The simulator's Content-Type: application/json; charset=utf-8.\n"
         "    charset utf-8;\n"
         "    charset_types application/json;\n";
    c += "    keepalive_requests " + std::to_string(config.keepalive_requests) + ";\n\n";
    c += "    # Each query argument becomes a path segment, or '-' (a folder that does not exist,\n"
         "    # so a 404) when it is not one the pages were written for. Only validated text\n"
         "    # reaches the path.\n";
    c += "    map $arg_type $dynjobs_type {\n        \"0\" 0;\n        default -;\n    }\n";
    c += "    map $arg_pageSize $dynjobs_page_size {\n        \"\" 10;\n        \"" +
         std::to_string(config.page_size) + "\" " + std::to_string(config.page_size) +
         ";\n        default -;\n    }\n";
    c += "    map $arg_pageIndex $dynjobs_page_index {\n        \"\" 1;\n"
         "        \"~^[1-9][0-9]{0,9}$\" $arg_pageIndex;\n        default -;\n    }\n";
    c += "    map $arg_organizationId $dynjobs_org {\n        \"\" all;\n        \"" +
         std::string{guid_regex} + "\" $arg_organizationId;\n        default -;\n    }\n";
    c += "    map $arg_status $dynjobs_no_status {\n        \"\" \"\";\n        default -/;\n"
         "    }\n";
    // The times: a folder named after both, or (ignoring them) nothing when both are times.
    for (const char* name : {"startTime", "finishTime"}) {
        c += "    map $arg_" + std::string{name} + " $dynjobs_" + name + " {\n        \"" +
             std::string{time_regex} + "\" " + (ignore_time ? "\"\"" : "$1$2$3T$4$5$6Z") +
             ";\n        default -;\n    }\n";
    }
    const std::string window = ignore_time ? "${dynjobs_startTime}${dynjobs_finishTime}"
                                           : "${dynjobs_startTime}_${dynjobs_finishTime}/";
    char sleep_seconds[32];
    std::snprintf(sleep_seconds, sizeof sleep_seconds, "%.3f",
                  static_cast<double>(config.latency.count()) / 1000.0);
    if (config.rate_limit > 0) {
        c += "\n    # dynjobs sim --rate-limit's answer: 429, a JSON body, Retry-After in whole "
             "seconds.\n";
        c += "    limit_req_zone $binary_remote_addr zone=dynjobs:1m rate=" +
             std::to_string(config.rate_limit) + "r/s;\n";
        c += "    limit_req_status 429;\n";
    }
    c += "\n    server {\n";
    c += "        listen 127.0.0.1:" + std::to_string(config.port) + " ssl;\n";
    c += "        server_name localhost;\n";
    c += "        ssl_certificate " + dir + "/server.pem;\n";
    c += "        ssl_certificate_key " + dir + "/server-key.pem;\n";
    c += "        ssl_protocols TLSv1.2 TLSv1.3;\n";
    c += "        root " + dir + ";\n";
    c += "        error_page 404 /errors/404.json;\n";
    if (config.rate_limit > 0) {
        c += "        error_page 429 /errors/429.json;\n";
    }
    c += "\n";
    // With a latency each location waits, then hands the request to a named location that
    // answers it (echo_sleep must run in the content phase, after which only an internal
    // redirect can still reach return, limit_req and try_files).
    const auto location = [&](const std::string& match, const std::string& name,
                              const std::string& body) {
        if (config.latency == milliseconds{0}) {
            c += "        location " + match + " {\n" + body + "        }\n";
            return;
        }
        c += "        location " + match + " {\n            echo_sleep " + sleep_seconds +
             ";\n            echo_exec @" + name + ";\n        }\n";
        c += "        location @" + name + " {\n" + body + "        }\n";
    };
    location("= /connect/token", "token",
             "            return 200 '{\"access_token\":\"" + std::string{static_token} +
                 "\",\"token_type\":\"Bearer\",\"expires_in\":3600,\"scope\":\"dynamics."
                 "readwrite.all\"}';\n");
    std::string jobs;
    if (config.rate_limit > 0) {
        // nginx refuses "burst=0": a burst of one request is its default.
        jobs += "            limit_req zone=dynjobs" +
                (config.rate_burst > 1 ? " burst=" + std::to_string(config.rate_burst - 1) : "") +
                " nodelay;\n";
    }
    jobs += "            try_files "
            "/pages/${dynjobs_no_status}${dynjobs_type}/${dynjobs_page_size}/${dynjobs_org}/" +
            window + "${dynjobs_page_index}.json =404;\n";
    location("= /dynamicsbackup/jobs", "jobs", jobs);
    c += "        location = /errors/404.json {\n            internal;\n        }\n";
    if (config.rate_limit > 0) {
        c += "        location = /errors/429.json {\n            internal;\n"
             "            add_header Retry-After 1 always;\n        }\n";
    }
    location("/", "elsewhere", "            return 404;\n");
    c += "    }\n}\n";
    return c;
}

} // namespace

std::vector<std::string> matching_backfill_arguments(const dataset& data,
                                                     const static_pages_config& config) {
    const auto dir = absolute_folder(config.dir);
    return {"--base-url",  "https://127.0.0.1:" + std::to_string(config.port),
            "--ca-file",   (dir / "ca.pem").string(),
            "--client-id", std::string{static_client_id},
            "--since",     format_iso8601(data.config().begin),
            "--until",     format_iso8601(data.config().end),
            "--window",    config.window ? span_text(*config.window) : "none",
            "--page-size", std::to_string(config.page_size)};
}

error_code write_static_pages(const dataset& data, const static_pages_config& config,
                              static_pages_summary& summary, diagnostics& diag) {
    diag.clear();
    if (auto ec = check(data, config, diag)) {
        return ec;
    }
    static_pages_summary out;
    out.dir = absolute_folder(config.dir);
    const std::string dir = out.dir.string();
    for (const char* temp : {"", "/temp/client_body", "/temp/proxy", "/temp/fastcgi", "/temp/uwsgi",
                             "/temp/scgi", "/errors"}) {
        if (auto ec = make_folder(dir + temp, diag)) {
            return ec;
        }
    }
    // Pages from an earlier run with other settings must not be served by mistake.
    std::error_code ignored;
    std::filesystem::remove_all(out.dir / "pages", ignored);

    server_pki pki;
    pki_options options;
    options.validity_days = config.cert_validity_days;
    if (auto ec = generate_server_pki(options, pki, diag)) {
        return ec;
    }
    if (auto ec = write_server_pki(pki, out.dir, diag)) {
        return ec;
    }
    out.ca_file = out.dir / "ca.pem";

    const bool ignore_time = config.endpoint.window == window_match::ignored;
    const auto windows = windows_of(data.config(), config);
    std::vector<std::optional<organization_id>> orgs{std::nullopt};
    for (const organization& o : data.organizations()) {
        orgs.emplace_back(o.id);
    }
    const std::string base_url = "https://127.0.0.1:" + std::to_string(config.port);
    const auto size = static_cast<std::size_t>(config.page_size);
    for (const auto& org : orgs) {
        for (const auto& [from, to] : windows) {
            jobs_request r;
            r.where.start = from;
            r.where.finish = to;
            r.where.organization = org;
            r.where.window = config.endpoint.window;
            r.page_size = config.page_size;
            std::filesystem::path folder = out.dir / "pages" / "0" /
                                           std::to_string(config.page_size) /
                                           (org ? org->to_string() : std::string{"all"});
            if (!ignore_time) {
                folder /= compact_time(from) + "_" + compact_time(to);
            }
            if (auto ec = make_folder(folder, diag)) {
                return ec;
            }
            // Every page and the first past the end, empty as the simulator answers it, for a
            // client that pages until a page comes back empty.
            const std::size_t pages = (data.count(r.where) + size - 1) / size + 1;
            for (std::size_t page = 1; page <= pages; ++page) {
                r.page_index = static_cast<std::int64_t>(page);
                const http_reply reply = respond_page(data, config.endpoint, r, base_url);
                if (auto ec =
                        write_file(folder / (std::to_string(page) + ".json"), reply.body, diag)) {
                    return ec;
                }
                ++out.page_files;
            }
        }
    }
    out.windows = windows.size();
    out.organization_filters = orgs.size();

    const std::string not_found = error_body(
        404, "No static page for this query: the pages were written for type 0, pageSize " +
                 std::to_string(config.page_size) +
                 ", no status, and the windows of dynjobs sim --write-pages.");
    if (auto ec = write_file(out.dir / "errors" / "404.json", not_found, diag)) {
        return ec;
    }
    if (config.rate_limit > 0) {
        const std::string refused =
            error_body(429, "Rate limit exceeded: " + std::to_string(config.rate_limit) +
                                " requests/s per client address");
        if (auto ec = write_file(out.dir / "errors" / "429.json", refused, diag)) {
            return ec;
        }
    }
    out.config_file = out.dir / "nginx.conf";
    if (auto ec =
            write_file(out.config_file,
                       nginx_conf(config, dir, matching_backfill_arguments(data, config)), diag)) {
        return ec;
    }
    summary = std::move(out);
    return {};
}

} // namespace dynjobs::sim
