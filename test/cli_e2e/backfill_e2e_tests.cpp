// `dynjobs backfill` against `dynjobs sim`, both as processes: the output is the dataset.
#include "e2e_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace dynjobs;
using namespace dynjobs::e2e;

BOOST_AUTO_TEST_SUITE(backfill_e2e)

BOOST_AUTO_TEST_CASE(jsonl_output_is_the_dataset_job_by_job) {
    scratch_dir dir;
    sim_process sim(dir);
    const auto r = run(against(sim, {"backfill", "--output", dir / "jobs.jsonl", "--window", "60d",
                                     "--stats-json", dir / "stats.json"}),
                       sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    require_exactly(read_jsonl(dir.path() / "jobs.jsonl"),
                    sim.expected(range_start(), range_finish()));
    const auto stats = boost::json::parse(read_text(dir.path() / "stats.json")).as_object();
    BOOST_TEST(stats.at("outcome").as_string() == "complete");
    BOOST_TEST(stats.at("jobsWritten").to_number<std::size_t>() == 5'000u);
    BOOST_TEST(r.err.find("backfill complete: 5,000 jobs written") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(csv_output_is_the_dataset_job_by_job) {
    scratch_dir dir;
    sim_process sim(dir, {.organizations = 3, .jobs = 3'000, .seed = 11, .extra = {}});
    const auto r = run(against(sim, {"backfill", "--format", "csv", "--output", dir / "jobs.csv",
                                     "--page-size", "37"}),
                       sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    require_exactly(read_csv(dir.path() / "jobs.csv"), sim.expected(range_start(), range_finish()));
}

BOOST_AUTO_TEST_CASE(organizations_and_type_select_a_subset) {
    scratch_dir dir;
    sim_process sim(dir);
    const auto all = sim.expected(range_start(), range_finish());
    const auto org = all.front().organization;
    std::vector<job> expected;
    for (const auto& j : all)
        if (j.organization == org && j.type == job_type::backup)
            expected.push_back(j);
    const auto r = run(against(sim, {"backfill", "--output", dir / "jobs.jsonl", "--type", "backup",
                                     "--org", org.to_string()}),
                       sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    BOOST_TEST_REQUIRE(!expected.empty());
    require_exactly(read_jsonl(dir.path() / "jobs.jsonl"), expected);
}

BOOST_AUTO_TEST_CASE(stdout_output_carries_the_jobs_and_stderr_the_summary) {
    scratch_dir dir;
    sim_process sim(dir, {.organizations = 2, .jobs = 500, .seed = 3, .extra = {}});
    const auto r =
        run(against(sim, {"backfill", "--output", "-"}), sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    require_exactly(read_jsonl(dir.path() / "run.stdout"),
                    sim.expected(range_start(), range_finish()));
    BOOST_TEST(r.err.find("backfill complete") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_embedded_default_backfills_the_default_dataset) {
    scratch_dir dir;
    const auto r = run({"backfill", "--output", dir / "jobs.jsonl"}, {}, dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    BOOST_TEST(r.err.find("embedded simulator") != std::string::npos, r.err);
    const sim::dataset data{sim::dataset_config{}};
    require_exactly(read_jsonl(dir.path() / "jobs.jsonl"), data.jobs());
}

BOOST_AUTO_TEST_CASE(a_refused_secret_exits_3_and_names_the_oauth_error) {
    scratch_dir dir;
    sim_process sim(dir, {.organizations = 1, .jobs = 10, .seed = 1, .extra = {}});
    const auto r = run(against(sim, {"backfill", "--output", dir / "jobs.jsonl"}),
                       {{"DYNJOBS_CLIENT_SECRET", "not-the-secret"}}, dir.path());
    BOOST_TEST(r.how.exit_status == 3, r.err);
    BOOST_TEST(r.err.find("invalid_client") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("not-the-secret") == std::string::npos, "the secret leaked: " << r.err);
}

BOOST_AUTO_TEST_CASE(a_page_that_keeps_failing_exits_2_and_is_listed) {
    scratch_dir dir;
    sim_process sim(
        dir,
        {.organizations = 1, .jobs = 2'000, .seed = 5, .extra = {"--fault", "page=3,times=0:500"}});
    const auto r = run(against(sim, {"backfill", "--output", dir / "jobs.jsonl", "--window", "none",
                                     "--stats-json", dir / "stats.json"}),
                       sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 2, r.err);
    BOOST_TEST(r.err.find("1 failed page(s)") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("page 3: ") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("HTTP 500") != std::string::npos, r.err);
    const auto stats = boost::json::parse(read_text(dir.path() / "stats.json")).as_object();
    BOOST_TEST(stats.at("exitStatus").as_int64() == 2);
    BOOST_TEST(stats.at("failures").as_array().size() == 1u);
    // Every other page is in the output, each job once.
    const auto written = read_jsonl(dir.path() / "jobs.jsonl");
    BOOST_TEST(written.size() == 2'000u - 100u);
}

BOOST_AUTO_TEST_CASE(a_rate_limited_api_is_met_with_few_429s) {
    scratch_dir dir;
    sim_process sim(
        dir, {.organizations = 3, .jobs = 6'000, .seed = 17, .extra = {"--rate-limit", "100"}});
    const auto r = run(against(sim, {"backfill", "--output", dir / "jobs.jsonl", "--page-size",
                                     "25", "--stats-json", dir / "stats.json"}),
                       sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    require_exactly(read_jsonl(dir.path() / "jobs.jsonl"),
                    sim.expected(range_start(), range_finish()));
    const auto stats = boost::json::parse(read_text(dir.path() / "stats.json")).as_object();
    const auto requests = stats.at("requests").to_number<double>();
    const auto throttled = stats.at("throttled").to_number<double>();
    BOOST_TEST_MESSAGE(throttled << " of " << requests << " requests answered 429");
    BOOST_TEST(requests >= 240.0); // 6,000 jobs in pages of 25
    // The first wave overruns the burst whatever the client does (about half of these on so
    // short a run); pausing per 429 without learning the rate gets about a quarter refused.
    BOOST_TEST(throttled <= 0.15 * requests);
}

BOOST_AUTO_TEST_SUITE_END()
