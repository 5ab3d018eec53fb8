// What the operator reads at the end (and while it runs), and the exit status scripts test.
#include "cli/report.hpp"
#include "cli_test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <limits>

using namespace dynjobs;
using namespace dynjobs::cli;
using namespace dynjobs::cli::test;
using namespace std::chrono;

namespace {

page_failure failure(std::int64_t page, int status, std::string message) {
    page_failure f;
    f.organization = organization_id::parse("3f2504e0-4f89-41d3-9a0c-0305e82c3301");
    f.window = 3;
    f.window_start = at("2024-01-01T00:00:00Z");
    f.window_finish = at("2024-01-31T00:00:00Z");
    f.page_index = page;
    f.diag.http_status = status;
    f.diag.url = "https://api.example.com/dynamicsbackup/jobs?pageIndex=" + std::to_string(page);
    f.diag.message = std::move(message);
    return f;
}

run_result finished_with_failures() {
    run_result r;
    r.outcome = run_outcome::failed;
    r.totals.jobs_written = 1'234'567;
    r.totals.elapsed = milliseconds(10'000);
    r.totals.segments_total = 40;
    r.totals.segments_done = 39;
    r.totals.stats.pages_done = 12'000;
    r.totals.stats.pages_failed = 2;
    r.totals.stats.requests = 12'345;
    r.totals.stats.retries = 5;
    r.totals.stats.retries_by_cause[static_cast<std::size_t>(policy::retry_cause::http_429)] = 3;
    r.totals.stats.retries_by_cause[static_cast<std::size_t>(policy::retry_cause::http_503)] = 2;
    r.totals.stats.throttled = 3;
    r.totals.stats.duplicates_dropped = 4;
    r.totals.stats.job_ids_spilled = 4'096;
    r.totals.resume_duplicates = 6;
    // As the engine writes them: the window and page first.
    r.failures = {
        failure(7, 500, "window 2024-01-01T00:00:00Z..2024-01-31T00:00:00Z, page 7: HTTP 500"),
        failure(9, 404, "window 2024-01-01T00:00:00Z..2024-01-31T00:00:00Z, page 9: HTTP 404")};
    r.output = "/data/jobs.jsonl";
    r.checkpoint = "/data/jobs.jsonl.checkpoint";
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli_report)

BOOST_AUTO_TEST_CASE(exit_statuses) {
    BOOST_TEST(exit_status(run_outcome::complete) == 0);
    BOOST_TEST(exit_status(run_outcome::failed) == 2);
    BOOST_TEST(exit_status(run_outcome::auth_failed) == 3);
    BOOST_TEST(exit_status(run_outcome::interrupted) == 130);
    BOOST_TEST(exit_status(run_outcome::misconfigured) == 1);
}

BOOST_AUTO_TEST_CASE(thousands_separators) {
    BOOST_TEST(with_separators(0) == "0");
    BOOST_TEST(with_separators(999) == "999");
    BOOST_TEST(with_separators(1000) == "1,000");
    BOOST_TEST(with_separators(100000) == "100,000");
    BOOST_TEST(with_separators(1234567) == "1,234,567");
    BOOST_TEST(with_separators(std::numeric_limits<std::uint64_t>::max()) ==
               "18,446,744,073,709,551,615");
}

BOOST_AUTO_TEST_CASE(progress_line) {
    run_snapshot s;
    s.stats.pages_done = 120;
    s.stats.pages_planned = 400;
    s.stats.retries = 3;
    s.stats.throttled = 1;
    s.jobs_written = 12'034;
    s.segments_total = 500;
    s.segments_done = 10;
    s.elapsed = seconds(2);
    const auto line = format_progress(s);
    BOOST_TEST(line.find('\n') == std::string::npos);
    check_names(
        line, {"pages 120/400", "jobs 12,034 (6,017/s)", "windows 10/500", "retries 3", "429s 1"});
    // 10 windows in 2 s, 490 left: 98 s.
    check_names(line, {"ETA 1:38"});
}

BOOST_AUTO_TEST_CASE(progress_after_resume_counts_only_this_runs_speed) {
    run_snapshot s;
    s.jobs_before = 1'000'000;
    s.jobs_written = 500;
    s.segments_before = 100;
    s.segments_done = 100;
    s.segments_total = 200;
    s.elapsed = seconds(1);
    const auto line = format_progress(s);
    check_names(line, {"jobs 1,000,500 (500/s)", "windows 100/200"});
    // Nothing done yet by this run: no ETA to guess from.
    BOOST_TEST(line.find("ETA") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(summary_lists_each_failure) {
    const auto text = format_summary(finished_with_failures());
    check_names(text,
                {"failed", "1,234,567 jobs written", "123,456 jobs/s", "duplicates dropped 10",
                 "windows 39/40", "requests 12,345", "jobIds on disk 4,096", "/data/jobs.jsonl",
                 "/data/jobs.jsonl.checkpoint", "2 failed page(s)"});
    check_names(text, {"3f2504e0-4f89-41d3-9a0c-0305e82c3301", "2024-01-01T00:00:00",
                       "page 7: HTTP 500", "page 9: HTTP 404"});
    // The organization is added, the window and page are not repeated.
    BOOST_TEST(text.find("3f2504e0-4f89-41d3-9a0c-0305e82c3301, window 2024-01-01T00:00:00Z..") !=
               std::string::npos);
    BOOST_TEST(text.find("page 7: window") == std::string::npos);
    check_names(text, {"retries 5 (429 3, 503 2)"});
}

BOOST_AUTO_TEST_CASE(interrupted_summary_says_how_to_resume) {
    run_result r;
    r.outcome = run_outcome::interrupted;
    r.output = "/data/jobs.jsonl";
    r.checkpoint = "/data/jobs.jsonl.checkpoint";
    check_names(format_summary(r), {"interrupted", "--resume"});
    r.checkpoint.clear(); // stdout: nothing to resume
    BOOST_TEST(format_summary(r).find("--resume") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(summary_json_has_the_counts) {
    const auto r = finished_with_failures();
    const auto v = boost::json::parse(format_summary_json(r));
    const auto& o = v.as_object();
    BOOST_TEST(o.at("outcome").as_string() == "failed");
    BOOST_TEST(o.at("exitStatus").to_number<int>() == 2);
    BOOST_TEST(o.at("jobsWritten").to_number<std::uint64_t>() == 1'234'567u);
    BOOST_TEST(o.at("jobsInOutput").to_number<std::uint64_t>() == 1'234'567u);
    BOOST_TEST(o.at("duplicatesDropped").to_number<std::uint64_t>() == 10u);
    BOOST_TEST(o.at("jobIdsSpilled").to_number<std::uint64_t>() == 4'096u);
    BOOST_TEST(o.at("windowsTotal").to_number<std::uint64_t>() == 40u);
    BOOST_TEST(o.at("windowsDone").to_number<std::uint64_t>() == 39u);
    BOOST_TEST(o.at("pagesDone").to_number<std::uint64_t>() == 12'000u);
    BOOST_TEST(o.at("pagesFailed").to_number<std::uint64_t>() == 2u);
    BOOST_TEST(o.at("requests").to_number<std::uint64_t>() == 12'345u);
    BOOST_TEST(o.at("retries").to_number<std::uint64_t>() == 5u);
    BOOST_TEST(o.at("throttled").to_number<std::uint64_t>() == 3u);
    BOOST_TEST(o.at("elapsedSeconds").to_number<double>() == 10.0);
    BOOST_TEST(o.at("output").as_string() == "/data/jobs.jsonl");

    std::uint64_t by_cause = 0;
    for (const auto& m : o.at("retriesByCause").as_object())
        by_cause += m.value().to_number<std::uint64_t>();
    BOOST_TEST(by_cause == 5u);

    const auto& failures = o.at("failures").as_array();
    BOOST_REQUIRE(failures.size() == 2u);
    const auto& f = failures[0].as_object();
    BOOST_TEST(f.at("organizationId").as_string() == "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
    BOOST_TEST(f.at("pageIndex").to_number<int>() == 7);
    BOOST_TEST(f.at("httpStatus").to_number<int>() == 500);
    BOOST_TEST(f.at("message").as_string() ==
               "window 2024-01-01T00:00:00Z..2024-01-31T00:00:00Z, page 7: HTTP 500");
}

BOOST_AUTO_TEST_CASE(summary_json_of_a_clean_run) {
    run_result r;
    r.totals.jobs_before = 10;
    r.totals.jobs_written = 5;
    r.output = "<stdout>";
    const auto v = boost::json::parse(format_summary_json(r));
    const auto& o = v.as_object();
    BOOST_TEST(o.at("exitStatus").to_number<int>() == 0);
    BOOST_TEST(o.at("jobsInOutput").to_number<std::uint64_t>() == 15u);
    BOOST_TEST(o.at("jobsPerSecond").to_number<double>() == 0.0); // no time elapsed: no division
    BOOST_TEST(o.at("failures").as_array().empty());
}

BOOST_AUTO_TEST_SUITE_END()
