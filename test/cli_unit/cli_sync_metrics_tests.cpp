// What a dashboard reads from sync's /metrics after cycles: counters that add up across cycles,
// gauges that describe only the last one, and the lag of the stored data.
#include "cli/sync_metrics.hpp"
#include "cli_test_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace dynjobs;
using namespace dynjobs::cli;
using namespace dynjobs::cli::test;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != text.npos;
}

cycle_report cycle(std::uint64_t upserted, std::uint64_t changed, bool ok) {
    cycle_report c;
    c.stats.pages_done = 10;
    c.stats.bytes_received = 1000;
    c.stats.retries_by_cause[static_cast<std::size_t>(policy::retry_cause::http_429)] = 2;
    c.jobs_upserted = upserted;
    c.jobs_changed = changed;
    c.token_renewals = 1;
    c.duration = std::chrono::milliseconds(1500);
    c.succeeded = ok;
    c.finished_at = at("2024-06-01T00:00:00Z");
    return c;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli_sync_metrics)

BOOST_AUTO_TEST_CASE(a_scrape_before_the_first_cycle_lists_the_families_at_zero) {
    sync_metrics m;
    const auto text = m.render(at("2024-06-01T00:00:00Z"));
    BOOST_TEST(has_line(text, "dynjobs_jobs_upserted_total 0"), text);
    BOOST_TEST(has_line(text, "# TYPE dynjobs_cycle_duration_seconds histogram"));
    BOOST_TEST(has_line(text, "dynjobs_high_water_mark_lag_seconds -1"));
    BOOST_TEST(has_line(text, "dynjobs_last_success_timestamp_seconds 0"));
}

BOOST_AUTO_TEST_CASE(cycles_add_up_and_the_by_status_gauge_shows_the_last_cycle_only) {
    sync_metrics m;
    auto first = cycle(100, 0, true);
    first.jobs_by_status = {{job_status::in_progress, 4}, {job_status::finished, 96}};
    m.record_cycle(first);
    auto second = cycle(5, 4, false);
    second.jobs_by_status = {{job_status::finished, 5}};
    m.record_cycle(second);
    m.record_request(200);
    m.record_request(429);
    m.record_request(429);
    m.set_high_water_mark(at("2024-05-31T23:55:00Z"));
    const auto text = m.render(at("2024-06-01T00:00:00Z"));
    BOOST_TEST(has_line(text, "dynjobs_jobs_upserted_total 105"), text);
    BOOST_TEST(has_line(text, "dynjobs_jobs_changed_total 4"));
    BOOST_TEST(has_line(text, "dynjobs_pages_total 20"));
    BOOST_TEST(has_line(text, "dynjobs_retries_total{cause=\"429\"} 4"));
    BOOST_TEST(has_line(text, "dynjobs_token_renewals_total 2"));
    BOOST_TEST(has_line(text, "dynjobs_cycle_jobs{status=\"finished\"} 5"));
    BOOST_TEST(text.find("in_progress") == text.npos);
    BOOST_TEST(has_line(text, "dynjobs_http_requests_total{code=\"429\"} 2"));
    BOOST_TEST(has_line(text, "dynjobs_throttled_total 2"));
    BOOST_TEST(has_line(text, "dynjobs_cycles_total{result=\"success\"} 1"));
    BOOST_TEST(has_line(text, "dynjobs_cycles_total{result=\"failure\"} 1"));
    BOOST_TEST(has_line(text, "dynjobs_cycle_duration_seconds_count 2"));
    BOOST_TEST(has_line(text, "dynjobs_cycle_duration_seconds_bucket{le=\"2.5\"} 2"));
    BOOST_TEST(has_line(text, "dynjobs_last_success_timestamp_seconds 1717200000"));
    BOOST_TEST(has_line(text, "dynjobs_high_water_mark_lag_seconds 300"));
}

BOOST_AUTO_TEST_CASE(an_undocumented_status_is_labelled_by_its_number) {
    sync_metrics m;
    auto c = cycle(1, 0, true);
    c.jobs_by_status = {{static_cast<job_status>(9), 1}};
    m.record_cycle(c);
    BOOST_TEST(
        has_line(m.render(at("2024-06-01T00:00:00Z")), "dynjobs_cycle_jobs{status=\"9\"} 1"));
}

BOOST_AUTO_TEST_SUITE_END()
