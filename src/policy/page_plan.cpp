#include <dynjobs/policy/page_plan.hpp>

#include <boost/url/parse.hpp>

#include <algorithm>

namespace dynjobs::policy {

page_plan::page_plan(std::size_t org_slots, std::size_t windows, std::int64_t page_size,
                     unsigned max_drift_refetches)
    : org_slots_(std::max<std::size_t>(org_slots, 1))
    , windows_(std::max<std::size_t>(windows, 1))
    , page_size_(page_size)
    , max_drift_refetches_(max_drift_refetches)
    , segments_(org_slots_ * windows_) {
    for (auto& s : segments_)
        s.page_size = page_size_;
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
        if (s.next_page > s.page_count)
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

page_verdict page_plan::drifted(segment& s) {
    if (s.drifts >= max_drift_refetches_) {
        s.state = phase::failed;
        return page_verdict::drift_unresolved;
    }
    restart(s);
    return page_verdict::refetch;
}

// Counts a page of the current generation; the segment completes with its last page (after a
// verification when it drifted before).
void page_plan::page_completed(segment& s) {
    if (++s.pages_done < s.page_count)
        return;
    s.state = s.generation > 0 ? phase::verify_pending : phase::complete;
}

void page_plan::restart(segment& s) {
    ++s.generation;
    ++s.drifts;
    ++drift_refetches_;
    s.state = phase::first_pending;
    s.page_size = page_size_;
    s.pages_done = 0;
    s.next_page = 2;
    s.link.reset();
}

namespace {

// The query part of a nextLink, relative ("/jobs?...") or absolute; empty when it has none.
std::string link_query(std::string_view link) {
    const auto uri = boost::urls::parse_uri_reference(link);
    if (!uri || !uri->has_query())
        return {};
    return std::string(uri->encoded_query());
}

} // namespace

void page_plan::follow_link(segment& s, const jobs_page& body) {
    std::string query = body.next_link ? link_query(*body.next_link) : std::string{};
    if (body.jobs.empty() || query.empty()) {
        s.state = phase::complete;
        return;
    }
    s.state = phase::following_links;
    s.link = std::move(query);
}

page_verdict page_plan::on_page(const page_ref& page, const jobs_page& body) {
    segment& s = segments_[page.segment];
    --s.outstanding;
    if (page.generation != s.generation || s.state == phase::failed || s.state == phase::complete)
        return page_verdict::stale;

    const auto jobs = static_cast<std::int64_t>(body.jobs.size());

    if (s.state == phase::following_links) {
        ++s.pages_done;
        follow_link(s, body);
        return page_verdict::accepted;
    }

    if (s.state == phase::verify_in_flight) {
        const std::int64_t expected = std::min(s.page_size, s.total);
        if (body.total_count != s.total || jobs != expected)
            return drifted(s);
        s.state = phase::complete;
        return page_verdict::accepted;
    }

    if (page.page_index == 1) {
        if (!body.total_count) {
            follow_link(s, body); // no size known: walk the nextLink chain
            return page_verdict::accepted;
        }
        s.total = std::max<std::int64_t>(*body.total_count, 0);
        // A silent cap: the server used a smaller page than asked. Plan with its size.
        std::int64_t used = page.page_size;
        if (body.page_size && *body.page_size > 0 && *body.page_size < used)
            used = *body.page_size;
        if (jobs < used && jobs < s.total && jobs > 0)
            used = jobs;
        if (jobs == 0 && s.total > 0)
            return drifted(s); // nothing served although some match: the set moved under us
        s.page_size = used;
        s.page_count = s.total == 0 ? 1 : (s.total + used - 1) / used;
        s.next_page = 2;
        s.state = phase::paging;
        page_completed(s);
        return page_verdict::accepted;
    }

    // Pages 2..N.
    const std::int64_t expected =
        std::min(s.page_size, s.total - (page.page_index - 1) * s.page_size);
    const bool total_moved = body.total_count && *body.total_count != s.total;
    if (total_moved || jobs < expected)
        return drifted(s);
    page_completed(s);
    return page_verdict::accepted;
}

void page_plan::on_failure(const page_ref& page) {
    segment& s = segments_[page.segment];
    --s.outstanding;
    if (page.generation == s.generation && s.state != phase::complete)
        s.state = phase::failed;
}

bool page_plan::is_current(const page_ref& page) const noexcept {
    const segment& s = segments_[page.segment];
    return page.generation == s.generation && s.state != phase::complete &&
           s.state != phase::failed;
}

void page_plan::abandon(const page_ref& page) {
    --segments_[page.segment].outstanding;
}

bool page_plan::complete(std::size_t index) const noexcept {
    return segments_[index].state == phase::complete;
}

bool page_plan::settled(std::size_t index) const noexcept {
    const segment& s = segments_[index];
    return (s.state == phase::complete || s.state == phase::failed) && s.outstanding == 0;
}

bool page_plan::done() const noexcept {
    for (std::size_t i = 0; i < segments_.size(); ++i)
        if (!settled(i))
            return false;
    return true;
}

} // namespace dynjobs::policy
