// dynjobs/sim/jobs_endpoint_config.hpp - how a simulator's jobs endpoint answers what the
// published API leaves open.
#pragma once

#include <dynjobs/sim/dataset.hpp>

#include <cstdint>

namespace dynjobs::sim {

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

} // namespace dynjobs::sim
