#include <dynjobs/policy/page_plan.hpp>

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

// Drives the plan to the end, answering pages in the order they are handed out, `batch` at a
// time, and returns every job id delivered (with repeats).
std::multiset<std::string> drain(page_plan& plan, const fake_server& server, std::size_t batch) {
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

} // namespace

BOOST_AUTO_TEST_SUITE(page_plans)

BOOST_AUTO_TEST_CASE(page_one_first_then_the_rest_at_once) {
    fake_server server{make_ids(250)};
    page_plan plan(1, 1, 100, 3);
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
            page_plan plan(1, 1, 100, 3);
            const auto seen = drain(plan, server, batch);
            BOOST_TEST(seen.size() == static_cast<std::size_t>(n), "n=" << n << " batch=" << batch);
            BOOST_TEST(std::set<std::string>(seen.begin(), seen.end()).size() == seen.size());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_silent_cap_replans_with_the_size_the_server_used) {
    fake_server server{make_ids(1000)};
    server.cap = 40;
    page_plan plan(1, 1, 100, 3);
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
    page_plan plan(1, 1, 100, 3);
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
    page_plan plan(1, 1, 100, 3);
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
    page_plan plan(1, 1, 100, 3);
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
    page_plan plan(1, 1, 100, 2);
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
    BOOST_TEST((last == page_verdict::drift_unresolved));
    BOOST_TEST(plan.drift_refetches() == 2u);
    BOOST_TEST(!plan.complete(0));
    BOOST_TEST(plan.done());
}

BOOST_AUTO_TEST_CASE(a_refetched_window_is_verified_before_it_completes) {
    fake_server server{make_ids(150)};
    page_plan plan(1, 1, 100, 3);
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
    page_plan plan(1, 1, 100, 3);
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
    page_plan plan(1, 1, 100, 3);
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
    page_plan plan(1, 1, 100, 3);
    BOOST_TEST(drain(plan, server, 1).size() == 150u);
}

BOOST_AUTO_TEST_CASE(segments_are_org_major_and_respect_the_org_limit) {
    page_plan plan(2, 3, 100, 3);
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
    page_plan plan(1, 3, 100, 3);
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
    page_plan plan(1, 2, 100, 3);
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
    page_plan plan(1, 1, 100, 3);
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

BOOST_AUTO_TEST_SUITE_END()
