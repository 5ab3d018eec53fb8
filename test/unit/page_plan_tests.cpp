#include "policy/page_plan.hpp"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using namespace dynjobs;
using namespace dynjobs::policy;

namespace {

// A server over an in-memory list of job ids, paged by offset like the real one.
struct fake_server {
    std::vector<std::string> ids;
    std::int64_t cap = 0; // silent page size cap, 0 for none
    bool send_total = true;
    std::string link_path = "/jobs";

    jobs_page serve(const page_ref& ref) const {
        std::int64_t index = ref.page_index;
        std::int64_t size = ref.page_size;
        if (ref.next_link_query) { // the plan must hand back exactly the link's query
            const auto& q = *ref.next_link_query;
            index = std::stoll(q.substr(q.find("pageIndex=") + 10));
            size = std::stoll(q.substr(q.find("pageSize=") + 9));
        }
        if (cap && size > cap)
            size = cap;
        jobs_page page;
        page.page_index = index;
        page.page_size = size;
        if (send_total)
            page.total_count = static_cast<std::int64_t>(ids.size());
        const auto first = (index - 1) * size;
        for (auto i = first; i < first + size && i < static_cast<std::int64_t>(ids.size()); ++i) {
            job j;
            j.job_id = ids[static_cast<std::size_t>(i)];
            page.jobs.push_back(j);
        }
        if (first + size < static_cast<std::int64_t>(ids.size()))
            page.next_link = link_path + "?pageIndex=" + std::to_string(index + 1) +
                             "&pageSize=" + std::to_string(size) + "&type=1";
        return page;
    }
};

std::vector<std::string> make_ids(int n, const std::string& prefix = "J") {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i)
        ids.push_back(prefix + std::to_string(i));
    return ids;
}

const auto any_org = [](std::size_t) { return true; };

page_plan_limits drift_limit(unsigned refetches) {
    page_plan_limits limits;
    limits.max_drift_refetches = refetches;
    return limits;
}

// Drives the plan to the end, answering pages in the order they are handed out, `batch` at a
// time, and returns every job id delivered (with repeats).
template <class Server>
std::multiset<std::string> drain(page_plan& plan, const Server& server, std::size_t batch) {
    std::multiset<std::string> seen;
    while (!plan.done()) {
        std::vector<page_ref> in_flight;
        while (in_flight.size() < batch)
            if (auto p = plan.next(any_org))
                in_flight.push_back(*p);
            else
                break;
        BOOST_TEST_REQUIRE(!in_flight.empty());
        for (const auto& p : in_flight) {
            const auto page = server.serve(p);
            for (const auto& j : page.jobs)
                seen.insert(j.job_id);
            plan.on_page(p, page);
        }
    }
    return seen;
}

// Drives the plan to the end one page at a time; returns the page size each pass asked for.
template <class Server>
std::vector<std::int64_t> page_sizes_of_passes(page_plan& plan, const Server& server) {
    std::vector<std::int64_t> sizes;
    while (!plan.done()) {
        const auto page = *plan.next(any_org);
        if (page.page_index == 1)
            sizes.push_back(page.page_size);
        plan.on_page(page, server.serve(page));
    }
    return sizes;
}

} // namespace

BOOST_AUTO_TEST_SUITE(page_plans)

BOOST_AUTO_TEST_CASE(page_one_first_then_the_rest_at_once) {
    fake_server server{make_ids(250)};
    page_plan plan(1, 1, 100, drift_limit(3));
    auto first = plan.next(any_org);
    BOOST_TEST_REQUIRE(first.has_value());
    BOOST_TEST(first->page_index == 1);
    BOOST_TEST(!plan.next(any_org).has_value()); // nothing until page 1 sized the segment
    BOOST_TEST((plan.on_page(*first, server.serve(*first)) == page_verdict::accepted));
    auto p2 = plan.next(any_org);
    auto p3 = plan.next(any_org);
    BOOST_TEST_REQUIRE((p2 && p3));
    BOOST_TEST(p2->page_index == 2);
    BOOST_TEST(p3->page_index == 3);
    BOOST_TEST(!plan.next(any_org).has_value());
    BOOST_TEST(!plan.done());
    plan.on_page(*p3, server.serve(*p3));
    plan.on_page(*p2, server.serve(*p2));
    BOOST_TEST(plan.done());
    BOOST_TEST(plan.complete(0));
    BOOST_TEST(plan.pages_planned() == 3u);
}

BOOST_AUTO_TEST_CASE(every_job_once_across_sizes_and_concurrency) {
    for (int n : {0, 1, 99, 100, 101, 1000}) {
        for (std::size_t batch : {1u, 3u, 64u}) {
            fake_server server{make_ids(n)};
            page_plan plan(1, 1, 100, drift_limit(3));
            const auto seen = drain(plan, server, batch);
            BOOST_TEST(seen.size() == static_cast<std::size_t>(n), "n=" << n << " batch=" << batch);
            BOOST_TEST(std::set<std::string>(seen.begin(), seen.end()).size() == seen.size());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_silent_cap_replans_with_the_size_the_server_used) {
    fake_server server{make_ids(1000)};
    server.cap = 40;
    page_plan plan(1, 1, 100, drift_limit(3));
    const auto seen = drain(plan, server, 8);
    BOOST_TEST(seen.size() == 1000u);
    BOOST_TEST(std::set<std::string>(seen.begin(), seen.end()).size() == 1000u);
    BOOST_TEST(plan.pages_planned() == 25u);
}

BOOST_AUTO_TEST_CASE(a_cap_without_a_page_size_field_is_read_from_the_job_count) {
    struct no_size_server : fake_server {
        jobs_page serve(const page_ref& ref) const {
            auto page = fake_server::serve(ref);
            page.page_size.reset();
            return page;
        }
    };
    no_size_server server;
    server.ids = make_ids(95);
    server.cap = 10;
    page_plan plan(1, 1, 100, drift_limit(3));
    std::multiset<std::string> seen;
    while (!plan.done()) {
        auto p = plan.next(any_org);
        BOOST_TEST_REQUIRE(p.has_value());
        const auto page = server.serve(*p);
        for (const auto& j : page.jobs)
            seen.insert(j.job_id);
        plan.on_page(*p, page);
    }
    BOOST_TEST(seen.size() == 95u);
}

BOOST_AUTO_TEST_CASE(drift_refetches_the_segment_and_old_pages_become_stale) {
    fake_server server{make_ids(300)};
    page_plan plan(1, 1, 100, drift_limit(3));
    auto p1 = *plan.next(any_org);
    plan.on_page(p1, server.serve(p1));
    auto p2 = *plan.next(any_org);
    auto p3 = *plan.next(any_org);
    server.ids.insert(server.ids.begin(), "NEW"); // a job appears at the front
    BOOST_TEST((plan.on_page(p2, server.serve(p2)) == page_verdict::refetch));
    BOOST_TEST(plan.drift_refetches() == 1u);
    auto again = plan.next(any_org);
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST(again->page_index == 1);
    BOOST_TEST(again->generation == 1u);
    BOOST_TEST((plan.on_page(p3, server.serve(p3)) == page_verdict::stale));
    // The refetch sees a stable set and completes.
    std::multiset<std::string> seen;
    const auto page = server.serve(*again);
    plan.on_page(*again, page);
    for (const auto& j : page.jobs)
        seen.insert(j.job_id);
    seen.merge(drain(plan, server, 4));
    // Distinct ids: the refetched window was verified with page 1 again (the engine's dedupe
    // drops such repeats).
    BOOST_TEST(std::set<std::string>(seen.begin(), seen.end()).size() == 301u);
    BOOST_TEST(seen.count("NEW") >= 1u);
    BOOST_TEST(plan.complete(0));
}

BOOST_AUTO_TEST_CASE(a_page_shorter_than_planned_is_drift_too) {
    fake_server server{make_ids(300)};
    page_plan plan(1, 1, 100, drift_limit(3));
    auto p1 = *plan.next(any_org);
    plan.on_page(p1, server.serve(p1));
    auto p3 = *plan.next(any_org);
    p3 = *plan.next(any_org);
    auto short_page = server.serve(p3);
    short_page.jobs.pop_back(); // a job vanished but the count did not say so
    BOOST_TEST((plan.on_page(p3, short_page) == page_verdict::refetch));
}

BOOST_AUTO_TEST_CASE(endless_drift_fails_the_segment) {
    fake_server server{make_ids(300)};
    page_plan plan(1, 1, 100, drift_limit(2));
    page_verdict last = page_verdict::accepted;
    int rounds = 0;
    for (auto first = plan.next(any_org); first; first = plan.next(any_org), ++rounds) {
        BOOST_TEST_REQUIRE(first->page_index == 1);
        plan.on_page(*first, server.serve(*first));
        const auto second = *plan.next(any_org);
        server.ids.push_back("X" + std::to_string(rounds)); // the set grows on every pass
        last = plan.on_page(second, server.serve(second));
    }
    BOOST_TEST(rounds == 3); // the first pass and two refetches, which drift again
    BOOST_TEST((last == page_verdict::failed));
    BOOST_TEST(plan.drift_refetches() == 2u);
    BOOST_TEST(!plan.complete(0));
    BOOST_TEST(plan.done());
}

BOOST_AUTO_TEST_CASE(a_refetched_window_is_verified_before_it_completes) {
    fake_server server{make_ids(150)};
    page_plan plan(1, 1, 100, drift_limit(3));
    auto p1 = *plan.next(any_org);
    plan.on_page(p1, server.serve(p1));
    auto p2 = *plan.next(any_org);
    server.ids.insert(server.ids.begin(), "NEW1");
    BOOST_TEST((plan.on_page(p2, server.serve(p2)) == page_verdict::refetch));
    // The second generation runs through...
    auto r1 = *plan.next(any_org);
    plan.on_page(r1, server.serve(r1));
    auto r2 = *plan.next(any_org);
    plan.on_page(r2, server.serve(r2));
    BOOST_TEST(!plan.complete(0));
    // ...and is checked once more: a job that came meanwhile is caught.
    auto check = plan.next(any_org);
    BOOST_TEST_REQUIRE(check.has_value());
    BOOST_TEST(check->page_index == 1);
    server.ids.insert(server.ids.begin(), "NEW2");
    BOOST_TEST((plan.on_page(*check, server.serve(*check)) == page_verdict::refetch));
    const auto rest = drain(plan, server, 4);
    BOOST_TEST(rest.count("NEW2") >= 1u);
    BOOST_TEST(plan.complete(0));
    BOOST_TEST(plan.drift_refetches() == 2u);
}

BOOST_AUTO_TEST_CASE(pages_of_a_superseded_generation_are_not_current) {
    fake_server server{make_ids(300)};
    page_plan plan(1, 1, 100, drift_limit(3));
    auto p1 = *plan.next(any_org);
    plan.on_page(p1, server.serve(p1));
    auto p2 = *plan.next(any_org);
    auto p3 = *plan.next(any_org);
    BOOST_TEST(plan.is_current(p3));
    server.ids.push_back("late");
    plan.on_page(p2, server.serve(p2)); // refetch
    BOOST_TEST(!plan.is_current(p3));
    plan.abandon(p3);
    BOOST_TEST(drain(plan, server, 4).size() >= 301u);
    BOOST_TEST(plan.done());
}

BOOST_AUTO_TEST_CASE(without_total_count_pages_follow_the_next_link_query) {
    fake_server server{make_ids(250)};
    server.send_total = false;
    page_plan plan(1, 1, 100, drift_limit(3));
    std::multiset<std::string> seen;
    int pages = 0;
    while (!plan.done()) {
        auto p = plan.next(any_org);
        BOOST_TEST_REQUIRE(p.has_value());
        BOOST_TEST(!plan.next(any_org).has_value()); // strictly one at a time
        if (pages > 0) {
            BOOST_TEST_REQUIRE(p->next_link_query.has_value());
            BOOST_TEST(p->next_link_query->find("pageIndex=" + std::to_string(pages + 1)) == 0u);
        }
        const auto page = server.serve(*p);
        for (const auto& j : page.jobs)
            seen.insert(j.job_id);
        plan.on_page(*p, page);
        ++pages;
    }
    BOOST_TEST(pages == 3);
    BOOST_TEST(seen.size() == 250u);
}

BOOST_AUTO_TEST_CASE(an_absolute_next_link_works_the_same) {
    fake_server server{make_ids(150)};
    server.send_total = false;
    server.link_path = "https://graph-us.avepointonlineservices.com/dynamicsbackup/jobs";
    page_plan plan(1, 1, 100, drift_limit(3));
    BOOST_TEST(drain(plan, server, 1).size() == 150u);
}

BOOST_AUTO_TEST_CASE(segments_are_org_major_and_respect_the_org_limit) {
    page_plan plan(2, 3, 100, drift_limit(3));
    BOOST_TEST(plan.segment_count() == 6u);
    BOOST_TEST(plan.key(4).org_slot == 1u);
    BOOST_TEST(plan.key(4).window == 1u);
    BOOST_TEST(plan.segment_of({1, 1}) == 4u);
    std::vector<std::size_t> opened;
    const auto only_org_1 = [](std::size_t org) { return org == 1; };
    // Org 0 has no room: its first segment blocks the queue, in order.
    BOOST_TEST(!plan.next(only_org_1).has_value());
    while (auto p = plan.next(any_org))
        opened.push_back(p->segment);
    BOOST_TEST((opened == std::vector<std::size_t>{0, 1, 2, 3, 4, 5}));
}

BOOST_AUTO_TEST_CASE(skipped_segments_are_never_requested) {
    fake_server server{make_ids(10)};
    page_plan plan(1, 3, 100, drift_limit(3));
    plan.skip(1);
    std::vector<std::size_t> requested;
    while (!plan.done()) {
        auto p = plan.next(any_org);
        BOOST_TEST_REQUIRE(p.has_value());
        requested.push_back(p->segment);
        plan.on_page(*p, server.serve(*p));
    }
    BOOST_TEST((requested == std::vector<std::size_t>{0, 2}));
}

BOOST_AUTO_TEST_CASE(a_failed_page_fails_its_segment_but_not_the_others) {
    fake_server server{make_ids(250)};
    page_plan plan(1, 2, 100, drift_limit(3));
    auto a1 = *plan.next(any_org);
    auto b1 = *plan.next(any_org);
    plan.on_failure(a1);
    plan.on_page(b1, server.serve(b1));
    while (auto p = plan.next(any_org)) {
        BOOST_TEST(p->segment == 1u);
        plan.on_page(*p, server.serve(*p));
    }
    BOOST_TEST(plan.done());
    BOOST_TEST(!plan.complete(0));
    BOOST_TEST(plan.complete(1));
}

BOOST_AUTO_TEST_CASE(a_segment_settles_only_when_no_page_is_outstanding) {
    fake_server server{make_ids(300)};
    page_plan plan(1, 1, 100, drift_limit(3));
    auto p1 = *plan.next(any_org);
    plan.on_page(p1, server.serve(p1));
    auto p2 = *plan.next(any_org);
    auto p3 = *plan.next(any_org);
    server.ids.push_back("late");
    plan.on_page(p2, server.serve(p2)); // refetch; p3 still out
    auto r1 = *plan.next(any_org);
    plan.on_page(r1, server.serve(r1));
    while (auto p = plan.next(any_org))
        plan.on_page(*p, server.serve(*p));
    BOOST_TEST(plan.complete(0));
    BOOST_TEST(!plan.settled(0)); // the stale page 3 is still in flight
    BOOST_TEST(!plan.done());
    plan.on_page(p3, server.serve(p3));
    BOOST_TEST(plan.settled(0));
    BOOST_TEST(plan.done());
}

// An offset-paged server whose order of ties changes between requests: each request of a page
// may return a job another page also returned, and so skip one.
struct unstable_server : fake_server {
    mutable unsigned calls = 0;
    unsigned unstable_calls = 1; // how many requests see the swapped order

    jobs_page serve(const page_ref& ref) const {
        auto page = fake_server::serve(ref);
        // The first requests of page 2 see job 99 (page 1's last) where job 100 should be.
        if (ref.page_index == 2 && calls++ < unstable_calls && !page.jobs.empty())
            page.jobs.front().job_id = ids[99];
        return page;
    }
};

// Never shows job 100, wherever the page boundaries fall: job 99 stands in its place.
struct hiding_server : fake_server {
    jobs_page serve(const page_ref& ref) const {
        auto page = fake_server::serve(ref);
        for (auto& j : page.jobs)
            if (j.job_id == ids[100])
                j.job_id = ids[99];
        return page;
    }
};

BOOST_AUTO_TEST_CASE(a_window_short_of_its_total_is_paged_again_one_page_at_a_time) {
    unstable_server server;
    server.ids = make_ids(300);
    server.cap = 100; // the larger pages of the refetch are capped: it still takes 3 pages
    page_plan plan(1, 1, 100);
    auto p1 = *plan.next(any_org);
    BOOST_TEST((plan.on_page(p1, server.serve(p1)) == page_verdict::accepted));
    auto p2 = *plan.next(any_org);
    auto p3 = *plan.next(any_org);
    BOOST_TEST((plan.on_page(p3, server.serve(p3)) == page_verdict::accepted));
    // Page 2 repeats job 99 and so never shows job 100: 299 distinct jobs for a total of 300.
    BOOST_TEST((plan.on_page(p2, server.serve(p2)) == page_verdict::refetch_incomplete));
    BOOST_TEST(plan.completeness_refetches() == 1u);
    BOOST_TEST(!plan.complete(0));
    auto again = *plan.next(any_org);
    BOOST_TEST(again.page_index == 1);
    BOOST_TEST(again.generation == 1u);
    BOOST_TEST(again.page_size == 400); // fewer boundaries to skip at
    BOOST_TEST((plan.on_page(again, server.serve(again)) == page_verdict::accepted));
    auto r2 = *plan.next(any_org);
    BOOST_TEST(!plan.next(any_org).has_value()); // sequential: page 3 waits for page 2
    plan.on_page(r2, server.serve(r2));
    auto r3 = *plan.next(any_org);
    BOOST_TEST(r3.page_index == 3);
    BOOST_TEST((plan.on_page(r3, server.serve(r3)) == page_verdict::accepted));
    BOOST_TEST(plan.complete(0));
}

BOOST_AUTO_TEST_CASE(jobs_found_by_earlier_passes_count_towards_the_total) {
    // Every pass misses one job, but never the same one: the union completes the window.
    struct rotating_server : fake_server {
        mutable unsigned pass = 0;
        jobs_page serve(const page_ref& ref) const {
            auto page = fake_server::serve(ref);
            if (ref.page_index == 1)
                ++pass;
            if (!page.jobs.empty() && pass < 3)
                page.jobs[(pass + ref.page_index) % page.jobs.size()].job_id =
                    page.jobs.front().job_id;
            return page;
        }
    };
    rotating_server server;
    server.ids = make_ids(20);
    page_plan plan(1, 1, 10);
    const auto seen = drain(plan, server, 4);
    BOOST_TEST(plan.complete(0));
    BOOST_TEST(std::set<std::string>(seen.begin(), seen.end()).size() == 20u);
}

BOOST_AUTO_TEST_CASE(a_window_that_stays_short_fails_naming_the_missing_count) {
    hiding_server server;
    server.ids = make_ids(300);
    server.cap = 100;
    page_plan_limits limits;
    limits.max_completeness_refetches = 2;
    page_plan plan(1, 1, 100, limits);
    drain(plan, server, 3);
    BOOST_TEST(plan.done());
    BOOST_TEST(!plan.complete(0));
    BOOST_TEST((plan.failure(0).reason == segment_failure_reason::incomplete));
    BOOST_TEST(plan.failure(0).missing == 1);
    BOOST_TEST(plan.completeness_refetches() == 2u);
    BOOST_TEST(plan.failure(0).detail.find("1 missing") != std::string::npos,
               plan.failure(0).detail);
}

BOOST_AUTO_TEST_CASE(passes_at_the_largest_size_move_the_page_boundaries) {
    // Jobs 995..1004 share one startTime and the server orders them anew for every request. A
    // page that starts inside that tie shows its predecessor's last job where job 1000 should
    // be: a boundary at 1,000 loses job 1000 every time, a boundary elsewhere loses nothing.
    struct tie_server : fake_server {
        jobs_page serve(const page_ref& ref) const {
            auto page = fake_server::serve(ref);
            const auto first = (ref.page_index - 1) * ref.page_size;
            if (first > 995 && first <= 1000 && !page.jobs.empty())
                page.jobs[static_cast<std::size_t>(1000 - first)].job_id =
                    ids[static_cast<std::size_t>(first - 1)];
            return page;
        }
    };
    tie_server server;
    server.ids = make_ids(3000);
    page_plan plan(1, 1, 1000);
    const auto sizes = page_sizes_of_passes(plan, server);
    BOOST_TEST(plan.complete(0));
    BOOST_TEST(sizes == (std::vector<std::int64_t>{1000, 985}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(later_passes_keep_shrinking_a_little_below_a_silent_cap) {
    hiding_server server;
    server.ids = make_ids(300);
    server.cap = 100;
    page_plan plan(1, 1, 100);
    const auto sizes = page_sizes_of_passes(plan, server);
    // 400 is served as 100: the cap becomes the ceiling, and passes at it move the boundaries.
    BOOST_TEST(sizes == (std::vector<std::int64_t>{100, 400, 97, 94}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_unbelievable_total_fails_after_asking_page_one_again) {
    struct lying_server : fake_server {
        jobs_page serve(const page_ref& ref) const {
            auto page = fake_server::serve(ref);
            page.total_count = 1'000'000'000'000'000;
            page.page_size = 1;
            page.jobs.resize(std::min<std::size_t>(page.jobs.size(), 1));
            return page;
        }
    };
    lying_server server;
    server.ids = make_ids(50);
    page_plan plan(1, 1, 100, drift_limit(2));
    for (int ask = 0; ask < 2; ++ask) { // a glitch of one response is asked again
        auto p1 = *plan.next(any_org);
        BOOST_TEST((plan.on_page(p1, server.serve(p1)) == page_verdict::refetch));
    }
    auto p1 = *plan.next(any_org);
    BOOST_TEST((plan.on_page(p1, server.serve(p1)) == page_verdict::failed));
    BOOST_TEST((plan.failure(0).reason == segment_failure_reason::total_not_believable));
    BOOST_TEST(plan.done());
    BOOST_TEST(plan.pages_planned() == 3u);
}

BOOST_AUTO_TEST_CASE(pages_that_only_repeat_jobs_end_the_window_after_a_bound) {
    // totalCount promises 5,000 jobs but every page is page 1 again.
    struct repeating_server : fake_server {
        jobs_page serve(const page_ref& ref) const {
            page_ref first = ref;
            first.page_index = 1;
            auto page = fake_server::serve(first);
            page.total_count = 5000;
            return page;
        }
    };
    repeating_server server;
    server.ids = make_ids(100);
    page_plan plan(1, 1, 100, drift_limit(2));
    drain(plan, server, 8);
    BOOST_TEST(plan.done());
    BOOST_TEST((plan.failure(0).reason == segment_failure_reason::drift_unresolved));
    BOOST_TEST(plan.failure(0).detail.find("not borne out") != std::string::npos,
               plan.failure(0).detail);
    // Each of the 3 passes stops after a handful of pages, not after 50.
    BOOST_TEST(plan.pages_planned() < 40u);
}

BOOST_AUTO_TEST_CASE(a_next_link_that_repeats_or_does_not_parse_fails_the_window) {
    for (const std::string bad :
         {"/jobs?pageIndex=2&pageSize=100&type=1", "http://[::1", "/jobs"}) {
        struct looping_server : fake_server {
            std::string link;
            jobs_page serve(const page_ref& ref) const {
                auto page = fake_server::serve(ref);
                page.total_count.reset();
                if (ref.page_index >= 2 || link != "/jobs?pageIndex=2&pageSize=100&type=1")
                    page.next_link = link;
                return page;
            }
        };
        looping_server server;
        server.ids = make_ids(1000);
        server.link = bad;
        page_plan plan(1, 1, 100);
        drain(plan, server, 1);
        BOOST_TEST(plan.done());
        BOOST_TEST(!plan.complete(0), bad);
        BOOST_TEST((plan.failure(0).reason == segment_failure_reason::invalid_next_link), bad);
        BOOST_TEST(plan.pages_planned() <= 3u, bad);
    }
}

BOOST_AUTO_TEST_CASE(merged_windows_are_fetched_by_the_first_unfinished_one) {
    fake_server server{make_ids(10)};
    page_plan plan(2, 4, 100);
    // Org 0: window 0 completes, window 1 is in flight, 2 and 3 unopened.
    auto w0 = *plan.next(any_org);
    plan.on_page(w0, server.serve(w0));
    auto w1 = *plan.next(any_org);
    BOOST_TEST(w1.segment == 1u);
    BOOST_TEST((plan.take_settled(0) == std::vector<std::size_t>{0}));
    plan.merge_from(0);
    BOOST_TEST(plan.delegate(0) == 0u);
    BOOST_TEST(plan.delegate(1) == 1u);
    BOOST_TEST(plan.delegate(2) == 1u);
    BOOST_TEST(plan.delegate(3) == 1u);
    BOOST_TEST(plan.last_window(1) == 3u);
    BOOST_TEST(plan.last_window(0) == 0u);
    BOOST_TEST(!plan.is_current(w1)); // superseded: its window starts again, wider
    BOOST_TEST((plan.on_page(w1, server.serve(w1)) == page_verdict::stale));
    std::vector<std::size_t> requested;
    while (!plan.done()) {
        auto p = plan.next(any_org);
        BOOST_TEST_REQUIRE(p.has_value());
        requested.push_back(p->segment);
        plan.on_page(*p, server.serve(*p));
    }
    // Org 0 asks once more (window 1, for 1..3); org 1 is untouched: its 4 windows.
    BOOST_TEST((requested == std::vector<std::size_t>{1, 4, 5, 6, 7}));
    for (std::size_t s = 0; s < 8; ++s)
        BOOST_TEST(plan.complete(s), s);
    BOOST_TEST((plan.take_settled(1) == std::vector<std::size_t>{1, 2, 3}));
    BOOST_TEST(plan.take_settled(1).empty()); // each reported once
}

BOOST_AUTO_TEST_SUITE_END()
