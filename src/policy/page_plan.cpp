#include "policy/page_plan.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>

namespace dynjobs::policy {

page_plan::page_plan(std::size_t org_slots, std::size_t windows, std::int64_t page_size,
                     page_plan_limits limits, const dedupe_spill& spill)
    : org_slots_(std::max<std::size_t>(org_slots, 1))
    , windows_(std::max<std::size_t>(windows, 1))
    , page_size_(page_size)
    , page_size_asked_(page_size)
    , limits_(limits)
    , segments_(org_slots_ * windows_) {
    for (std::size_t i = 0; i < segments_.size(); ++i) {
        segments_[i].page_size = page_size_;
        segments_[i].base_page_size = page_size_;
        segments_[i].delegate = i;
        segments_[i].last_window = key(i).window;
        if (spill.memory_bytes != 0)
            segments_[i].returned = dedupe_set(spill);
    }
}

// Organization-major: one organization's windows in time order, then the next organization.
segment_key page_plan::key(std::size_t segment) const noexcept {
    return {segment / windows_, segment % windows_};
}

std::size_t page_plan::segment_of(segment_key key) const noexcept {
    return key.org_slot * windows_ + key.window;
}

void page_plan::skip(std::size_t segment) {
    segments_[segment].state = phase::complete;
    segments_[segment].reported = true;
}

std::size_t page_plan::delegate(std::size_t segment) const noexcept {
    return segments_[segment].delegate;
}

std::size_t page_plan::last_window(std::size_t segment) const noexcept {
    return segments_[segment].last_window;
}

void page_plan::merge_from(std::size_t org_slot) {
    const std::size_t first = segment_of({org_slot, 0});
    std::optional<std::size_t> into;
    for (std::size_t i = first; i < first + windows_; ++i) {
        segment& s = segments_[i];
        if (s.state == phase::complete || s.state == phase::failed)
            continue;
        if (!into) {
            into = i;
            s.last_window = windows_ - 1;
            s.drifts = 0;
            s.completeness_passes = 0;
            s.returned.clear();
            restart(s);
            continue;
        }
        if (s.state == phase::merged)
            continue;
        ++s.generation; // its pages in flight become stale
        s.state = phase::merged;
        s.delegate = *into;
        segments_[*into].merged_in.push_back(i);
        s.link.reset();
        s.returned.clear();
    }
}

std::optional<page_ref> page_plan::take(std::size_t index) {
    segment& s = segments_[index];
    page_ref page{index, 1, s.page_size, s.generation, std::nullopt};
    switch (s.state) {
    case phase::first_pending:
        s.state = phase::first_in_flight;
        break;
    case phase::verify_pending:
        s.state = phase::verify_in_flight;
        break;
    case phase::paging:
        if (s.next_page > s.page_count || (s.sequential && s.outstanding != 0))
            return std::nullopt;
        page.page_index = s.next_page++;
        break;
    case phase::following_links:
        if (!s.link)
            return std::nullopt; // the previous page has not told us the next one yet
        page.page_index = s.next_page++;
        page.next_link_query = std::move(s.link);
        s.link.reset();
        break;
    default:
        return std::nullopt;
    }
    ++s.outstanding;
    ++pages_planned_;
    return page;
}

page_verdict page_plan::fail(segment& s, segment_failure_reason reason, std::string detail) {
    s.state = phase::failed;
    s.failure.reason = reason;
    s.failure.detail = std::move(detail);
    return page_verdict::failed;
}

page_verdict page_plan::drifted(segment& s, std::string detail) {
    if (s.drifts >= limits_.max_drift_refetches)
        return fail(s, segment_failure_reason::drift_unresolved,
                    std::move(detail) + "; still so after " + std::to_string(s.drifts) +
                        " refetch(es)");
    ++s.drifts;
    ++drift_refetches_;
    s.returned.clear(); // what the window holds moved: count it afresh
    s.sequential = false;
    restart(s);
    return page_verdict::refetch;
}

// Counts a page of the current generation; at the last one, checks the window is whole.
page_verdict page_plan::page_completed(segment& s) {
    if (++s.pages_done < s.page_count)
        return page_verdict::accepted;
    const auto found = static_cast<std::int64_t>(s.returned.size());
    if (found < s.total) {
        const std::int64_t missing = s.total - found;
        if (s.completeness_passes >= limits_.max_completeness_refetches) {
            s.failure.missing = missing;
            return fail(s, segment_failure_reason::incomplete,
                        "totalCount is " + std::to_string(s.total) + " but only " +
                            std::to_string(found) + " distinct jobs came over " +
                            std::to_string(s.completeness_passes + 1) + " pass(es); " +
                            std::to_string(missing) + " missing");
        }
        ++s.completeness_passes;
        ++completeness_refetches_;
        s.sequential = true;
        restart(s);
        return page_verdict::refetch_incomplete;
    }
    s.state = s.drifts > 0 ? phase::verify_pending : phase::complete;
    return page_verdict::accepted;
}

void page_plan::restart(segment& s) {
    ++s.generation;
    s.state = phase::first_pending;
    // Each completeness pass asks for pages 4 times larger (up to 1,000, or the size asked for
    // if larger): fewer page boundaries for an unstable order to skip jobs at. 1,000 is served
    // by servers that cap silently; a larger size risks a 400 from one that refuses.
    // Never above a size the server refused: then base_page_size is below the size asked for.
    std::int64_t ceiling = s.base_page_size < page_size_asked_
                               ? s.base_page_size
                               : std::max<std::int64_t>(page_size_asked_, 1000);
    if (s.silent_cap > 0)
        ceiling = std::min(ceiling, s.silent_cap);
    s.page_size = s.base_page_size;
    std::int64_t passes_at_ceiling = 0;
    for (unsigned pass = 0; pass < s.completeness_passes; ++pass) {
        if (s.page_size < ceiling)
            s.page_size = std::min<std::int64_t>(s.page_size * 4, ceiling);
        else
            ++passes_at_ceiling;
    }
    // Passes of one size cut the window at the same offsets: a tie of equal startTime that
    // straddles a boundary, reordered by the server between requests, could lose the same job
    // in every pass. Each further pass moves the boundaries (1,000, 985, 955, 910...).
    const std::int64_t step = std::max<std::int64_t>(1, ceiling / 64);
    const std::int64_t shift = step * passes_at_ceiling * (passes_at_ceiling + 1) / 2;
    s.page_size = std::max(s.page_size - shift, (s.page_size + 1) / 2);
    s.pages_done = 0;
    s.repeated_pages = 0;
    s.next_page = 2;
    s.link.reset();
    s.links_seen.clear();
}

std::size_t page_plan::count_new(segment& s, const jobs_page& body) {
    std::size_t fresh = 0;
    for (const auto& j : body.jobs)
        fresh += s.returned.insert(j.job_id);
    return fresh;
}

page_verdict page_plan::follow_link(segment& s, const jobs_page& body) {
    // Null, empty or absent ends the chain, as does a page with no jobs.
    if (!body.next_link || body.next_link->empty() || body.jobs.empty()) {
        s.state = phase::complete;
        return page_verdict::accepted;
    }
    const auto uri = boost::urls::parse_uri_reference(*body.next_link);
    if (!uri || !uri->has_query() || uri->encoded_query().empty())
        return fail(s, segment_failure_reason::invalid_next_link,
                    "nextLink '" + body.next_link->substr(0, 200) +
                        "' is not a link to a page (no query)");
    std::string query(uri->encoded_query());
    if (!s.links_seen.insert(query).second)
        return fail(s, segment_failure_reason::invalid_next_link,
                    "nextLink '" + body.next_link->substr(0, 200) +
                        "' names a page already fetched: the chain loops");
    s.state = phase::following_links;
    s.link = std::move(query);
    return page_verdict::accepted;
}

page_verdict page_plan::on_page(const page_ref& page, const jobs_page& body) {
    segment& s = segments_[page.segment];
    --s.outstanding;
    if (page.generation != s.generation || s.state == phase::failed || s.state == phase::complete ||
        s.state == phase::merged)
        return page_verdict::stale;

    const auto jobs = static_cast<std::int64_t>(body.jobs.size());
    const auto fresh = static_cast<std::int64_t>(count_new(s, body));

    if (s.state == phase::following_links) {
        ++s.pages_done;
        return follow_link(s, body);
    }

    if (s.state == phase::verify_in_flight) {
        const std::int64_t expected = std::min(s.page_size, s.total);
        if (body.total_count != s.total || jobs != expected)
            return drifted(s, "page 1 no longer matched at the end of the window");
        s.state = phase::complete;
        return page_verdict::accepted;
    }

    if (page.page_index == 1) {
        if (!body.total_count)
            return follow_link(s, body); // no size known: walk the nextLink chain
        const std::int64_t total = std::max<std::int64_t>(*body.total_count, 0);
        if (total != s.total && s.completeness_passes > 0) {
            // The set moved between completeness passes: what was found no longer adds up.
            s.returned.clear();
            count_new(s, body);
        }
        s.total = total;
        s.returned.expect(static_cast<std::size_t>(total));
        // A silent cap: the server used a smaller page than asked. Plan with its size.
        std::int64_t used = page.page_size;
        if (body.page_size && *body.page_size > 0 && *body.page_size < used)
            used = *body.page_size;
        if (jobs < used && jobs < s.total && jobs > 0)
            used = jobs;
        if (used < page.page_size)
            s.silent_cap = s.silent_cap == 0 ? used : std::min(s.silent_cap, used);
        if (jobs == 0 && s.total > 0)
            return drifted(s,
                           "page 1 returned no job while totalCount is " + std::to_string(s.total));
        const std::int64_t pages = s.total == 0 ? 1 : (s.total + used - 1) / used;
        if (pages > limits_.max_pages_per_window) {
            std::string detail = "totalCount " + std::to_string(s.total) + " at " +
                                 std::to_string(used) + " job(s) a page would take " +
                                 std::to_string(pages) + " pages, more than the " +
                                 std::to_string(limits_.max_pages_per_window) + " allowed";
            // Once may be a glitch of one response: asked again, a sane server answers sanely.
            if (s.drifts < limits_.max_drift_refetches)
                return drifted(s, std::move(detail));
            return fail(s, segment_failure_reason::total_not_believable, std::move(detail));
        }
        s.page_size = used;
        s.page_count = pages;
        s.next_page = 2;
        s.state = phase::paging;
        return page_completed(s);
    }

    // Pages 2..N.
    const std::int64_t expected =
        std::min(s.page_size, s.total - (page.page_index - 1) * s.page_size);
    if (body.total_count && *body.total_count != s.total)
        return drifted(s, "totalCount moved from " + std::to_string(s.total) + " to " +
                              std::to_string(*body.total_count));
    if (jobs < expected)
        return drifted(s, "page " + std::to_string(page.page_index) + " returned " +
                              std::to_string(jobs) + " job(s) where totalCount " +
                              std::to_string(s.total) + " promises " + std::to_string(expected));
    // Only a first pass can tell: a completeness pass finds mostly jobs it found before.
    if (fresh == 0 && jobs > 0 && page.page_index < s.page_count && s.completeness_passes == 0 &&
        ++s.repeated_pages > limits_.max_repeated_pages)
        return drifted(s, std::to_string(s.repeated_pages) +
                              " pages brought only jobs already returned: totalCount " +
                              std::to_string(s.total) + " is not borne out");
    return page_completed(s);
}

bool page_plan::halve_page_size(const page_ref& page) {
    segment& s = segments_[page.segment];
    --s.outstanding;
    if (page.generation != s.generation || s.state == phase::complete || s.state == phase::failed ||
        s.state == phase::merged)
        return true; // already started again (another page said the same), or ended
    if (page.page_size <= 1)
        return false;
    const std::int64_t half = page.page_size / 2;
    s.base_page_size = std::min(s.base_page_size, half);
    page_size_ = std::min(page_size_, half);
    for (std::size_t i = first_unopened_; i < segments_.size(); ++i)
        segments_[i].base_page_size = std::min(segments_[i].base_page_size, half);
    restart(s);
    return true;
}

void page_plan::on_failure(const page_ref& page) {
    segment& s = segments_[page.segment];
    --s.outstanding;
    if (page.generation == s.generation && s.state != phase::complete && s.state != phase::merged)
        s.state = phase::failed;
}

bool page_plan::is_current(const page_ref& page) const noexcept {
    const segment& s = segments_[page.segment];
    return page.generation == s.generation && s.state != phase::complete &&
           s.state != phase::failed && s.state != phase::merged;
}

void page_plan::abandon(const page_ref& page) {
    --segments_[page.segment].outstanding;
}

bool page_plan::complete(std::size_t index) const noexcept {
    const segment& s = segments_[index];
    if (s.state == phase::merged)
        return segments_[s.delegate].state == phase::complete;
    return s.state == phase::complete;
}

const segment_failure& page_plan::failure(std::size_t index) const noexcept {
    const segment& s = segments_[index];
    return s.state == phase::merged ? segments_[s.delegate].failure : s.failure;
}

bool page_plan::ended(std::size_t index) const noexcept {
    const phase state = segments_[index].state;
    return state == phase::complete || state == phase::failed;
}

bool page_plan::settled(std::size_t index) const noexcept {
    const segment& s = segments_[index];
    if (s.outstanding != 0)
        return false;
    if (s.state == phase::merged)
        return ended(s.delegate) && segments_[s.delegate].outstanding == 0;
    return ended(index);
}

bool page_plan::group_settled(std::size_t delegate) const noexcept {
    if (!settled(delegate))
        return false;
    for (std::size_t merged : segments_[delegate].merged_in)
        if (!settled(merged))
            return false;
    return true;
}

std::vector<std::size_t> page_plan::take_settled(std::size_t index) {
    std::vector<std::size_t> out;
    const auto check = [&](std::size_t i) {
        segment& s = segments_[i];
        if (!s.reported && settled(i)) {
            s.reported = true;
            s.returned.clear(); // its memory can go
            out.push_back(i);
        }
    };
    const std::size_t into = segments_[index].delegate;
    check(index);
    if (into != index)
        check(into);
    for (std::size_t merged : segments_[into].merged_in)
        if (merged != index)
            check(merged);
    return out;
}

bool page_plan::done() const noexcept {
    for (std::size_t i = 0; i < segments_.size(); ++i)
        if (!settled(i))
            return false;
    return true;
}

} // namespace dynjobs::policy
