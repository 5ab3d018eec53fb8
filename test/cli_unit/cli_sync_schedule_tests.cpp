// When `dynjobs sync` runs, what each cycle fetches, and when it reports itself ready.
#include "cli/sync_schedule.hpp"
#include "cli_test_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace dynjobs;
using namespace dynjobs::cli;
using namespace dynjobs::cli::test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

BOOST_AUTO_TEST_SUITE(cli_sync_schedule)

BOOST_AUTO_TEST_CASE(the_first_cycle_is_a_backfill_from_since) {
    sync_schedule s{at("2024-01-01T00:00:00Z"), 5min, 48h};
    const auto r = cycle_range(s, std::nullopt, at("2024-06-01T00:00:00Z"));
    BOOST_TEST(format_iso8601(r.start) == "2024-01-01T00:00:00Z");
    BOOST_TEST(format_iso8601(r.finish) == "2024-06-01T00:00:00Z");
}

BOOST_AUTO_TEST_CASE(later_cycles_go_back_lookback_from_the_high_water_mark_but_not_past_since) {
    sync_schedule s{at("2024-01-01T00:00:00Z"), 5min, 48h};
    auto r = cycle_range(s, at("2024-06-01T00:00:00Z"), at("2024-06-01T00:05:00Z"));
    BOOST_TEST(format_iso8601(r.start) == "2024-05-30T00:00:00Z");
    BOOST_TEST(format_iso8601(r.finish) == "2024-06-01T00:05:00Z");
    r = cycle_range(s, at("2024-01-02T00:00:00Z"), at("2024-01-02T00:05:00Z"));
    BOOST_TEST(format_iso8601(r.start) == "2024-01-01T00:00:00Z");
}

BOOST_AUTO_TEST_CASE(a_clock_set_back_gives_an_empty_range_not_an_inverted_one) {
    sync_schedule s{at("2024-01-01T00:00:00Z"), 5min, 1h};
    const auto r = cycle_range(s, at("2024-06-01T00:00:00Z"), at("2024-05-01T00:00:00Z"));
    BOOST_TEST((r.start == r.finish));
}

BOOST_AUTO_TEST_CASE(cycles_start_every_interval_and_an_overrun_is_not_caught_up_in_a_burst) {
    const steady::time_point t0{};
    BOOST_TEST((next_cycle_start(t0, t0 + 1min, 5min) == t0 + 5min));
    BOOST_TEST((next_cycle_start(t0, t0 + 17min, 5min) == t0 + 17min));
}

BOOST_AUTO_TEST_CASE(ready_means_a_cycle_succeeded_within_two_intervals) {
    const steady::time_point t0{};
    BOOST_TEST(!is_ready(std::nullopt, t0, 5min));
    BOOST_TEST(is_ready(t0, t0 + 9min, 5min));
    BOOST_TEST(is_ready(t0, t0 + 10min, 5min));
    BOOST_TEST(!is_ready(t0, t0 + 10min + 1ms, 5min));
}

BOOST_AUTO_TEST_SUITE_END()
