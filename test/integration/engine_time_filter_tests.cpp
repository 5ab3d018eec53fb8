// Exactly once whatever the server's time filter selects (start, finish, overlap, or nothing),
// inferred or stated; and windows checked for completeness against servers that skip jobs
// between pages or lie about totalCount. All against the simulator over loopback TLS.
#include "engine_fixture.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

using namespace dynjobs;
using namespace dynjobs::testkit;
namespace bdata = boost::unit_test::data;
using std::chrono::days;
using std::chrono::hours;
using std::chrono::milliseconds;

namespace {

// 2,000 jobs over 20 days: jobs last minutes, so windows of a few hours see many of them cross
// a boundary (as 30-day windows do over years of data).
sim::sim_config filtering_by(sim::window_match match) {
    auto config = small_sim_config();
    config.dataset.begin = config.dataset.end - days{20};
    config.jobs.window = match;
    return config;
}

// Every organization, 4-hour windows, over a range that starts and ends inside the data, with
// jobs running across both ends.
fetch_request windowed(sim_fixture& fx) {
    fetch_request request;
    const auto& data = fx.sim().config().dataset;
    request.start = data.begin + days{1} + milliseconds{5 * 3600 * 1000 + 123};
    request.finish = data.end - days{2} + hours{7};
    for (const auto& org : fx.sim().organizations())
        request.organizations.push_back(org.id);
    request.window = std::chrono::duration_cast<milliseconds>(hours{4});
    request.page_size = 20;
    return request;
}

// What one unwindowed query of the range selects under `match` (the client filters by start
// time itself when the server filters nothing).
std::vector<job> expected_under(sim_fixture& fx, const fetch_request& request,
                                sim::window_match match) {
    std::vector<job> expected;
    for (const auto& org : request.organizations) {
        auto f = filter_of(request, org);
        f.window = match == sim::window_match::ignored ? sim::window_match::start_time : match;
        for (auto& j : fx.sim().select(f))
            expected.push_back(std::move(j));
    }
    return expected;
}

// Jobs of `jobs` that start in one window of `request` and finish in another.
std::size_t crossing(const fetch_request& request, const std::vector<job>& jobs) {
    const auto window_of = [&](timestamp t) { return (t - request.start) / *request.window; };
    return static_cast<std::size_t>(std::count_if(jobs.begin(), jobs.end(), [&](const job& j) {
        return j.finish_time && j.start_time >= request.start &&
               window_of(j.start_time) != window_of(*j.finish_time);
    }));
}

time_filter as_time_filter(sim::window_match match) {
    switch (match) {
    case sim::window_match::finish_time:
        return time_filter::finish;
    case sim::window_match::overlap:
        return time_filter::overlap;
    case sim::window_match::ignored:
        return time_filter::ignored;
    default:
        return time_filter::start;
    }
}

const sim::window_match all_matches[] = {sim::window_match::start_time,
                                         sim::window_match::finish_time, sim::window_match::overlap,
                                         sim::window_match::ignored};

} // namespace

BOOST_AUTO_TEST_SUITE(engine_time_filter)

BOOST_DATA_TEST_CASE(inferred_from_the_jobs_and_exactly_once, bdata::xrange(4), which) {
    const sim::window_match match = all_matches[which];
    sim_fixture fx(filtering_by(match));
    auto request = windowed(fx);
    const auto expected = expected_under(fx, request, match);
    BOOST_TEST_REQUIRE(crossing(request, expected) > 20u); // boundaries really are crossed
    std::vector<fetch_event> events;
    auto config = engine_config(fx);
    config.on_fetch_event = [&](const fetch_event& e) { events.push_back(e); };
    const auto out = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, expected);
    BOOST_TEST((out.stats.server_time_filter == as_time_filter(match)));
    BOOST_TEST(!out.stats.time_filter_contradicted);
    if (match == sim::window_match::start_time) {
        BOOST_TEST(events.empty());
        BOOST_TEST(out.stats.jobs_owned_elsewhere <= out.jobs.size() / 100); // boundary ties only
    } else {
        BOOST_TEST_REQUIRE(!events.empty());
        BOOST_TEST((events.back().filter == as_time_filter(match) ||
                    events.back().kind == fetch_event_kind::windows_merged));
    }
}

BOOST_DATA_TEST_CASE(stated_and_exactly_once, bdata::xrange(4), which) {
    const sim::window_match match = all_matches[which];
    sim_fixture fx(filtering_by(match));
    auto request = windowed(fx);
    request.server_time_filter = as_time_filter(match);
    const auto out = run_fetch(engine_config(fx), request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, expected_under(fx, request, match));
    BOOST_TEST((out.stats.server_time_filter == as_time_filter(match)));
    BOOST_TEST(!out.stats.time_filter_contradicted);
}

BOOST_AUTO_TEST_CASE(a_stated_filter_the_jobs_contradict_is_reported_and_nothing_is_lost) {
    sim_fixture fx(filtering_by(sim::window_match::finish_time));
    auto request = windowed(fx);
    request.server_time_filter = time_filter::start; // wrong: the server filters by finish time
    std::vector<fetch_event> events;
    auto config = engine_config(fx);
    config.on_fetch_event = [&](const fetch_event& e) { events.push_back(e); };
    const auto out = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, expected_under(fx, request, sim::window_match::finish_time));
    BOOST_TEST(out.stats.time_filter_contradicted);
    BOOST_TEST((out.stats.server_time_filter == time_filter::finish));
    const auto contradiction = std::find_if(events.begin(), events.end(), [](const fetch_event& e) {
        return e.kind == fetch_event_kind::time_filter_contradicted;
    });
    BOOST_TEST_REQUIRE((contradiction != events.end()));
    BOOST_TEST(contradiction->message.find("not 'start' as stated") != std::string::npos,
               contradiction->message);
}

BOOST_AUTO_TEST_CASE(an_ignored_filter_costs_about_one_window_per_organization) {
    sim_fixture fx(filtering_by(sim::window_match::ignored));
    auto request = windowed(fx);
    auto config = engine_config(fx);
    config.rate.max_in_flight = 8;
    const auto out = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, expected_under(fx, request, sim::window_match::ignored));
    // A single-window fetch pages each organization's whole set once (the server ignores the
    // range); learning that the filter is ignored may cost the pages in flight meanwhile.
    std::uint64_t single_window_pages = 0;
    for (const auto& org : request.organizations) {
        sim::filter all;
        all.organization = org;
        all.window = sim::window_match::ignored;
        const auto total = static_cast<std::int64_t>(fx.sim().select(all).size());
        single_window_pages +=
            static_cast<std::uint64_t>((total + request.page_size - 1) / request.page_size);
    }
    BOOST_TEST_MESSAGE("ignored filter: " << out.stats.requests << " requests, a single window "
                                          << single_window_pages);
    BOOST_TEST(out.stats.requests <= single_window_pages * 11 / 10);
    BOOST_TEST(out.stats.windows_merged > 0u);
    BOOST_TEST(out.stats.jobs_out_of_range > 0u);
}

BOOST_AUTO_TEST_CASE(jobs_skipped_between_pages_are_found_by_paging_again) {
    auto config = small_sim_config();
    config.dataset.jobs = 4000;
    config.dataset.begin = config.dataset.end - days{60};
    config.dataset.start_time_granularity = hours{1}; // scheduled jobs: many share a start
    config.jobs.unstable_order = true;
    sim_fixture fx(config);
    auto request = whole_dataset(fx); // every organization in one query: dense ties
    request.window = std::chrono::duration_cast<milliseconds>(days{7});
    request.page_size = 10;
    const auto out = run_fetch(engine_config(fx), request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, expected_jobs(fx, request));
    BOOST_TEST_MESSAGE("unstable order: " << out.stats.completeness_refetches
                                          << " completeness refetches, "
                                          << out.stats.duplicates_dropped << " repeats dropped");
    BOOST_TEST(out.stats.completeness_refetches > 0u); // gaps really happened, and were closed
}

BOOST_AUTO_TEST_CASE(a_total_count_the_pages_do_not_bear_out_fails_loudly_and_soon) {
    auto config = small_sim_config();
    config.jobs.huge_total = true;
    sim_fixture fx(config);
    auto request = whole_dataset(fx);
    request.organizations.push_back(fx.sim().organizations().front().id);
    request.on_failure = failure_policy::go_on;
    const auto out = run_fetch(engine_config(fx), request);
    BOOST_TEST((out.ec == errc::pages_failed));
    BOOST_TEST_REQUIRE(out.failures.size() == 1u);
    BOOST_TEST((out.failures.front().error == errc::implausible_total));
    BOOST_TEST(out.failures.front().diag.message.find("1000000000000000") != std::string::npos,
               out.failures.front().diag.message);
    BOOST_TEST(out.stats.requests <= 4u); // page 1, asked again at most max_drift_refetches times
}

BOOST_AUTO_TEST_CASE(a_body_that_is_not_a_jobs_page_is_never_an_empty_last_page) {
    auto config = small_sim_config();
    sim_fixture fx(config);
    sim::fault_rule rule;
    rule.kind = sim::fault_kind::no_jobs_body;
    rule.path = "/dynamicsbackup/jobs";
    rule.times = 0; // every jobs request
    fx.sim().add_fault_rule(rule);
    auto request = whole_dataset(fx);
    auto client = engine_config(fx);
    client.retry.max_attempts = 2;
    const auto out = run_fetch(client, request);
    BOOST_TEST((out.ec == errc::retries_exhausted));
    BOOST_TEST(out.diag.message.find("neither jobs nor totalCount") != std::string::npos,
               out.diag.message);
    BOOST_TEST(out.jobs.empty());
}

BOOST_AUTO_TEST_CASE(short_and_lying_pages_at_random_still_deliver_the_dataset) {
    auto config = faulty_config({sim::fault_kind::short_page, sim::fault_kind::huge_total,
                                 sim::fault_kind::no_jobs_body, sim::fault_kind::html_body},
                                0.1, 5);
    sim_fixture fx(config);
    auto request = whole_dataset(fx);
    for (const auto& org : fx.sim().organizations())
        request.organizations.push_back(org.id);
    request.window = std::chrono::duration_cast<milliseconds>(days{60});
    request.max_drift_refetches = 10;
    const auto out = run_fetch(patient_enough(fx), request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, expected_jobs(fx, request));
    BOOST_TEST(out.stats.drift_refetches > 0u);
}

BOOST_AUTO_TEST_CASE(a_server_refusing_the_page_size_is_asked_for_smaller_pages) {
    auto config = small_sim_config();
    config.jobs.max_page_size = 30;
    config.jobs.oversize = sim::oversize_page::reject; // 400 naming pageSize
    sim_fixture fx(config);
    auto request = whole_dataset(fx);
    for (const auto& org : fx.sim().organizations())
        request.organizations.push_back(org.id);
    request.window = std::chrono::duration_cast<milliseconds>(days{90});
    request.page_size = 100; // refused: 50 too, then 25 is served
    std::vector<fetch_event> events;
    auto client = engine_config(fx);
    client.on_fetch_event = [&](const fetch_event& e) { events.push_back(e); };
    const auto out = run_fetch(client, request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, expected_jobs(fx, request));
    BOOST_TEST(out.stats.page_size_reductions >= 2u);
    // Windows opened after the first refusals start at the smaller size: few 400s in all.
    std::size_t refused = 0;
    for (const auto& entry : fx.sim().request_log())
        refused += entry.status == 400;
    BOOST_TEST(refused <=
               2u * client.max_in_flight_per_organization * request.organizations.size());
    const auto reported = std::count_if(events.begin(), events.end(), [](const fetch_event& e) {
        return e.kind == fetch_event_kind::page_size_reduced;
    });
    BOOST_TEST(reported == 1); // logged once
}

BOOST_AUTO_TEST_SUITE_END()
