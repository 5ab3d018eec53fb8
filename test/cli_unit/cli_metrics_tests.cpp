// The /metrics exposition: what a Prometheus server parses, and the rules that keep a registry
// from exposing something it would reject.
#include "cli/metrics_registry.hpp"

#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <string>

using namespace dynjobs::cli;

BOOST_AUTO_TEST_SUITE(cli_metrics)

BOOST_AUTO_TEST_CASE(counters_and_gauges_render_with_help_type_and_labels) {
    metrics_registry m;
    m.declare("dynjobs_http_requests_total", metric_type::counter, "Requests by HTTP status.");
    m.declare("dynjobs_last_success_timestamp_seconds", metric_type::gauge,
              "When the last cycle succeeded.");
    m.add("dynjobs_http_requests_total", 3, {{"code", "200"}});
    m.add("dynjobs_http_requests_total", 1, {{"code", "429"}});
    m.add("dynjobs_http_requests_total", 2, {{"code", "200"}});
    m.set("dynjobs_last_success_timestamp_seconds", 1700000000.5);
    BOOST_TEST(m.render() == "# HELP dynjobs_http_requests_total Requests by HTTP status.\n"
                             "# TYPE dynjobs_http_requests_total counter\n"
                             "dynjobs_http_requests_total{code=\"200\"} 5\n"
                             "dynjobs_http_requests_total{code=\"429\"} 1\n"
                             "# HELP dynjobs_last_success_timestamp_seconds When the last cycle "
                             "succeeded.\n"
                             "# TYPE dynjobs_last_success_timestamp_seconds gauge\n"
                             "dynjobs_last_success_timestamp_seconds 1700000000.5\n");
    BOOST_TEST(m.value("dynjobs_http_requests_total", {{"code", "200"}}) == 5);
}

BOOST_AUTO_TEST_CASE(histograms_are_cumulative_with_an_inf_bucket_sum_and_count) {
    metrics_registry m;
    m.declare("dynjobs_cycle_duration_seconds", metric_type::histogram, "Cycle duration.",
              {1, 10, 60});
    for (double v : {0.5, 1.0, 7.0, 100.0})
        m.observe("dynjobs_cycle_duration_seconds", v);
    const std::string text = m.render();
    BOOST_TEST(text.find("dynjobs_cycle_duration_seconds_bucket{le=\"1\"} 2\n") != text.npos,
               "a value equal to a bound belongs in its bucket:\n"
                   << text);
    BOOST_TEST(text.find("dynjobs_cycle_duration_seconds_bucket{le=\"10\"} 3\n") != text.npos);
    BOOST_TEST(text.find("dynjobs_cycle_duration_seconds_bucket{le=\"60\"} 3\n") != text.npos);
    BOOST_TEST(text.find("dynjobs_cycle_duration_seconds_bucket{le=\"+Inf\"} 4\n") != text.npos);
    BOOST_TEST(text.find("dynjobs_cycle_duration_seconds_sum 108.5\n") != text.npos);
    BOOST_TEST(text.find("dynjobs_cycle_duration_seconds_count 4\n") != text.npos);
}

BOOST_AUTO_TEST_CASE(label_values_and_help_are_escaped) {
    metrics_registry m;
    m.declare("dynjobs_failures_total", metric_type::counter, "Back\\slash\nnew line");
    m.add("dynjobs_failures_total", 1, {{"organization", "a\"b\\c\nd"}});
    const std::string text = m.render();
    BOOST_TEST(text.find("# HELP dynjobs_failures_total Back\\\\slash\\nnew line\n") != text.npos);
    BOOST_TEST(text.find("dynjobs_failures_total{organization=\"a\\\"b\\\\c\\nd\"} 1\n") !=
               text.npos);
}

BOOST_AUTO_TEST_CASE(cleared_gauges_drop_the_label_values_of_an_earlier_cycle) {
    metrics_registry m;
    m.declare("dynjobs_cycle_jobs", metric_type::gauge, "Jobs seen in the last cycle by status.");
    m.set("dynjobs_cycle_jobs", 4, {{"status", "running"}});
    m.clear("dynjobs_cycle_jobs");
    m.set("dynjobs_cycle_jobs", 9, {{"status", "finished"}});
    const std::string text = m.render();
    BOOST_TEST(text.find("running") == text.npos);
    BOOST_TEST(text.find("dynjobs_cycle_jobs{status=\"finished\"} 9\n") != text.npos);
}

BOOST_AUTO_TEST_CASE(what_prometheus_would_reject_is_refused_at_declaration_or_update) {
    metrics_registry m;
    BOOST_CHECK_THROW(m.declare("dynjobs_pages", metric_type::counter, "no _total suffix"),
                      std::invalid_argument);
    BOOST_CHECK_THROW(m.declare("9pages_total", metric_type::counter, "bad name"),
                      std::invalid_argument);
    BOOST_CHECK_THROW(m.declare("dynjobs-pages_total", metric_type::counter, "bad name"),
                      std::invalid_argument);
    BOOST_CHECK_THROW(m.declare("dynjobs_d", metric_type::histogram, "unsorted", {5, 1}),
                      std::invalid_argument);
    BOOST_CHECK_THROW(m.declare("dynjobs_e", metric_type::histogram, "no buckets"),
                      std::invalid_argument);
    BOOST_CHECK_THROW(m.declare("dynjobs_g", metric_type::gauge, "buckets", {1}),
                      std::invalid_argument);
    m.declare("dynjobs_pages_total", metric_type::counter, "Pages.");
    BOOST_CHECK_THROW(m.declare("dynjobs_pages_total", metric_type::counter, "twice"),
                      std::invalid_argument);
    BOOST_CHECK_THROW(m.add("dynjobs_pages_total", -1), std::invalid_argument);
    BOOST_CHECK_THROW(m.set("dynjobs_pages_total", 1), std::invalid_argument);
    BOOST_CHECK_THROW(m.add("dynjobs_unknown_total", 1), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
