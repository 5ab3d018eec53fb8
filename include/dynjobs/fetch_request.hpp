// dynjobs/fetch_request.hpp - what one fetch asks for.
#pragma once

#include <dynjobs/diagnostics.hpp>
#include <dynjobs/export.hpp>
#include <dynjobs/job_status.hpp>
#include <dynjobs/job_type.hpp>
#include <dynjobs/organization_id.hpp>
#include <dynjobs/time_filter.hpp>
#include <dynjobs/timestamp.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace dynjobs {

namespace policy {
/// One organization slot and one time window: the unit that is sized by its first page and then
/// paged. `org_slot` indexes the fetch's organization list (a single slot when unfiltered).
struct segment_key {
    std::size_t org_slot = 0; ///< index into fetch_request::organizations (0 when unfiltered)
    std::size_t window = 0;   ///< index into fetch_request::windows()
    /// Same organization slot and window.
    friend bool operator==(const segment_key&, const segment_key&) = default;
};

} // namespace policy

/// What a fetch does when a page fails for good (after its retries).
enum class failure_policy {
    /// End the stream with that page's error at once, cancelling the rest. For services that
    /// would rather retry the whole fetch later.
    stop,
    /// Go on with every other page; end the stream with errc::pages_failed and list the failed
    /// pages in job_stream::failures(). For backfills, which should get all they can.
    go_on,
};

/// The jobs to fetch: the query filters, the organizations, how to split time, and how to fail.
struct fetch_request {
    job_type type = job_type::all;    ///< "type"; `all` (0) fetches every type
    std::optional<job_status> status; ///< "status"; none = every status
    timestamp start{};                ///< "startTime" of the whole range (required)
    timestamp finish{};               ///< "finishTime" of the whole range (required)
    /// One query per organization ("organizationId"); empty = one unfiltered query over every
    /// organization the app may see. Duplicates are refused.
    std::vector<organization_id> organizations;
    /// Split [start, finish] into windows of this length, each paged on its own: smaller result
    /// sets (less exposure to data moving while paging), more parallelism, finer resume points.
    /// None: one window.
    std::optional<std::chrono::milliseconds> window;
    /// Jobs per page asked for ("pageSize"). If the server caps it silently, the fetch adapts.
    std::int64_t page_size = 100;
    /// Stop at the first page given up, or go on and report every failed page at the end.
    failure_policy on_failure = failure_policy::stop;
    /// The whole fetch must end within this; none = no deadline. Waits the server asks for that
    /// would pass it fail at once (errc::deadline_exceeded) instead of sleeping first.
    std::optional<std::chrono::milliseconds> deadline;
    /// What the server's time filter selects (see time_filter.hpp). auto_detect (the default)
    /// infers it from the jobs returned; a stated one that the jobs contradict is reported
    /// (fetch_event_kind::time_filter_contradicted) and the fetch follows the jobs.
    time_filter server_time_filter = time_filter::auto_detect;
    /// How often one window may be fetched again because its pages contradicted each other
    /// (totalCount moved, a short or repeated page), before it is reported as failed
    /// (errc::drift_unresolved).
    unsigned max_drift_refetches = 3;
    /// How often a window whose pages held fewer distinct jobs than totalCount is paged again
    /// before it is reported as failed (errc::incomplete_window). 3: see page_plan_limits.
    unsigned max_completeness_refetches = 3;
    /// A totalCount that would take more pages than this is refused (errc::implausible_total).
    std::int64_t max_pages_per_window = 1'000'000;
    /// Segments (organization slot, window) already fetched, for resuming: never requested.
    std::vector<policy::segment_key> skip;

    /// Checks every field before any request: type and status documented, start before finish,
    /// organizations real GUIDs without duplicates, window positive, page size in range.
    /// errc::invalid_argument with diag.field naming the field and diag.value its value.
    DYNJOBS_DECL boost::system::error_code validate(diagnostics& diag) const;

    /// The windows the range splits into, in time order: [start + i*window, start + (i+1)*window),
    /// the last one ending at finish.
    DYNJOBS_DECL std::vector<std::pair<timestamp, timestamp>> windows() const;
};

} // namespace dynjobs
