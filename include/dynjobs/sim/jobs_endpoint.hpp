// dynjobs/sim/jobs_endpoint.hpp - GET /dynamicsbackup/jobs without sockets.
#pragma once

#include <dynjobs/organization_id.hpp>
#include <dynjobs/sim/dataset.hpp>
#include <dynjobs/sim/fault_plan.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dynjobs::sim {

/// A response for the transport to send. The body is JSON (the Content-Type header is in
/// `headers`); the transport adds Content-Length, Date, Connection and the like.
struct http_reply {
    unsigned status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

/// What `nextLink` looks like on a page that has a successor. The docs leave it open.
enum class next_link_style {
    /// As in the published sample: "/jobs?pageIndex=2&pageSize=5&startTime=...", relative and
    /// WITHOUT the /dynamicsbackup prefix. The default.
    published,
    /// A full URL: "<base_url>/dynamicsbackup/jobs?pageIndex=2&...".
    absolute,
    /// Always `"nextLink":null`, even when more pages follow.
    null,
    /// Always `"nextLink":""`.
    empty,
    /// The nextLink field is never written.
    omitted,
};

/// What `nextLink` looks like on the last page (and past it) for the styles published and
/// absolute. The styles null, empty and omitted apply to every page.
enum class last_link_style {
    null,    ///< `"nextLink":null`. The default.
    empty,   ///< `"nextLink":""`
    omitted, ///< no nextLink field
};

/// What happens when pageSize exceeds jobs_endpoint_config::max_page_size.
enum class oversize_page {
    /// Serve max_page_size jobs and answer pageSize = max_page_size in the body. The default.
    cap,
    /// 400 naming pageSize.
    reject,
};

/// Behaviour of the endpoint for everything the published page leaves open.
struct jobs_endpoint_config {
    /// Largest page served. The real limit is undocumented; 1000 keeps one response under about
    /// 600 KB while a client asking for 100-1000 jobs a page is served as asked.
    std::int64_t max_page_size = 1000;
    /// Cap silently (default) or reject oversize pages.
    oversize_page oversize = oversize_page::cap;
    /// nextLink on pages that have a successor: as published (default).
    next_link_style link_style = next_link_style::published;
    /// nextLink on the last page: null (default), as a real server most plausibly does.
    last_link_style last_link = last_link_style::null;
    /// How the time window selects jobs: by start time (the default, the most plausible reading
    /// of the published page), by overlap, by finish time, or not at all (see window_match).
    window_match window = window_match::start_time;
    /// Sort by startTime alone, ties in a new order for every request
    /// (dataset::page_with_ties with a fresh jobs_request::tie_seed), as a SQL server paging
    /// with `ORDER BY startTime OFFSET ...` does: concurrent pages can repeat one job and skip
    /// another. Needs jobs sharing a start time to show: pair it with
    /// dataset_config::start_time_granularity (1 h: see `dynjobs sim --unstable-order`). With
    /// the default dataset rounded to the hour, 30-day windows and 100 jobs a page, each page
    /// fetched by its own request: without organizationId 82% of page boundaries fall inside a
    /// group of equal startTime, every window loses jobs, 1,090 of 100,124 in all; with one
    /// organization a query, 17% of boundaries, 60 of 500 windows lose jobs, 64 in all (test
    /// sim_unstable_order/pages_fetched_with_different_seeds_skip_and_repeat_jobs). false, the
    /// default: the total order of dataset.hpp, the same for every request.
    bool unstable_order = false;
    /// Lie about totalCount: every page says totalCount huge_total_count (10^15) and holds one
    /// job (pageSize forced to 1: page N holds the Nth job, as with a stable order; past the last
    /// job, none), and every page has a nextLink. Tests a client that must not trust
    /// totalCount. false, the default.
    bool huge_total = false;
};

/// The totalCount of jobs_endpoint_config::huge_total and of the huge-total fault: 10^15.
inline constexpr std::uint64_t huge_total_count = 1'000'000'000'000'000;

/// A validated request: the filter and the paging asked for.
struct jobs_request {
    filter where;                ///< type, window, status, organization, visible set
    std::int64_t page_index = 1; ///< as asked, >= 1
    std::int64_t page_size = 10; ///< as served: already capped to max_page_size (1 huge_total)
    /// With unstable_order: the order of ties for this request. parse() draws a new one each
    /// time; a test may set one to page in a fixed order.
    std::uint64_t tie_seed = 0;
};

/// The socket-free handler of GET /dynamicsbackup/jobs over a dataset it owns.
///
/// Query rules (all of the published page, checked in full; every failure is collected and the
/// reply is 400 with a body in the style of sibling AvePoint endpoints:
/// `{"statusCode":400,"message":"<first error>","errors":{"<param>":["<msg>"]},"requestId":"...",
/// "traceId":"..."}`):
/// - parameter names are case-insensitive (as ASP.NET binds them); values are percent-decoded;
///   unknown parameters are ignored; a parameter given twice is a 400 naming it;
/// - pageIndex: optional, default 1, a decimal int32 >= 1;
/// - pageSize: optional, default 10, a decimal int32 >= 1; above max_page_size it is capped or
///   rejected as configured;
/// - type: required, one of 0, 1, 2, 4, 8, 16, 32 (numbers only; 0 = all, the others exact);
/// - startTime, finishTime: required, ISO 8601 (parse_iso8601); startTime <= finishTime (equal is
///   allowed: the window is inclusive at both ends), else 400 naming finishTime;
/// - status: optional (an empty value counts as absent), one of 2, 3, 4, 7;
/// - organizationId: optional (empty counts as absent), a GUID; one the client may not see is a
///   403 with a JSON body. An unknown but visible (visible == nullptr) GUID just matches nothing.
/// A path other than /dynamicsbackup/jobs (case-insensitive, trailing slash allowed) is a 404.
///
/// Success: 200 `{"totalCount":N,"nextLink":...,"jobs":[...],"pageIndex":i,"pageSize":s}` with
/// the jobs in the dataset's sort order (see dataset.hpp). A page past the end is 200 with no
/// jobs and the real totalCount. respond_page() writes it.
///
/// Thread safety: handle(), parse() and respond() may run concurrently with each other; access
/// to data() for modification (drift) needs exclusive access, as for dataset.
class jobs_endpoint {
public:
    explicit jobs_endpoint(dataset data, jobs_endpoint_config config = {});

    /// Parses and answers one request target ("/dynamicsbackup/jobs?pageIndex=1&...").
    /// `visible`: organizations the client may see (nullptr = all); must outlive the call.
    /// `base_url`: scheme and authority ("https://127.0.0.1:8443"), for absolute next links.
    http_reply handle(std::string_view target, const std::set<organization_id>* visible,
                      std::string_view base_url);

    /// The first half of handle(): a validated request, or the error reply (400, 403, 404).
    /// Lets the simulator apply drift to the request's filter before responding.
    std::variant<jobs_request, http_reply> parse(std::string_view target,
                                                 const std::set<organization_id>* visible);

    /// The second half of handle(): the 200 reply for a validated request, as respond_page()
    /// writes it over data() with config().
    http_reply respond(const jobs_request& request, std::string_view base_url,
                       fault_kind distortion = fault_kind::none) const;

    dataset& data() noexcept { return data_; }
    const dataset& data() const noexcept { return data_; }
    const jobs_endpoint_config& config() const noexcept { return config_; }

private:
    dataset data_;
    jobs_endpoint_config config_;
};

/// The 200 reply to `request` over `data`, as an endpoint configured with `config` writes it;
/// `base_url` is the scheme and authority of absolute next links. `distortion` makes it lie as
/// the fault of that kind says (no_jobs_body, repeat_link, bad_link, huge_total, short_page,
/// html_body; any other kind changes nothing). repeat_link and bad_link write their nextLink on
/// every page, the last one too, whatever the link style (repeat_link as an absolute URL with
/// next_link_style::absolute, else in the published form). Also how dynjobs sim --write-pages
/// writes its files, so that a static server answers byte for byte what the simulator does.
http_reply respond_page(const dataset& data, const jobs_endpoint_config& config,
                        const jobs_request& request, std::string_view base_url,
                        fault_kind distortion = fault_kind::none);

/// The JSON error body used by the simulator's endpoints, in the style of sibling AvePoint
/// endpoints: {"statusCode":S,"message":M,"errors":{...},"requestId":"...","traceId":"..."}.
/// `errors` pairs a parameter with its messages; an empty list omits the "errors" member.
/// requestId and traceId are fresh random-looking ids.
std::string error_body(unsigned status, std::string_view message,
                       const std::vector<std::pair<std::string, std::string>>& errors = {});

} // namespace dynjobs::sim
