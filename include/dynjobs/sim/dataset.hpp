// dynjobs/sim/dataset.hpp - the simulator's deterministic set of organizations and jobs.
#pragma once

#include <dynjobs/export.hpp>
#include <dynjobs/job.hpp>
#include <dynjobs/job_status.hpp>
#include <dynjobs/job_type.hpp>
#include <dynjobs/organization_id.hpp>
#include <dynjobs/timestamp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dynjobs::sim {

/// A Dynamics 365 organization the simulated tenant backs up.
struct organization {
    organization_id id; ///< random version-4 GUID
    std::string name;   ///< unique, e.g. "contoso-sales"

    /// Same id and name.
    friend bool operator==(const organization&, const organization&) = default;
};

/// How the dataset is generated. The same config always yields the same dataset, on every
/// platform: the generator uses its own PRNG (xoshiro256**) and integer-only distributions.
struct dataset_config {
    /// Seed of every random choice. 42: any fixed value gives reproducible runs.
    std::uint64_t seed = 42;
    /// Number of organizations. 20 is a mid-sized tenant; it keeps org-filtered sets large.
    std::size_t organizations = 20;
    /// Number of jobs. 100,000 (about 137 a day over two years) makes paging and backfill
    /// realistic without costing more than ~100 ms to generate.
    std::size_t jobs = 100'000;
    /// Start times are spread over [begin, end). Default: the 730 days before `end`.
    timestamp begin = default_end() - std::chrono::days{730};
    /// The dataset's "now": jobs still running at `end` are in progress (status 2, no
    /// finishTime, no durationHours). Default 2026-01-01T00:00:00Z, fixed so runs are reproducible.
    timestamp end = default_end();
    /// Start times are rounded down to `begin` plus a multiple of this (finish times follow from
    /// the durations). 1 ms, the default, keeps them as drawn: nearly all distinct. 1 h makes
    /// many jobs share a start time, as scheduled jobs do, which is what an unstable sort order
    /// (jobs_endpoint_config::unstable_order) needs to show. Values below 1 ms count as 1 ms.
    std::chrono::milliseconds start_time_granularity{1};
    /// 0, the default: each organization's share of the jobs is drawn at random (1 to 10 parts).
    /// N >= 1: the first organization has N times the jobs of each other one, and the others
    /// share alike (a skewed tenant, for tests of work distribution). The jobs themselves are
    /// drawn the same way either way.
    unsigned busiest_organization_factor = 0;

    /// 2026-01-01T00:00:00Z.
    static constexpr timestamp default_end() {
        return timestamp{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}};
    }
};

/// Which jobs a time window [start, finish] selects. The API does not document it, and servers
/// differ, so each of these is playable. A reversed window (start > finish) selects nothing,
/// except under `ignored`.
enum class window_match {
    /// startTime in [start, finish], both ends inclusive. The default.
    start_time,
    /// The job's interval [startTime, finishTime] (finishTime = +infinity while in progress)
    /// intersects [start, finish], both ends inclusive.
    overlap,
    /// finishTime in [start, finish], both ends inclusive; a job in progress (no finishTime)
    /// never matches.
    finish_time,
    /// The window filters nothing: every job the other criteria select matches, as from a
    /// server that checks startTime and finishTime but does not filter on them.
    ignored,
};

/// A query over the dataset: what GET /dynamicsbackup/jobs filters on. Every member has a default
/// initializer, so `filter{job_type::backup, start, finish}` compiles without -Wextra warnings.
struct filter {
    /// job_type::all (0) matches every type; any other value matches exactly that value (types
    /// are NOT combined as bit flags: 3 matches nothing).
    job_type type = job_type::all;
    /// The time window, inclusive at both ends; see `window`.
    timestamp start{};
    timestamp finish{}; ///< the window's end; see start
    /// Exact status, or any status when nullopt.
    std::optional<job_status> status = std::nullopt;
    /// Exact organization, or every (visible) organization when nullopt.
    std::optional<organization_id> organization = std::nullopt;
    /// Organizations the client may see; nullptr = all. Not owned: must outlive the call.
    const std::set<organization_id>* visible = nullptr;
    /// How the window selects jobs.
    window_match window = window_match::start_time;
};

/// The brute-force predicate: does `j` match `f`? select() returns exactly the jobs for which
/// this holds, in the dataset's order. Exposed so tests can compare against it.
DYNJOBS_DECL bool matches(const filter& f, const job& j) noexcept;

/// One page of a filtered result, as returned by dataset::page().
struct page_view {
    /// Number of jobs matching the filter (the API's totalCount).
    std::size_t total = 0;
    /// The jobs of the page, in sort order. They point into the dataset and stay valid until its
    /// next modification (insert_matching, remove_first_matching).
    std::vector<const job*> jobs;
};

/// Organizations and jobs generated from a dataset_config, plus drift operations.
///
/// SORT ORDER (the order of jobs(), select() and page(), and so of every simulated response):
/// startTime descending (newest first), then jobId descending. jobIds are unique, so the order is
/// total and stable across requests. page_with_ties() plays a server whose order is not total.
///
/// Generated values: organizations with v4-like GUIDs and names like "contoso-sales"; module
/// "Customer Engagement" for most jobs; types weighted towards backup; statuses mostly finished
/// (3), some failed (4) and finished with exception (7); jobs still running at config.end are in
/// progress (2) with no finishTime and no durationHours. finishTime = startTime + duration and
/// durationHours = duration in ms / 3,600,000. For every finished job totalEntity =
/// successful + failed + skipped + warning entities (same for records); for running jobs the sums
/// are at most the totals. jobIds are 26 characters: a 4-letter prefix by type (DCIB backup,
/// DCRS restore, DCDR dry run, DCRT retention, DCAB audit backup, DCEX export), the start time as
/// yyyyMMddHHmmssfff and 5 digits, unique across the dataset (including drift insertions).
///
/// Performance: page() keeps the matching indices of recently used filters (a small LRU cache
/// keyed by the filter's values, cleared by every modification), so paging through a filter
/// costs one scan of the window for the first page and O(page size) for the others.
///
/// Thread safety: const member functions may be called concurrently (the cache has its own
/// mutex); insert_matching, remove_first_matching and finish_running need exclusive access (the
/// simulator serialises them with requests).
class dataset {
public:
    /// Generates the organizations and jobs `config` describes (deterministic, about 100 ms for
    /// the default 100,000 jobs).
    DYNJOBS_DECL explicit dataset(const dataset_config& config = {});
    DYNJOBS_DECL ~dataset();
    /// Takes over `other`'s data; `other` may then only be destroyed or assigned to.
    DYNJOBS_DECL dataset(dataset&&) noexcept;
    /// As the move constructor.
    DYNJOBS_DECL dataset& operator=(dataset&&) noexcept;

    /// The configuration it was generated from.
    DYNJOBS_DECL const dataset_config& config() const noexcept;
    /// Every organization, in generation order.
    DYNJOBS_DECL const std::vector<organization>& organizations() const noexcept;
    /// The organization with this id, or nullptr.
    DYNJOBS_DECL const organization* find_organization(const organization_id& id) const noexcept;
    /// Every job, in sort order.
    DYNJOBS_DECL const std::vector<job>& jobs() const noexcept;
    /// Incremented by every modification; lets callers detect drift.
    DYNJOBS_DECL std::uint64_t version() const noexcept;

    /// Every job matching `f`, in sort order: the ground truth for paging tests.
    DYNJOBS_DECL std::vector<job> select(const filter& f) const;
    /// Number of jobs matching `f`.
    DYNJOBS_DECL std::size_t count(const filter& f) const;
    /// Up to `limit` matching jobs starting at match number `offset` (0-based), and the total.
    /// An offset at or past the end gives an empty page with the right total.
    DYNJOBS_DECL page_view page(const filter& f, std::size_t offset, std::size_t limit) const;
    /// page() as served by a server whose sort key is startTime alone, like an SQL
    /// `ORDER BY startTime DESC OFFSET offset ROWS FETCH NEXT limit ROWS ONLY` that leaves ties
    /// to chance: jobs with the same startTime trade places in an order drawn from `tie_seed`
    /// (each seed gives one fixed permutation of every group of equal startTime). Paging with
    /// one seed therefore serves every match exactly once; pages served with different seeds
    /// can repeat one job and skip another where a group straddles the boundary between them.
    DYNJOBS_DECL page_view page_with_ties(const filter& f, std::size_t offset, std::size_t limit,
                                          std::uint64_t tie_seed) const;

    /// Drift: adds a new job that matches `f` and sorts first among its matches. Its startTime:
    /// - start_time and overlap: 1 ms after the newest match, or `f.finish` when there is none
    ///   or that would leave the window;
    /// - finish_time: 1 ms after the newest match (at most `f.finish` - 1 ms), or `f.finish` -
    ///   1 ms when there is none; its duration is then cut so that it finishes inside the
    ///   window. A filter asking for status in_progress can match nothing under finish_time:
    ///   the job is then inserted in progress at `f.finish`, and does not match;
    /// - ignored: 1 ms after the newest match, or `f.finish` when there is none.
    /// Type, status and organization follow the filter where it fixes them (else backup,
    /// finished, the first visible organization). Returns the stored job.
    /// Edge case: if the newest match already starts where the new job must start, with a larger
    /// jobId than any the new job can take, the new job sorts right after it.
    /// Precondition: f.start <= f.finish, and f.organization (if set) is visible.
    DYNJOBS_DECL const job& insert_matching(const filter& f);

    /// Drift: removes the first job (in sort order) matching `f` and returns it, or nullopt when
    /// nothing matches.
    DYNJOBS_DECL std::optional<job> remove_first_matching(const filter& f);

    /// The clock moves on to `now`: every job in progress whose run (a duration of 1 minute to
    /// 6 hours, fixed per jobId) ends by `now` finishes then, as a polled tenant sees its running
    /// jobs finish. A tenth of them (by jobId) fail, the others finish; their counters and
    /// backupSize become final. Start times and jobIds stay, so the order and every window a job
    /// belongs to by startTime stay too. Returns the jobs it finished. For sync tests and a
    /// live `dynjobs sim`.
    DYNJOBS_DECL std::vector<job> finish_running(timestamp now);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace dynjobs::sim
