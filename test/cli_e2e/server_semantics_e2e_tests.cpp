// `dynjobs backfill` against servers that do not behave like the default simulator: one that
// filters by finish time or not at all, and one that drops connections in bursts. Each run
// writes exactly the dataset and says what it found out.
#include "e2e_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace dynjobs;
using namespace dynjobs::e2e;

namespace {

// What one unwindowed query of the tests' range selects from `sim` under `match`.
std::vector<job> selected_by(const sim_process& sim, sim::window_match match) {
    sim::dataset_config config;
    config.seed = sim.options().seed;
    config.organizations = sim.options().organizations;
    config.jobs = sim.options().jobs;
    const sim::dataset data(config);
    sim::filter f;
    f.start = range_start();
    f.finish = range_finish();
    f.window = match;
    return data.select(f);
}

boost::json::object stats_of(const scratch_dir& dir) {
    return boost::json::parse(read_text(dir.path() / "stats.json")).as_object();
}

} // namespace

BOOST_AUTO_TEST_SUITE(server_semantics_e2e)

BOOST_AUTO_TEST_CASE(a_server_filtering_by_finish_time_loses_no_job) {
    scratch_dir dir;
    sim_process sim(
        dir, {.organizations = 4, .jobs = 20'000, .seed = 9, .extra = {"--time-filter", "finish"}});
    const auto r = run(against(sim, {"backfill", "--output", dir / "jobs.jsonl", "--window", "2d",
                                     "--stats-json", dir / "stats.json"}),
                       sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    require_exactly(read_jsonl(dir.path() / "jobs.jsonl"),
                    selected_by(sim, sim::window_match::finish_time));
    BOOST_TEST(r.err.find("server time filter: finish") != std::string::npos, r.err);
    BOOST_TEST(stats_of(dir).at("serverTimeFilter").as_string() == "finish");
    BOOST_TEST(!stats_of(dir).at("timeFilterContradicted").as_bool());
}

BOOST_AUTO_TEST_CASE(a_wrong_time_filter_is_a_warning_not_a_loss) {
    scratch_dir dir;
    sim_process sim(
        dir, {.organizations = 4, .jobs = 20'000, .seed = 9, .extra = {"--time-filter", "finish"}});
    const auto r =
        run(against(sim, {"backfill", "--output", dir / "jobs.jsonl", "--window", "2d",
                          "--time-filter", "start", "--quiet", "--stats-json", dir / "stats.json"}),
            sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    require_exactly(read_jsonl(dir.path() / "jobs.jsonl"),
                    selected_by(sim, sim::window_match::finish_time));
    // Printed even under --quiet.
    BOOST_TEST(r.err.find("warning: the server's time filter is not 'start' as stated") !=
                   std::string::npos,
               r.err);
    BOOST_TEST(stats_of(dir).at("timeFilterContradicted").as_bool());
}

BOOST_AUTO_TEST_CASE(a_server_ignoring_the_time_filter_is_fetched_once_per_organization) {
    scratch_dir dir;
    sim_process sim(
        dir, {.organizations = 5, .jobs = 5'000, .seed = 7, .extra = {"--time-filter", "ignored"}});
    // A range of one year inside the two of the data: the rest is the server's noise.
    const auto since = range_start() + std::chrono::days{200};
    const auto until = since + std::chrono::days{365};
    std::vector<std::string> args = {"backfill",
                                     "--output",
                                     (dir / "jobs.jsonl"),
                                     "--since",
                                     format_iso8601(since),
                                     "--until",
                                     format_iso8601(until),
                                     "--stats-json",
                                     (dir / "stats.json")};
    for (const auto& c : sim.connection())
        args.push_back(c);
    const auto r = run(args, sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    sim::dataset_config config;
    config.seed = 7;
    config.organizations = 5;
    config.jobs = 5'000;
    const sim::dataset data(config);
    sim::filter f;
    f.start = since;
    f.finish = until;
    require_exactly(read_jsonl(dir.path() / "jobs.jsonl"), data.select(f));
    const auto stats = stats_of(dir);
    BOOST_TEST(stats.at("serverTimeFilter").as_string() == "ignored");
    BOOST_TEST(stats.at("jobsOutOfRange").to_number<std::uint64_t>() > 0u);
    // One unfiltered query pages all 5,000 jobs once: 50 pages; finding out costs what was in
    // flight (16 by default) at most.
    BOOST_TEST(stats.at("requests").to_number<std::uint64_t>() <= 50u + 16u);
    BOOST_TEST(r.err.find("server time filter: ignored") != std::string::npos, r.err);
}

// The reproduction of the double free: bursts of 32 consecutive connection closes at
// concurrency 32, with the server also ending every connection after 6 requests.
BOOST_AUTO_TEST_CASE(bursts_of_closed_connections_at_concurrency_32_lose_nothing) {
    scratch_dir dir;
    sim_process sim(dir, {.organizations = 20,
                          .jobs = 20'000,
                          .seed = 13,
                          .extra = {"--keepalive-requests", "6", "--fault",
                                    "nth=100,times=32,path=/dynamicsbackup/jobs:close", "--fault",
                                    "nth=400,times=32,path=/dynamicsbackup/jobs:close", "--fault",
                                    "nth=700,times=32,path=/dynamicsbackup/jobs:close"}});
    const auto r =
        run(against(sim, {"backfill", "--output", dir / "jobs.jsonl", "--concurrency", "32",
                          "--page-size", "20", "--stats-json", dir / "stats.json"}),
            sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    require_exactly(read_jsonl(dir.path() / "jobs.jsonl"),
                    sim.expected(range_start(), range_finish()));
    const auto stats = stats_of(dir);
    BOOST_TEST(stats.at("requests").to_number<std::uint64_t>() > 1000u);
    const auto& reconnects = stats.at("reconnects").as_object();
    BOOST_TEST(reconnects.at("serverClose").to_number<std::uint64_t>() > 0u);
    BOOST_TEST(stats.at("tlsSessionsResumed").to_number<std::uint64_t>() > 0u);
    BOOST_TEST(r.err.find("reconnects: server close") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_SUITE_END()
