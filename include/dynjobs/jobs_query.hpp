// dynjobs/jobs_query.hpp - the query parameters of GET /dynamicsbackup/jobs.
#pragma once

#include <dynjobs/diagnostics.hpp>
#include <dynjobs/export.hpp>
#include <dynjobs/job_status.hpp>
#include <dynjobs/job_type.hpp>
#include <dynjobs/organization_id.hpp>
#include <dynjobs/timestamp.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dynjobs {

/// One request's filters and paging. Build it, call validate(), then target().
struct jobs_query {
    /// Smallest and largest page size validate() accepts. The API documents no maximum; servers
    /// may cap silently or answer 400, which the engine handles. 10,000 bounds a single response.
    static constexpr std::int64_t max_page_size = 10'000;

    std::optional<job_type> type;                ///< "type": required; a documented value
    std::optional<timestamp> start_time;         ///< "startTime": required, before finish_time
    std::optional<timestamp> finish_time;        ///< "finishTime": required
    std::optional<job_status> status;            ///< "status": optional; a documented value
    std::optional<organization_id> organization; ///< "organizationId": optional; a real GUID
    std::int64_t page_index = 1;                 ///< "pageIndex": 1-based
    /// "pageSize". The API's default is 10; 100 keeps requests few while a page stays ~60 KB.
    std::int64_t page_size = 100;

    /// Checks every field in declaration order and reports the first bad one:
    /// returns errc::invalid_argument with diag.field = the API parameter name ("startTime"),
    /// diag.value = the value as text, and diag.message a sentence naming both.
    DYNJOBS_DECL boost::system::error_code validate(diagnostics& diag) const;

    /// The request target: `path` followed by the query string, every value percent-encoded as
    /// needed (built with Boost.URL). Parameters are written in a fixed order: pageIndex,
    /// pageSize, type, startTime, finishTime, status, organizationId. Precondition: validate()
    /// succeeded.
    DYNJOBS_DECL std::string target(std::string_view path = "/dynamicsbackup/jobs") const;
};

} // namespace dynjobs
