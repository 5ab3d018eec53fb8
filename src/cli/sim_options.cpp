#include "cli/sim_options.hpp"
#include "sim/fault_plan.hpp"

#include "cli/arg_reader.hpp"
#include "cli/time_spec.hpp"

#include <charconv>
#include <cmath>
#include <utility>

namespace dynjobs::cli {

namespace {
constexpr std::string_view sim_usage = R"(usage: dynjobs sim [options]

Serves the AvePoint Graph API simulator (GET /dynamicsbackup/jobs and the OAuth token endpoint)
until Ctrl-C. Prints its URLs, its CA file and the client id and secret it accepts.

Server:
  --port N              HTTPS port, 0 for any free port (default 0)      e.g. --port 8443
  --http-port N         also serve plain HTTP on this port, 0 for any (default: HTTPS only)
                                                                         e.g. --http-port 8080
  --cert-dir DIR        where ca.pem, server.pem and server-key.pem are written; a valid
                        set already there is served instead, so simulators sharing the folder
                        share one CA (default <temp>/dynjobs-sim)        e.g. --cert-dir ./certs
  --cert FILE --key FILE  serve this certificate and key instead of generated ones (default:
                        generated)                         e.g. --cert srv.pem --key srv-key.pem
  --threads N           threads serving requests (default 2)             e.g. --threads 4
Connections (what other servers and load balancers do to them):
  --idle-timeout D      close a connection idle this long: 200ms, 2s, or milliseconds
                        (default 60s)                                    e.g. --idle-timeout 200ms
  --keepalive-requests N  close each connection after N requests, the Nth response saying
                        Connection: close, as nginx does (default 0: unlimited)
                                                                 e.g. --keepalive-requests 100
  --close-all-every N   every N jobs requests, close every open connection: idle ones at once,
                        busy ones after their response (default 0: never)
                                                                 e.g. --close-all-every 500
  --tls-tickets N       TLS 1.3 session tickets sent per full handshake, 0 to 100 (default 2)
                                                                         e.g. --tls-tickets 4
  --no-session-resumption  no TLS session tickets and no session cache: every handshake is a
                        full one (default: resumption allowed)
Data:
  --seed N              dataset seed (default 42)                        e.g. --seed 7
  --orgs N              organizations (default 20)                       e.g. --orgs 100
  --jobs N              jobs, spread over two years up to 2026-01-01 (default 100000)
                                                                         e.g. --jobs 1000000
  --busiest-org-factor N  the first organization gets N times the jobs of each other one, the
                        others alike (default: shares drawn at random)  e.g. --busiest-org-factor 20
  --print-orgs          print the organizations (GUID and name, a line each) and exit
  --start-time-granularity D  round start times down to a multiple of D: 1ms or a span (s, m,
                        h, d) (default 1ms, or 1h with --unstable-order)
                                                           e.g. --start-time-granularity 1m
Paging:
  --max-page-size N     largest page served (default 1000)              e.g. --max-page-size 500
  --oversize cap|reject what a larger pageSize gets: a silently capped page, or 400 (default cap)
                                                                         e.g. --oversize reject
  --next-link-style published|absolute|null|empty|omitted
                        how nextLink is written (default published: relative, without the
                        /dynamicsbackup prefix, as in the API's own sample) e.g. --next-link-style null
  --time-filter start|finish|overlap|ignored
                        which jobs startTime..finishTime selects: those starting in it, those
                        finishing in it (never one in progress), those running during it, or
                        every job (the times are checked, not used) (default start)
                                                                 e.g. --time-filter overlap
  --unstable-order      order by startTime alone, ties in a new order for every request, so
                        that pages fetched at once can repeat a job and miss another; rounds
                        start times to the hour unless --start-time-granularity is given
                        (default: one total order, the same for every request)
  --huge-total          every page says totalCount 1000000000000000 and holds one job
                        (pageSize 1), with a nextLink on every page (default: the true count)
Weather:
  --latency D           added before every response: 50ms, 2s, or milliseconds (default 0)
                                                                         e.g. --latency 50ms
  --latency-ms N        the same in milliseconds                         e.g. --latency-ms 50
  --bandwidth R         pace all responses together to R bits/s, as one link: a number with
                        kbit, mbit or gbit (decimal), or 0 for unlimited (default 0)
                                                                 e.g. --bandwidth 100mbit
  --rate-limit R[:B]    R requests/s per client with a burst of B; beyond, 429 with Retry-After
                        (default: no limit; burst 10)                    e.g. --rate-limit 200:20
  --quota N[:S]         N requests per client in each window of S seconds, from its first
                        request; beyond, 429 with a Retry-After to the window's end, as a
                        gateway's quota (default: none; S 60)              e.g. --quota 5000:60
  --fault-rate P        probability in [0,1] of a random fault per jobs request (default 0)
                                                                         e.g. --fault-rate 0.05
  --fault-seed N        seed of random faults (default 1)               e.g. --fault-seed 3
  --fault RULE          scheduled fault, repeatable (default none): [page=N,nth=N,times=N,
                        path=/p,client=ID:]KIND                          e.g. --fault page=7,nth=3:503
  --client-id ID        the one app registration's client id, to play a tenant of its own
                        (default dynjobs-sim-client)                     e.g. --client-id tenant-a
  --client-secret-file F  its secret: the first line of F (default dynjobs-sim-secret)
                                                                         e.g. --client-secret-file a.secret
  --token-lifetime S    access token lifetime in seconds (default 3600)  e.g. --token-lifetime 60
Compression (of /dynamicsbackup/jobs answers; the token endpoint never compresses):
  --compression LIST    codings served to requests whose Accept-Encoding asks for them:
                        gzip,deflate, gzip, deflate or none (default gzip,deflate)
                                                                 e.g. --compression gzip
  --compression-level N  zlib level, 1 (fastest) to 9 (smallest) (default 1)
                                                                 e.g. --compression-level 6
  --compression-min-size N  bodies of fewer bytes are sent plain (default 1024)
                                                                 e.g. --compression-min-size 0
  --raw-deflate         deflate bodies as raw RFC 1951, without the zlib wrapper, as some
                        servers send them (default: zlib-wrapped, as RFC 9110 says)
  --awkward-chunks      compressed bodies with Transfer-Encoding: chunked, in chunks of 1, 7,
                        4093, ... bytes and the last 8 as 3, 4, 1, cutting the gzip and zlib
                        headers and trailers (default: one body with a Content-Length)
Static pages (write the dataset for nginx, print how to run it, and exit):
  --write-pages DIR     write each page of each 30-day window of each organization as a file,
                        an nginx.conf serving them and certificates into DIR (default: serve)
                                                                 e.g. --write-pages ./pages
  --write-pages-page-size N  the pages' pageSize (default 100)
                                                         e.g. --write-pages-page-size 500
  --write-pages-window SPAN  the windows, from the data's start, or none (default 30d)
                                                           e.g. --write-pages-window 7d
  --write-pages-port N  nginx's HTTPS port on 127.0.0.1 (default 8443)
                                                           e.g. --write-pages-port 9443
  --write-pages-keepalive-requests N  nginx's keepalive_requests (default 100)
                                                 e.g. --write-pages-keepalive-requests 10
  --write-pages-rate-limit R[:B]  nginx serves R pages/s per client address with a burst of B,
                        beyond that 429 with Retry-After: 1 (default: no limit; burst 10)
                                                   e.g. --write-pages-rate-limit 200:10
  --write-pages-latency D  nginx waits D before every answer, as --latency does (needs
                        Debian's libnginx-mod-http-echo; default 0)
                                                         e.g. --write-pages-latency 50ms
  --write-pages-ignore-time  pages that any startTime and finishTime get: a server that ignores
                        the time filter, as --time-filter ignored (default: filtered)
  --write-pages-foreground  write `daemon off;`: nginx stays in the foreground (default: off)
  --help                this text
)";

/// The names of `kinds`, wrapped before column 96, each line indented by two spaces.
void list_kinds(std::string& out, const std::vector<sim::fault_kind>& kinds) {
    out += " ";
    std::size_t column = 1;
    for (auto kind : kinds) {
        const auto name = sim::to_string(kind);
        if (column + name.size() + 1 > 96) {
            out += "\n ";
            column = 1;
        }
        out += " ";
        out += name;
        column += name.size() + 1;
    }
    out += "\n";
}

} // namespace

std::string sim_help() {
    std::string out(sim_usage);
    out += "\nFault kinds (--fault KIND, and what --fault-rate draws from):\n";
    list_kinds(out, sim::all_fault_kinds());
    out += "Other servers' ways (--fault KIND only): close-after answers in full, then drops the\n"
           "connection; then jobs pages that lie (no-jobs: no jobs nor totalCount;\n"
           "repeat-link: nextLink to the same page; bad-link: an unparsable nextLink;\n"
           "huge-total: totalCount 10^15; short-page: half the jobs; html: a sign-in page);\n"
           "then gzip bodies, sent whatever Accept-Encoding says, that do not inflate\n"
           "(corrupt-gzip: invalid from the middle on; truncated-gzip: no 8-byte trailer):\n";
    list_kinds(out, sim::server_quirk_fault_kinds());
    return out;
}

namespace {

sim::next_link_style link_style(std::string_view option, std::string_view v) {
    using sim::next_link_style;
    if (v == "published")
        return next_link_style::published;
    if (v == "absolute")
        return next_link_style::absolute;
    if (v == "null")
        return next_link_style::null;
    if (v == "empty")
        return next_link_style::empty;
    if (v == "omitted")
        return next_link_style::omitted;
    bad_value(option, v, "published, absolute, null, empty or omitted");
}

// "50ms", "2s" or a bare number of milliseconds, from min_ms to max_ms; else a usage error
// saying `expected`.
std::chrono::milliseconds duration(std::string_view option, std::string_view v, std::int64_t min_ms,
                                   std::int64_t max_ms, std::string_view expected) {
    std::int64_t unit = 1;
    auto digits = v;
    if (v.ends_with("ms")) {
        digits.remove_suffix(2);
    } else if (v.ends_with("s")) {
        digits.remove_suffix(1);
        unit = 1000;
    }
    std::int64_t n = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size() || n < 0 ||
        n > max_ms / unit || n * unit < min_ms)
        bad_value(option, v, expected);
    return std::chrono::milliseconds(n * unit);
}

/// "A" or "A:B": hands A to `first` and B, when given, to `second`, each of which parses its part
/// (throwing usage_error). A bad part is reported with the whole value, not just the part.
template <class First, class Second>
void split_pair(std::string_view option, std::string_view v, std::string_view expected, First first,
                Second second) {
    const auto colon = v.find(':');
    try {
        first(v.substr(0, colon));
        if (colon != v.npos)
            second(v.substr(colon + 1));
    } catch (const usage_error&) {
        bad_value(option, v, expected);
    }
}

std::chrono::milliseconds latency(std::string_view option, std::string_view v) {
    return duration(option, v, 0, 600'000, "a delay from 0 to 600s: 50ms, 2s, or milliseconds");
}

// "1ms" (or more milliseconds) or a span: "1s", "1m", "1h", "1d".
std::chrono::milliseconds granularity(std::string_view option, std::string_view v) {
    constexpr std::string_view expected = "1ms or a span like 1s, 1m, 1h or 1d";
    if (v.ends_with("ms"))
        return duration(option, v, 1, 86'400'000, expected);
    const auto span = parse_span(v);
    if (!span)
        bad_value(option, v, expected);
    return *span;
}

/// "gzip,deflate" (either order), "gzip", "deflate" or "none" into the offered codings.
void offered_codings(std::string_view option, std::string_view v, sim::compression_config& out) {
    out.gzip = out.deflate = false;
    if (v == "none")
        return;
    std::string_view rest = v;
    while (true) {
        const auto comma = rest.find(',');
        const std::string_view name = rest.substr(0, comma);
        bool& offered = name == "gzip" ? out.gzip : out.deflate;
        if ((name != "gzip" && name != "deflate") || offered)
            bad_value(option, v, "gzip,deflate, gzip, deflate or none");
        offered = true;
        if (comma == rest.npos)
            return;
        rest.remove_prefix(comma + 1);
    }
}

/// "100mbit", "1.5gbit", "800kbit" (SI units, any case), a bare number of bits/s, or 0.
std::uint64_t bandwidth(std::string_view option, std::string_view v) {
    constexpr std::string_view expected =
        "0 (unlimited) or a rate from 1kbit to 100gbit: 800kbit, 100mbit, 1.5gbit";
    std::string lower(v);
    for (char& c : lower)
        c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    std::string_view digits = lower;
    double unit = 1;
    for (const auto& [suffix, scale] :
         {std::pair{std::string_view("kbit"), 1e3}, std::pair{std::string_view("mbit"), 1e6},
          std::pair{std::string_view("gbit"), 1e9}})
        if (digits.ends_with(suffix)) {
            digits.remove_suffix(suffix.size());
            unit = scale;
        }
    double n = 0;
    const auto [ptr, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), n, std::chars_format::fixed);
    const double bits = n * unit;
    if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size() ||
        !(bits == 0 || (bits >= 1e3 && bits <= 1e11)))
        bad_value(option, v, expected);
    return static_cast<std::uint64_t>(std::llround(bits));
}

sim::window_match time_filter(std::string_view option, std::string_view v) {
    using sim::window_match;
    if (v == "start")
        return window_match::start_time;
    if (v == "finish")
        return window_match::finish_time;
    if (v == "overlap")
        return window_match::overlap;
    if (v == "ignored")
        return window_match::ignored;
    bad_value(option, v, "start, finish, overlap or ignored");
}

} // namespace

sim_options parse_sim_options(std::span<const std::string_view> args) {
    sim_options out;
    sim::sim_config& cfg = out.config;
    cfg.cert_dir = std::filesystem::temp_directory_path() / "dynjobs-sim";
    bool tickets_given = false;     // with --no-session-resumption, a contradiction
    bool granularity_given = false; // else --unstable-order rounds start times to the hour
    sim::static_pages_config pages; // used when --write-pages is given
    std::string_view pages_option;  // a --write-pages-* option seen, for its error
    bool ignore_time = false;       // --write-pages-ignore-time
    bool time_filter_given = false; // with --write-pages-ignore-time, maybe a contradiction
    arg_reader reader(args);
    while (reader.next()) {
        const std::string_view opt = reader.option();
        if (opt == "--help" || opt == "-h") {
            reader.no_value();
            out.help = true;
        } else if (opt == "--port")
            cfg.https_port = parse_number<std::uint16_t>(opt, reader.value(), 0, 65535);
        else if (opt == "--http-port")
            cfg.http_port = parse_number<std::uint16_t>(opt, reader.value(), 0, 65535);
        else if (opt == "--cert-dir")
            cfg.cert_dir = std::string(reader.value());
        else if (opt == "--cert")
            cfg.cert_file = std::string(reader.value());
        else if (opt == "--key")
            cfg.key_file = std::string(reader.value());
        else if (opt == "--seed")
            cfg.dataset.seed = parse_number<std::uint64_t>(opt, reader.value(), 0, UINT64_MAX);
        else if (opt == "--orgs")
            cfg.dataset.organizations = parse_number<std::size_t>(opt, reader.value(), 1, 100'000);
        else if (opt == "--busiest-org-factor")
            cfg.dataset.busiest_organization_factor =
                parse_number<unsigned>(opt, reader.value(), 1, 1'000'000);
        else if (opt == "--print-orgs") {
            reader.no_value();
            out.print_organizations = true;
        } else if (opt == "--jobs")
            cfg.dataset.jobs = parse_number<std::size_t>(opt, reader.value(), 0, 50'000'000);
        else if (opt == "--max-page-size")
            cfg.jobs.max_page_size = parse_number<std::int64_t>(opt, reader.value(), 1, 1'000'000);
        else if (opt == "--oversize") {
            const auto v = reader.value();
            if (v == "cap")
                cfg.jobs.oversize = sim::oversize_page::cap;
            else if (v == "reject")
                cfg.jobs.oversize = sim::oversize_page::reject;
            else
                bad_value(opt, v, "cap or reject");
        } else if (opt == "--next-link-style")
            cfg.jobs.link_style = link_style(opt, reader.value());
        else if (opt == "--latency-ms")
            cfg.latency = std::chrono::milliseconds(
                parse_number<std::int64_t>(opt, reader.value(), 0, 600'000));
        else if (opt == "--latency")
            cfg.latency = latency(opt, reader.value());
        else if (opt == "--bandwidth")
            cfg.bandwidth_bits_per_second = bandwidth(opt, reader.value());
        else if (opt == "--compression")
            offered_codings(opt, reader.value(), cfg.compression);
        else if (opt == "--compression-level")
            cfg.compression.level = parse_number<int>(opt, reader.value(), 1, 9);
        else if (opt == "--compression-min-size")
            cfg.compression.min_size =
                parse_number<std::size_t>(opt, reader.value(), 0, 1'000'000'000);
        else if (opt == "--raw-deflate") {
            reader.no_value();
            cfg.compression.raw_deflate = true;
        } else if (opt == "--awkward-chunks") {
            reader.no_value();
            cfg.compression.awkward_chunks = true;
        } else if (opt == "--rate-limit") {
            split_pair(
                opt, reader.value(), "R or R:B, a rate in requests/s and a burst >= 1",
                [&](auto r) { cfg.rate_limit.requests_per_second = parse_real(opt, r, 0, 1e9); },
                [&](auto b) { cfg.rate_limit.burst = parse_real(opt, b, 1, 1e9); });
        } else if (opt == "--quota") {
            const auto whole = [&](std::string_view part) {
                return parse_number<std::uint64_t>(opt, part, 1, 1'000'000'000);
            };
            split_pair(
                opt, reader.value(), "N or N:S, requests and a window in seconds, each >= 1",
                [&](auto n) { cfg.rate_limit.quota = whole(n); },
                [&](auto s) { cfg.rate_limit.quota_window = std::chrono::seconds{whole(s)}; });
        } else if (opt == "--fault-rate")
            cfg.faults.rate = parse_real(opt, reader.value(), 0, 1);
        else if (opt == "--fault-seed")
            cfg.faults.seed = parse_number<std::uint64_t>(opt, reader.value(), 0, UINT64_MAX);
        else if (opt == "--fault") {
            const auto v = reader.value();
            std::string error;
            auto rule = sim::parse_fault_rule(v, error);
            if (!rule)
                bad_value(opt, v, error);
            cfg.faults.schedule.push_back(std::move(*rule));
        } else if (opt == "--client-id") {
            out.client_id = std::string(reader.value());
            if (out.client_id->empty())
                bad_value(opt, *out.client_id, "a client id");
        } else if (opt == "--client-secret-file")
            out.client_secret_file = std::string(reader.value());
        else if (opt == "--token-lifetime")
            cfg.token_lifetime = std::chrono::seconds(
                parse_number<std::int64_t>(opt, reader.value(), 0, 10LL * 365 * 86400));
        else if (opt == "--threads")
            out.threads = parse_number<int>(opt, reader.value(), 1, 64);
        else if (opt == "--idle-timeout")
            cfg.idle_timeout = duration(opt, reader.value(), 1, 3'600'000,
                                        "a timeout from 1ms to 3600s: 200ms, 2s, or milliseconds");
        else if (opt == "--keepalive-requests")
            cfg.keepalive_requests =
                parse_number<std::size_t>(opt, reader.value(), 0, 1'000'000'000);
        else if (opt == "--close-all-every")
            cfg.close_all_every =
                parse_number<std::uint64_t>(opt, reader.value(), 0, 1'000'000'000);
        else if (opt == "--tls-tickets") {
            cfg.tls_session_tickets = parse_number<std::size_t>(opt, reader.value(), 0, 100);
            tickets_given = true;
        } else if (opt == "--no-session-resumption") {
            reader.no_value();
            cfg.session_resumption = false;
        } else if (opt == "--start-time-granularity") {
            cfg.dataset.start_time_granularity = granularity(opt, reader.value());
            granularity_given = true;
        } else if (opt == "--time-filter") {
            cfg.jobs.window = time_filter(opt, reader.value());
            time_filter_given = true;
        } else if (opt == "--unstable-order") {
            reader.no_value();
            cfg.jobs.unstable_order = true;
        } else if (opt == "--huge-total") {
            reader.no_value();
            cfg.jobs.huge_total = true;
        } else if (opt == "--write-pages") {
            const auto v = reader.value();
            if (v.empty())
                bad_value(opt, v, "a folder");
            pages.dir = std::string(v);
        } else if (opt.starts_with("--write-pages-")) {
            pages_option = opt;
            if (opt == "--write-pages-page-size")
                pages.page_size = parse_number<std::int64_t>(opt, reader.value(), 1, 10'000);
            else if (opt == "--write-pages-window") {
                const auto v = reader.value();
                if (v == "none")
                    pages.window.reset();
                else if (const auto span = parse_span(v))
                    pages.window = *span;
                else
                    bad_value(opt, v, "a span like 30d, 12h or 2w, or none");
            } else if (opt == "--write-pages-port")
                pages.port = parse_number<std::uint16_t>(opt, reader.value(), 1, 65535);
            else if (opt == "--write-pages-keepalive-requests")
                pages.keepalive_requests =
                    parse_number<std::size_t>(opt, reader.value(), 1, 1'000'000'000);
            else if (opt == "--write-pages-rate-limit") {
                const auto whole = [&](std::string_view part) {
                    return parse_number<std::uint32_t>(opt, part, 1, 1'000'000);
                };
                split_pair(
                    opt, reader.value(), "R or R:B, whole requests/s and a burst >= 1",
                    [&](auto r) { pages.rate_limit = whole(r); },
                    [&](auto b) { pages.rate_burst = whole(b); });
            } else if (opt == "--write-pages-latency") {
                pages.latency = latency(opt, reader.value());
            } else if (opt == "--write-pages-ignore-time") {
                reader.no_value();
                ignore_time = true;
            } else if (opt == "--write-pages-foreground") {
                reader.no_value();
                pages.foreground = true;
            } else
                reader.unknown();
        } else
            reader.unknown();
    }
    if (!pages.dir.empty()) {
        if (ignore_time) {
            if (time_filter_given && cfg.jobs.window != sim::window_match::ignored)
                throw usage_error{"--write-pages-ignore-time and --time-filter contradict each "
                                  "other; give one"};
            cfg.jobs.window = sim::window_match::ignored;
        }
        if (cfg.jobs.unstable_order || cfg.jobs.huge_total)
            throw usage_error{
                std::string(cfg.jobs.unstable_order ? "--unstable-order" : "--huge-total") +
                " cannot be written as static pages (--write-pages): a static "
                "server serves one order and a finite number of pages"};
        if (pages.page_size > cfg.jobs.max_page_size)
            throw usage_error{"--write-pages-page-size " + std::to_string(pages.page_size) +
                              " is larger than --max-page-size " +
                              std::to_string(cfg.jobs.max_page_size)};
        pages.endpoint = cfg.jobs;
        out.write_pages = std::move(pages);
    } else if (!pages_option.empty()) {
        throw usage_error{std::string(pages_option) + " needs --write-pages DIR"};
    }
    // Without shared start times an unstable order shows nothing; rounded to the hour, ties
    // straddle most page boundaries of the default dataset (see jobs_endpoint_config).
    if (cfg.jobs.unstable_order && !granularity_given)
        cfg.dataset.start_time_granularity = std::chrono::hours(1);
    if (cfg.cert_file.empty() != cfg.key_file.empty())
        throw usage_error{"--cert and --key go together: give both or neither"};
    if (cfg.compression.raw_deflate && !cfg.compression.deflate)
        throw usage_error{"--raw-deflate needs deflate among the --compression codings"};
    if (tickets_given && !cfg.session_resumption)
        throw usage_error{"--tls-tickets and --no-session-resumption contradict each other; "
                          "give one"};
    return out;
}

} // namespace dynjobs::cli
