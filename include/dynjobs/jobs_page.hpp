// dynjobs/jobs_page.hpp - one decoded response of GET /dynamicsbackup/jobs.
#pragma once

#include <dynjobs/job.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dynjobs {

/// A page of jobs with the paging fields the server sent.
///
/// Every paging field is optional because the docs leave them open: a server may omit
/// totalCount, send nextLink as a relative link (the published one lacks the /dynamicsbackup
/// prefix), an absolute URL, an empty string, `null`, or not at all.
struct jobs_page {
    std::optional<std::int64_t> total_count; ///< "totalCount": jobs matching the whole query
    std::optional<std::string> next_link;    ///< "nextLink" verbatim; nullopt when null/absent
    std::optional<std::int64_t> page_index;  ///< "pageIndex": 1-based
    std::optional<std::int64_t> page_size;   ///< "pageSize": the size the server really used
    std::vector<job> jobs;                   ///< "jobs", in the server's order

    /// Empties the page but keeps the jobs vector's capacity, for reuse across pages.
    void clear() {
        total_count.reset();
        next_link.reset();
        page_index.reset();
        page_size.reset();
        jobs.clear();
    }

    /// Every field equal, the jobs compared in order.
    friend bool operator==(const jobs_page&, const jobs_page&) = default;
};

} // namespace dynjobs
