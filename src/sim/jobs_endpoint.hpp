// src/sim/jobs_endpoint.hpp - GET /dynamicsbackup/jobs without sockets.
#pragma once

#include <dynjobs/organization_id.hpp>
#include <dynjobs/sim/dataset.hpp>
#include <dynjobs/sim/faults.hpp>
#include <dynjobs/sim/jobs_endpoint_config.hpp>

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
