// sync's log lines: one per event, parseable by a log collector in JSON, readable in text.
#include "cli/sync_log.hpp"
#include "cli_test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace dynjobs;
using namespace dynjobs::cli;
using namespace dynjobs::cli::test;
namespace json = boost::json;

namespace {

cycle_report sample() {
    cycle_report c;
    c.stats.pages_done = 12;
    c.stats.requests = 13;
    c.stats.throttled = 1;
    c.stats.retries = 1;
    c.jobs_upserted = 7;
    c.jobs_changed = 3;
    c.jobs_by_status = {{job_status::finished, 100}, {job_status::in_progress, 20}};
    c.duration = std::chrono::milliseconds(1500);
    c.succeeded = true;
    c.finished_at = at("2024-06-01T00:05:00Z");
    return c;
}

const sync_range range{at("2024-05-30T00:00:00Z"), at("2024-06-01T00:05:00Z")};

} // namespace

BOOST_AUTO_TEST_SUITE(cli_sync_log)

BOOST_AUTO_TEST_CASE(a_cycle_is_one_text_line) {
    BOOST_TEST(format_cycle_line(log_format::text, range, sample()) ==
               "2024-06-01T00:05:00Z info cycle ok 2024-05-30T00:00:00Z..2024-06-01T00:05:00Z "
               "jobs 120 upserted 7 changed 3 pages 12 requests 13 429s 1 retries 1 1.5s");
}

BOOST_AUTO_TEST_CASE(a_cycle_is_one_json_object_with_typed_fields) {
    auto c = sample();
    c.succeeded = false;
    const auto line = format_cycle_line(log_format::json, range, c);
    BOOST_TEST(line.find('\n') == line.npos);
    const auto o = json::parse(line).as_object();
    BOOST_TEST(o.at("level").as_string() == "error");
    BOOST_TEST(o.at("result").as_string() == "failure");
    BOOST_TEST(o.at("start").as_string() == "2024-05-30T00:00:00Z");
    BOOST_TEST(o.at("jobs").to_number<int>() == 120);
    BOOST_TEST(o.at("changed").to_number<int>() == 3);
    BOOST_TEST(o.at("duration_seconds").as_double() == 1.5);
}

BOOST_AUTO_TEST_CASE(an_interrupted_cycle_is_a_line_at_info_in_both_formats) {
    auto c = sample();
    c.succeeded = false;
    c.interrupted = true;
    BOOST_TEST(
        format_cycle_line(log_format::text, range, c)
            .starts_with("2024-06-01T00:05:00Z info cycle interrupted 2024-05-30T00:00:00Z.."));
    const auto o = json::parse(format_cycle_line(log_format::json, range, c)).as_object();
    BOOST_TEST(o.at("level").as_string() == "info");
    BOOST_TEST(o.at("result").as_string() == "interrupted");
}

BOOST_AUTO_TEST_CASE(an_error_stays_on_one_line_in_both_formats) {
    const auto t = at("2024-06-01T00:05:00Z");
    BOOST_TEST(format_error_line(log_format::text, t, "database down\nretrying") ==
               "2024-06-01T00:05:00Z error database down retrying");
    const auto line = format_error_line(log_format::json, t, "say \"hi\"\nthere");
    BOOST_TEST(line.find('\n') == line.npos);
    BOOST_TEST(json::parse(line).at("message").as_string() == "say \"hi\"\nthere");
}

BOOST_AUTO_TEST_CASE(log_formats_are_text_or_json) {
    BOOST_TEST((parse_log_format("json") == log_format::json));
    BOOST_TEST((parse_log_format("text") == log_format::text));
    BOOST_TEST(!parse_log_format("JSON").has_value());
    BOOST_TEST(!parse_log_format("").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
