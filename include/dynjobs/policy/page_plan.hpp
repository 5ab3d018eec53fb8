// dynjobs/policy/page_plan.hpp - which pages a fetch requests, and when it is complete.
#pragma once

#include <dynjobs/jobs_page.hpp>
#include <dynjobs/timestamp.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dynjobs::policy {

/// One organization slot and one time window: the unit that is sized by its first page and then
/// paged. `org_slot` indexes the fetch's organization list (a single slot when unfiltered).
struct segment_key {
    std::size_t org_slot = 0;
    std::size_t window = 0;
    friend bool operator==(const segment_key&, const segment_key&) = default;
};

/// A page to request.
struct page_ref {
    std::size_t segment = 0;      ///< index into the plan's segments
    std::int64_t page_index = 1;  ///< 1-based
    std::int64_t page_size = 0;   ///< the size to ask for
    std::uint32_t generation = 0; ///< bumped when a segment is fetched again after drift
    /// When the server gives no totalCount, the next page is the one its nextLink names: this
    /// holds that link's query string (its path is not used: the published one lacks the
    /// /dynamicsbackup prefix).
    std::optional<std::string> next_link_query;
};

/// What on_page concluded.
enum class page_verdict {
    accepted, ///< the page fits the plan
    stale,    ///< from an older generation of its segment: its jobs still count, nothing else
    refetch,  ///< totalCount changed (drift): the segment starts again from page 1
    drift_unresolved, ///< drift happened more often than allowed: the segment failed
};

/// The page plan of one fetch: organizations x windows x pages.
///
/// Per segment, page 1 goes first; its totalCount sizes the segment and pages 2..N may then go
/// concurrently. When the server answers fewer jobs per page than asked (a silent cap) the rest
/// is planned with the size it really used. When totalCount changes between pages of a segment,
/// the segment is fetched again from page 1 (at most max_drift_refetches times). Without
/// totalCount, pages follow the nextLink chain one at a time.
///
/// A window that drifted once is suspect: when its last generation completes, page 1 is asked
/// once more, and the window only completes if the count still holds. Pages of a superseded
/// generation that were not sent yet are abandoned (is_current() turns false) rather than sent.
///
/// Socket-free and single-threaded: the engine calls it from its strand.
class page_plan {
public:
    page_plan(std::size_t org_slots, std::size_t windows, std::int64_t page_size,
              unsigned max_drift_refetches);

    std::size_t segment_count() const noexcept { return segments_.size(); }
    segment_key key(std::size_t segment) const noexcept;
    std::size_t segment_of(segment_key key) const noexcept;

    /// Marks a segment as already done (resume): it is never requested.
    void skip(std::size_t segment);

    /// The next page that may be requested now, preferring pages of segments already started
    /// (to finish them and free their memory) over opening new ones; nullopt when nothing can
    /// be requested until a page completes. `org_has_room(org_slot)` applies the per-org limit.
    template <class OrgHasRoom>
    std::optional<page_ref> next(OrgHasRoom&& org_has_room);

    /// A page arrived (already decoded). Updates the segment; may release more pages.
    page_verdict on_page(const page_ref& page, const jobs_page& body);
    /// A page was given up. Its segment is failed: it will not complete.
    void on_failure(const page_ref& page);
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

    std::uint64_t pages_planned() const noexcept { return pages_planned_; }
    std::uint64_t drift_refetches() const noexcept { return drift_refetches_; }

private:
    enum class phase {
        first_pending,
        first_in_flight,
        paging,
        following_links,
        verify_pending, ///< a refetched window is complete; page 1 is asked once more
        verify_in_flight,
        complete,
        failed
    };
    struct segment {
        phase state = phase::first_pending;
        std::uint32_t generation = 0;
        unsigned drifts = 0;
        std::int64_t total = 0;
        std::int64_t page_size = 0;
        std::int64_t page_count = 0;     ///< N, once sized
        std::int64_t next_page = 2;      ///< next page of 2..N to hand out
        std::int64_t pages_done = 0;     ///< of the current generation, page 1 included
        std::size_t outstanding = 0;     ///< pages handed out and not yet back, any generation
        std::optional<std::string> link; ///< following_links: the next page's query
    };

    std::optional<page_ref> take(std::size_t index);
    page_verdict drifted(segment& s);
    void restart(segment& s);
    void page_completed(segment& s);
    static void follow_link(segment& s, const jobs_page& body);

    std::size_t org_slots_;
    std::size_t windows_;
    std::int64_t page_size_;
    unsigned max_drift_refetches_;
    std::vector<segment> segments_;
    /// Opened segments that may still hand out pages, oldest first.
    std::vector<std::size_t> active_;
    std::size_t first_unopened_ = 0;
    std::uint64_t pages_planned_ = 0;
    std::uint64_t drift_refetches_ = 0;
};

template <class OrgHasRoom>
std::optional<page_ref> page_plan::next(OrgHasRoom&& org_has_room) {
    // Opened segments first, oldest first; finished ones leave the list as they are met.
    for (std::size_t a = 0; a < active_.size();) {
        const std::size_t i = active_[a];
        const phase state = segments_[i].state;
        if (state == phase::complete || state == phase::failed) {
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
        if (segments_[i].state != phase::first_pending) { // skipped
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
