// src/sim/static_pages.hpp - the dataset written out as files, and an nginx configuration
// that serves them, so that a client can be tested against a server that is not the simulator.
//
// Each file is a response body exactly as the simulator writes it for the same query
// (respond_page), so a client backfilling from nginx must get what it gets from `dynjobs sim`.
// A static server cannot filter, so only the queries a backfill with matching arguments sends
// are written (matching_backfill_arguments() lists those arguments); any other query is a 404.
//
// Thread safety: free functions with no shared state; the dataset is only read.
#pragma once

#include "sim/jobs_endpoint.hpp"

#include <dynjobs/diagnostics.hpp>
#include <dynjobs/sim/dataset.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dynjobs::sim {

/// What write_static_pages() writes.
struct static_pages_config {
    /// The folder everything goes into, created if missing; required. Its absolute path is
    /// written into nginx.conf, so the folder must not move afterwards, and it may only hold
    /// letters, digits and / . _ - + @ , = (nginx would read other characters as syntax).
    std::filesystem::path dir;
    /// pageSize of every page written: 100, dynjobs backfill's default --page-size. At most
    /// endpoint.max_page_size.
    std::int64_t page_size = 100;
    /// The windows startTime..finishTime the range is cut into, from the dataset's begin (the
    /// last one ends at the dataset's end): 30 days, dynjobs backfill's default --window. nullopt
    /// = one window over the whole range. A whole number of seconds (nginx matches the times
    /// without fractions).
    std::optional<std::chrono::milliseconds> window = std::chrono::days{30};
    /// How the simulator's endpoint answers, and so what the pages say: the time filter, the
    /// nextLink style. With window_match::ignored one set of pages is written per organization
    /// and nginx serves it whatever startTime and finishTime say (the pages' nextLinks then
    /// carry the dataset's range: the one difference from the simulator, which echoes the
    /// request's times). unstable_order and huge_total cannot be written (one order; endless
    /// pages): write_static_pages() refuses them.
    jobs_endpoint_config endpoint;
    /// nginx listens on 127.0.0.1 at this port, with TLS: 8443.
    std::uint16_t port = 8443;
    /// nginx's keepalive_requests: requests on one connection before nginx closes it. 100,
    /// nginx's own default.
    std::size_t keepalive_requests = 100;
    /// Writes `daemon off;`, so that nginx stays in the foreground (for a harness that waits on
    /// its process). false, nginx's default: it detaches.
    bool foreground = false;
    /// Requests per second nginx serves the jobs pages at, per client address (limit_req): 0,
    /// no limit. Beyond it nginx answers 429 with `Retry-After: 1` and a JSON error body, as
    /// `dynjobs sim --rate-limit` does: a rate limiter the client did not meet in the simulator
    /// (nginx's leaky bucket counts in milliseconds and always says 1 s).
    std::uint32_t rate_limit = 0;
    /// With rate_limit: requests accepted at once after an idle spell, as the simulator's burst
    /// (nginx's `burst` is the excess over the first request: this less one). 10, as the
    /// simulator's default.
    std::uint32_t rate_burst = 10;
    /// Added before every answer (the token, each page, each 404 and 429), as `dynjobs sim
    /// --latency` adds it: 0, none. nginx waits on a timer (the echo module's echo_sleep) and
    /// spends no CPU meanwhile, so a client's latency hiding can be measured without a server
    /// that shares its cores. Whole milliseconds, up to 600 s.
    std::chrono::milliseconds latency{0};
    /// The echo module nginx loads for `latency`: Debian's libnginx-mod-http-echo, which
    /// nginx-light (scripts/setup) depends on. Unused without a latency.
    std::filesystem::path echo_module = "/usr/lib/nginx/modules/ngx_http_echo_module.so";
    /// Validity of the generated certificates, in days: 30, as the simulator's.
    int cert_validity_days = 30;
};

/// What write_static_pages() wrote.
struct static_pages_summary {
    std::size_t page_files = 0; ///< response bodies written
    /// Windows per organization: 1 with window_match::ignored (the pages serve any window).
    std::size_t windows = 0;
    /// Organization filters: one per organization, plus the query without organizationId.
    std::size_t organization_filters = 0;
    std::filesystem::path dir;         ///< the folder, absolute
    std::filesystem::path config_file; ///< <dir>/nginx.conf
    std::filesystem::path ca_file;     ///< <dir>/ca.pem, the CA a client must trust
};

/// Writes into config.dir:
/// - `pages/0/<pageSize>/<org>/<start>_<finish>/<pageIndex>.json`: the body the simulator
///   answers to `GET /dynamicsbackup/jobs?pageIndex=<pageIndex>&pageSize=<pageSize>&type=0&
///   startTime=<start>&finishTime=<finish>[&organizationId=<org>]`, for every window, every
///   page of it and the first page past its end (empty, as the simulator answers it; a later
///   one is a 404 where the simulator answers 200). `<org>` is the organization's lower-case
///   GUID, or `all` for the query without organizationId; times are written compact
///   (2024-01-02T00:00:00Z is 20240102T000000Z). With window_match::ignored:
///   `pages/0/<pageSize>/<org>/<pageIndex>.json`, one set for any window.
/// - `errors/404.json`: the JSON body of every query that has no page.
/// - `ca.pem`, `server.pem`, `server-key.pem` (mode 0600): a fresh CA and a server certificate
///   for localhost and 127.0.0.1, as the simulator makes.
/// - `nginx.conf`, for nginx 1.22 (Debian 12) run as any user from any folder:
///   `nginx -p <dir> -c <dir>/nginx.conf -e <dir>/error.log`, stopped with the same command and
///   `-s stop`. TLS 1.2 and 1.3 on 127.0.0.1:port, keepalive_requests as configured, one
///   worker; pid file, logs and temporary folders inside dir; `POST /connect/token` answers
///   a fixed bearer token to any client; `/dynamicsbackup/jobs` maps the query's arguments
///   (their raw text: ':' or %3A in times, no status, type 0, lower-case organizationId,
///   pageIndex default 1, pageSize default 10) onto the files above; anything else is a 404.
/// Errors: invalid configuration (errc::invalid_argument, diag.field names the member), files
/// (system category, diag.message names the file), certificates (as generate_server_pki).
boost::system::error_code write_static_pages(const dataset& data, const static_pages_config& config,
                                             static_pages_summary& summary, diagnostics& diag);

/// The `dynjobs backfill` arguments whose queries are exactly the written pages:
/// `--base-url https://127.0.0.1:<port> --ca-file <dir>/ca.pem --client-id dynjobs-static-pages
/// --since <dataset begin> --until <dataset end> --window <window, e.g. 30d, or none>
/// --page-size <page_size>`. The client secret may be anything (nginx checks none): set
/// DYNJOBS_CLIENT_SECRET to any value. Adding --org GUID (lower case) keeps them matching.
std::vector<std::string> matching_backfill_arguments(const dataset& data,
                                                     const static_pages_config& config);

} // namespace dynjobs::sim
