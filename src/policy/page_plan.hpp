// src/policy/page_plan.hpp - which pages a fetch requests, and when it is complete.
#pragma once

#include "policy/dedupe_set.hpp"

#include <dynjobs/fetch_request.hpp>
#include <dynjobs/jobs_page.hpp>
#include <dynjobs/timestamp.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dynjobs::policy {

/// A page to request.
struct page_ref {
    std::size_t segment = 0;      ///< index into the plan's segments
    std::int64_t page_index = 1;  ///< 1-based
    std::int64_t page_size = 0;   ///< the size to ask for
    std::uint32_t generation = 0; ///< bumped each time a segment is fetched again
    /// When the server gives no totalCount, the next page is the one its nextLink names: this
    /// holds that link's query string (its path is not used: the published one lacks the
    /// /dynamicsbackup prefix).
    std::optional<std::string> next_link_query;
};

/// What on_page concluded.
enum class page_verdict {
    accepted, ///< the page fits the plan
    stale,    ///< from an older generation of its segment: its jobs still count, nothing else
    refetch,  ///< the pages contradict each other (drift): the segment starts again from page 1
    /// Every page came but fewer distinct jobs than totalCount (a skip between pages): the
    /// segment is paged again, one page at a time, keeping the jobs it already found.
    refetch_incomplete,
    failed, ///< the segment failed for good: see failure()
};

/// Why a segment failed for good.
enum class segment_failure_reason {
    none,
    drift_unresolved,    ///< totalCount or the pages kept moving, past max_drift_refetches
    incomplete,          ///< fewer distinct jobs than totalCount, past the completeness refetches
    invalid_next_link,   ///< a nextLink that does not parse, has no query, or repeats a page
    total_not_believable ///< totalCount would take more than max_pages_per_window pages
};

struct segment_failure {
    segment_failure_reason reason = segment_failure_reason::none;
    /// One sentence on what was seen ("page 7 returned 3 jobs where totalCount 700 promises 100").
    std::string detail;
    /// For `incomplete`: how many of totalCount's jobs never came.
    std::int64_t missing = 0;
};

/// Bounds on how hard a plan tries before it declares a segment failed.
struct page_plan_limits {
    /// Refetches of a window whose pages contradict each other (totalCount moved, a page shorter
    /// than planned, pages repeating only jobs already seen). 3 rides out a few live changes.
    unsigned max_drift_refetches = 3;
    /// Refetches of a window whose pages all came but held fewer distinct jobs than totalCount
    /// (unstable order between requests). Each pass adds what it finds, with larger pages.
    unsigned max_completeness_refetches = 3;
    /// A totalCount needing more pages than this is not believed (a server answering 10^15).
    /// 1,000,000 pages is 100 million jobs at the default page size: beyond any organization.
    std::int64_t max_pages_per_window = 1'000'000;
    /// Pages before the last that bring no job not already returned in this pass: after this
    /// many the pass counts as drift (a server repeating one page whatever pageIndex says).
    unsigned max_repeated_pages = 2;
};

/// The page plan of one fetch: organizations x windows x pages.
///
/// Per segment, page 1 goes first; its totalCount sizes the segment and pages 2..N may then go
/// concurrently. When the server answers fewer jobs per page than asked (a silent cap) the rest
/// is planned with the size it really used. Without totalCount, pages follow the nextLink chain
/// one at a time; a nextLink that does not parse or repeats an earlier page fails the segment.
///
/// Checks, none of which trusts totalCount alone:
/// - drift: totalCount changes between pages, a page before the last is short, or pages only
///   repeat jobs already returned: the segment starts again from page 1 (max_drift_refetches);
///   a window that drifted once is verified by asking page 1 once more at its end;
/// - completeness: when the last page of a pass arrives, the distinct jobs returned (over every
///   pass since totalCount last changed) must reach totalCount, else the segment is paged again,
///   one page at a time, with pages 4 times larger each pass up to 1,000 jobs (fewer boundaries
///   for an unstable order to skip at), then a little smaller each pass (985, 955, 910...: a tie
///   that straddled a boundary rarely straddles the moved one), then failed naming the missing
///   count.
///
/// Merging: merge_from() turns an organization's unfinished windows into one segment that asks
/// for the whole rest of the range (for a server that ignores the time filter: one window costs
/// as much as all). Merged segments are never requested; they settle with the one they joined.
///
/// Pages of a superseded generation that were not sent yet are abandoned (is_current() turns
/// false) rather than sent.
///
/// Socket-free and single-threaded: the engine calls it from its strand.
class page_plan {
public:
    /// `spill`: the budget of each segment's set of returned jobIds (none: all in memory).
    page_plan(std::size_t org_slots, std::size_t windows, std::int64_t page_size,
              page_plan_limits limits = {}, const dedupe_spill& spill = {});

    std::size_t segment_count() const noexcept { return segments_.size(); }
    std::size_t window_count() const noexcept { return windows_; }
    segment_key key(std::size_t segment) const noexcept;
    std::size_t segment_of(segment_key key) const noexcept;

    /// Marks a segment as already done (resume): it is never requested.
    void skip(std::size_t segment);

    /// Merges every window of `org_slot` from the first one not yet complete onwards (complete
    /// ones excepted) into that first one, which starts again and from then on asks for the
    /// time from its own start to the end of the range (last_window()). Pages in flight for
    /// any of them become stale. No-op when nothing of the organization is left to fetch.
    void merge_from(std::size_t org_slot);
    /// The segment whose requests fetch `segment`'s jobs: itself, or the one it was merged into.
    std::size_t delegate(std::size_t segment) const noexcept;
    /// The last window a segment's requests cover: its own, or the range's last after a merge.
    std::size_t last_window(std::size_t segment) const noexcept;

    /// The next page that may be requested now, preferring pages of segments already started
    /// (to finish them and free their memory) over opening new ones; nullopt when nothing can
    /// be requested until a page completes. `org_has_room(org_slot)` applies the per-org limit.
    template <class OrgHasRoom>
    std::optional<page_ref> next(OrgHasRoom&& org_has_room);

    /// A page arrived (already decoded). Updates the segment; may release more pages.
    page_verdict on_page(const page_ref& page, const jobs_page& body);
    /// A page was given up. Its segment is failed: it will not complete.
    void on_failure(const page_ref& page);
    /// The server refused the page's size (a 400 naming pageSize): the segment starts again
    /// with half that size, and segments not yet opened start with it too. False when the size
    /// was already 1 (nothing smaller to ask for).
    bool halve_page_size(const page_ref& page);
    /// False once the page's generation was superseded (or its segment ended): do not send it.
    bool is_current(const page_ref& page) const noexcept;
    /// A page handed out and then not sent (see is_current).
    void abandon(const page_ref& page);

    /// True when every segment is complete or failed, and no page is outstanding.
    bool done() const noexcept;
    /// True when the segment is complete or failed and none of its pages is outstanding: its
    /// dedupe memory can go.
    bool settled(std::size_t segment) const noexcept;
    bool complete(std::size_t segment) const noexcept;
    /// True when `delegate` and every segment merged into it are settled: nothing more can
    /// arrive for the jobs they share.
    bool group_settled(std::size_t delegate) const noexcept;
    /// Why a failed segment failed (reason none otherwise).
    const segment_failure& failure(std::size_t segment) const noexcept;
    /// The segments that an event on `segment` (its page came, failed or was abandoned) may
    /// have settled: itself, the segment it was merged into, and the others merged into that;
    /// each settled one is returned once over the plan's life, never a skipped one.
    std::vector<std::size_t> take_settled(std::size_t segment);

    std::uint64_t pages_planned() const noexcept { return pages_planned_; }
    std::uint64_t drift_refetches() const noexcept { return drift_refetches_; }
    std::uint64_t completeness_refetches() const noexcept { return completeness_refetches_; }

private:
    enum class phase {
        first_pending,
        first_in_flight,
        paging,
        following_links,
        verify_pending, ///< a refetched window is complete; page 1 is asked once more
        verify_in_flight,
        complete,
        failed,
        merged ///< fetched by another segment (delegate)
    };
    struct segment {
        phase state = phase::first_pending;
        std::uint32_t generation = 0;
        unsigned drifts = 0;
        unsigned completeness_passes = 0;
        unsigned repeated_pages = 0;        ///< of the current generation
        bool sequential = false;            ///< one page at a time (a completeness refetch)
        bool reported = false;              ///< take_settled() has returned it
        std::size_t delegate = 0;           ///< itself unless merged
        std::vector<std::size_t> merged_in; ///< the segments merged into this one
        std::size_t last_window = 0;        ///< the last window its requests cover
        std::int64_t total = 0;
        std::int64_t page_size = 0;
        /// The size each pass starts from: the plan's, or less after the server refused it.
        std::int64_t base_page_size = 0;
        /// The smallest page a server served when asked for more (a silent cap); 0 before any.
        std::int64_t silent_cap = 0;
        std::int64_t page_count = 0;      ///< N, once sized
        std::int64_t next_page = 2;       ///< next page of 2..N to hand out
        std::int64_t pages_done = 0;      ///< of the current generation, page 1 included
        std::size_t outstanding = 0;      ///< pages handed out and not yet back, any generation
        std::optional<std::string> link;  ///< following_links: the next page's query
        std::set<std::string> links_seen; ///< following_links: queries already requested
        dedupe_set returned;              ///< distinct jobIds returned since totalCount last moved
        segment_failure failure;
    };

    std::optional<page_ref> take(std::size_t index);
    page_verdict drifted(segment& s, std::string detail);
    page_verdict fail(segment& s, segment_failure_reason reason, std::string detail);
    void restart(segment& s);
    page_verdict page_completed(segment& s);
    page_verdict follow_link(segment& s, const jobs_page& body);
    std::size_t count_new(segment& s, const jobs_page& body);
    bool ended(std::size_t index) const noexcept;

    std::size_t org_slots_;
    std::size_t windows_;
    std::int64_t page_size_;       ///< for segments not yet opened (lowered by refusals)
    std::int64_t page_size_asked_; ///< the request's page size
    page_plan_limits limits_;
    std::vector<segment> segments_;
    /// Opened segments that may still hand out pages, oldest first.
    std::vector<std::size_t> active_;
    std::size_t first_unopened_ = 0;
    std::uint64_t pages_planned_ = 0;
    std::uint64_t drift_refetches_ = 0;
    std::uint64_t completeness_refetches_ = 0;
};

template <class OrgHasRoom>
std::optional<page_ref> page_plan::next(OrgHasRoom&& org_has_room) {
    // Opened segments first, oldest first; finished ones leave the list as they are met.
    for (std::size_t a = 0; a < active_.size();) {
        const std::size_t i = active_[a];
        const phase state = segments_[i].state;
        if (state == phase::complete || state == phase::failed || state == phase::merged) {
            active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(a));
            continue;
        }
        if (org_has_room(key(i).org_slot))
            if (auto page = take(i))
                return page;
        ++a;
    }
    while (first_unopened_ < segments_.size()) {
        const std::size_t i = first_unopened_;
        if (segments_[i].state != phase::first_pending) { // skipped, merged, or reopened
            ++first_unopened_;
            continue;
        }
        if (!org_has_room(key(i).org_slot))
            return std::nullopt;
        ++first_unopened_;
        active_.push_back(i);
        return take(i);
    }
    return std::nullopt;
}

} // namespace dynjobs::policy
