// Windows larger than the dedupe memory budget: their jobIds move to disk and every job still
// comes exactly once, through repeats and completeness refetches.
#include "engine_fixture.hpp"
#include "scratch_dir.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/unit_test.hpp>

using namespace dynjobs;
using namespace dynjobs::testkit;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(engine_dedupe)

namespace {

// One window of 20,000 jobs paged in an unstable order: pages repeat and skip jobs, so the
// fetch drops repeats and pages the window again for the ones skipped.
sim::sim_config unstable_window() {
    auto config = small_sim_config();
    config.dataset.jobs = 20'000;
    config.dataset.start_time_granularity = hours{1}; // many jobs share a start: dense ties
    config.jobs.unstable_order = true;
    return config;
}

// The whole window, in pages of 500: a job in a group of equal startTime that straddles a page
// boundary can be skipped by a pass; the completeness passes (the default 3) find it.
fetch_request unstable_request(sim_fixture& fx) {
    auto request = whole_dataset(fx);
    request.page_size = 500;
    return request;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_window_past_the_budget_spills_and_still_delivers_each_job_once) {
    sim_fixture fx(unstable_window());
    scratch_dir folder("spill");
    auto config = engine_config(fx);
    config.dedupe.memory_per_set = 64u << 10; // 3,072 ids in memory per set
    config.dedupe.spill_directory = folder.path().string();
    const auto request = unstable_request(fx);
    const auto out = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!out.ec, out.ec.message() << ": " << out.diag.message);
    require_exactly(out.jobs, expected_jobs(fx, request));
    BOOST_TEST_MESSAGE("spilled " << out.stats.job_ids_spilled << " ids, dropped "
                                  << out.stats.duplicates_dropped << " repeats, "
                                  << out.stats.completeness_refetches << " completeness refetches");
    BOOST_TEST(out.stats.job_ids_spilled >= 15'000u);
    BOOST_TEST(out.stats.duplicates_dropped + out.stats.completeness_refetches > 0u);
    // The runs were unnamed files, gone with the fetch.
    BOOST_TEST(std::filesystem::is_empty(folder.path()));
}

BOOST_AUTO_TEST_CASE(a_folder_that_takes_no_files_keeps_the_ids_in_memory_and_says_so) {
    sim_fixture fx(unstable_window());
    auto config = engine_config(fx);
    config.dedupe.memory_per_set = 64u << 10;
    config.dedupe.spill_directory = "/proc"; // a directory, where nobody may create a file
    std::vector<fetch_event> events;
    config.on_fetch_event = [&](const fetch_event& e) {
        if (e.kind == fetch_event_kind::dedupe_kept_in_memory)
            events.push_back(e);
    };
    const auto request = unstable_request(fx);
    const auto out = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!out.ec, out.ec.message() << ": " << out.diag.message);
    require_exactly(out.jobs, expected_jobs(fx, request));
    BOOST_TEST(out.stats.job_ids_spilled == 0u);
    BOOST_TEST_REQUIRE(events.size() == 1u);
    BOOST_TEST(events.front().message.find("/proc") != std::string::npos, events.front().message);
}

BOOST_AUTO_TEST_CASE(a_spill_folder_that_does_not_exist_is_refused_before_any_request) {
    sim_fixture fx;
    auto config = engine_config(fx);
    config.dedupe.spill_directory = "/nonexistent/spill";
    std::size_t requests = 0;
    config.on_request = [&](const request_event&) { ++requests; };
    const auto out = run_fetch(config, whole_dataset(fx));
    BOOST_TEST((out.ec == errc::invalid_argument));
    BOOST_TEST(out.diag.field == "dedupe.spill_directory");
    BOOST_TEST(out.diag.value == "/nonexistent/spill");
    BOOST_TEST(requests == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
