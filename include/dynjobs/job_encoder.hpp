// dynjobs/job_encoder.hpp - writes jobs and pages as the API's JSON.
#pragma once

#include <dynjobs/export.hpp>
#include <dynjobs/job.hpp>
#include <dynjobs/jobs_page.hpp>

#include <string>

namespace dynjobs {

/// Appends `j` as one compact JSON object with the API's field names, in the API's order.
/// Timestamps as ISO 8601 UTC (format_iso8601), doubles in their shortest exact form, optional
/// fields that are empty as `null`. decode(encode(x)) == x for every job the decoder accepts:
/// non-empty job_id and organization, counters >= 0, finite duration_hours, valid UTF-8 strings,
/// years 0001-9999.
DYNJOBS_DECL void append_job_json(std::string& out, const job& j);

/// Appends a whole page: totalCount, nextLink, jobs, pageIndex, pageSize (absent optionals are
/// written as null, except totalCount/pageIndex/pageSize which are omitted when absent).
DYNJOBS_DECL void append_page_json(std::string& out, const jobs_page& page);

} // namespace dynjobs
