// Jobs that change while a fetch runs: a job seen running that finishes meanwhile, in a window
// that is then paged again, is still delivered exactly once.
#include "engine_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <set>

using namespace dynjobs;
using namespace dynjobs::testkit;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(engine_job_changes)

BOOST_AUTO_TEST_CASE(a_running_job_that_finishes_into_another_window_during_a_refetch_comes_once) {
    // Half a day of jobs: the newest ones are still running at the dataset's end E.
    auto config = small_sim_config();
    config.dataset.organizations = 1;
    config.dataset.jobs = 600;
    config.dataset.begin = config.dataset.end - 12h;
    sim_fixture fx(config);
    const timestamp end = config.dataset.end;

    fetch_request request;
    request.start = end - 2h;
    request.finish = end + 1h;
    request.window = std::chrono::duration_cast<std::chrono::milliseconds>(1h);
    request.page_size = 5;
    constexpr std::size_t last_hour = 1; // [E - 1h, E): where the running jobs start

    // One request at a time, so the window's pages come in order: page 1 (the newest jobs, the
    // running ones) is delivered before anything changes.
    auto client = engine_config(fx);
    client.max_in_flight_per_organization = 1;
    client.rate.max_in_flight = 1;
    client.pool.max_connections = 1;
    std::vector<job> finished;
    bool changed = false;
    client.on_request = [&](const request_event& e) {
        if (changed || e.window != last_hour || e.page_index != 1 || e.status != 200)
            return;
        changed = true;
        // The running jobs finish (most of them after E, in the next window), and a job is
        // added to the window on the next request, so the window's totalCount moves and the
        // fetch pages it again from the start.
        finished = fx.sim().finish_running_jobs(end + 7h);
        sim::fault_rule drift;
        drift.kind = sim::fault_kind::drift_insert;
        drift.path = "/dynamicsbackup/jobs";
        fx.sim().add_fault_rule(drift);
    };

    const auto out = run_fetch(client, request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    BOOST_TEST_REQUIRE(changed);
    BOOST_TEST_REQUIRE(!finished.empty(), "no job was running in the last hour");
    BOOST_TEST(out.stats.drift_refetches > 0u);
    for (const auto& [id, n] : id_counts(out.jobs))
        BOOST_TEST(n == 1, id << " delivered " << n << " times");
    // Every job once, as the server showed it at one moment: a job that finished meanwhile may
    // come as it was when first seen (running); a fetch delivers each job once, and the next
    // fetch (dynjobs sync) brings the change.
    std::map<std::string, job> now;
    for (auto& j : fx.sim().select(filter_of(request)))
        now.emplace(j.job_id, std::move(j));
    std::set<std::string> changed_ids;
    for (const auto& j : finished)
        changed_ids.insert(j.job_id);
    BOOST_TEST_REQUIRE(out.jobs.size() == now.size());
    for (const auto& j : out.jobs) {
        const auto it = now.find(j.job_id);
        BOOST_TEST_REQUIRE((it != now.end()), j.job_id << " is not in the dataset");
        if (!(it->second == j)) {
            BOOST_TEST(changed_ids.count(j.job_id) == 1u, j.job_id << " differs");
            BOOST_TEST((j.status == job_status::in_progress), j.job_id);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
