// Times and spans as the command line writes them.
#include "cli/time_spec.hpp"
#include "cli_test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>

using namespace dynjobs::cli;
using namespace dynjobs::cli::test;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(cli_time_spec)

BOOST_AUTO_TEST_CASE(span_units) {
    BOOST_TEST(parse_span("1s")->count() == 1'000);
    BOOST_TEST(parse_span("90s")->count() == 90'000);
    BOOST_TEST(parse_span("5m")->count() == 300'000);
    BOOST_TEST(parse_span("12h")->count() == 12 * 3'600'000LL);
    BOOST_TEST(parse_span("90d")->count() == 90 * 86'400'000LL);
    BOOST_TEST(parse_span("2w")->count() == 14 * 86'400'000LL);
}

BOOST_AUTO_TEST_CASE(span_refuses_zero_sign_junk_and_other_units) {
    for (std::string_view bad : {"", "d", "0d", "0s", "-1d", "+1d", "1", "10", "1y", "1D", "1 d",
                                 " 1d", "1.5h", "1dd", "d1", "1ms", "0x10d", "١d"}) {
        BOOST_TEST(!parse_span(bad), "'" << bad << "' should be refused");
    }
}

BOOST_AUTO_TEST_CASE(span_caps_at_a_hundred_years_without_overflow) {
    BOOST_TEST(parse_span("36600d").has_value());
    BOOST_TEST(!parse_span("36601d"));
    BOOST_TEST(parse_span("5228w").has_value());
    BOOST_TEST(!parse_span("5229w"));
    BOOST_TEST(!parse_span("3162240001s"));
    // Larger than any integer type: refused, not wrapped around to a small span.
    BOOST_TEST(!parse_span("99999999999999999999d"));
    BOOST_TEST(!parse_span("9223372036854775807s"));
    BOOST_TEST(!parse_span("1537228672809129301w")); // times 604,800,000 would wrap an int64
}

BOOST_AUTO_TEST_CASE(bare_date_is_midnight_utc) {
    const auto now = at("2026-06-15T12:00:00Z");
    BOOST_TEST((parse_time_point("2024-01-01", now) == at("2024-01-01T00:00:00Z")));
    BOOST_TEST((parse_time_point("2024-02-29", now) == at("2024-02-29T00:00:00Z")));
    for (std::string_view bad : {"2024-1-1", "2024-13-01", "2024-02-30", "2023-02-29", "2024/01/01",
                                 "24-01-01", "2024-01-01x", "20240101"})
        BOOST_TEST(!parse_time_point(bad, now), "'" << bad << "' should be refused");
}

BOOST_AUTO_TEST_CASE(iso_times_with_fractions_and_offsets) {
    const auto now = at("2026-06-15T12:00:00Z");
    BOOST_TEST((parse_time_point("2024-01-01T08:00:00Z", now) == at("2024-01-01T08:00:00Z")));
    const auto frac = parse_time_point("2024-01-01T08:00:00.123Z", now);
    BOOST_REQUIRE(frac);
    BOOST_TEST((*frac - at("2024-01-01T08:00:00Z")) == milliseconds(123));
    // An offset east of UTC is earlier in UTC.
    BOOST_TEST((parse_time_point("2024-01-01T10:00:00+02:00", now) == at("2024-01-01T08:00:00Z")));
    BOOST_TEST((parse_time_point("2024-01-01T03:30:00-04:30", now) == at("2024-01-01T08:00:00Z")));
    for (std::string_view bad :
         {"2024-01-01T25:00:00Z", "2024-01-01T08:60:00Z", "2024-01-01T08:00:00+24:00",
          "2024-01-01T08:00:00.Z", "T08:00:00Z", "now"})
        BOOST_TEST(!parse_time_point(bad, now), "'" << bad << "' should be refused");
}

BOOST_AUTO_TEST_CASE(relative_times_count_back_from_the_given_now) {
    const auto now = at("2026-06-15T12:00:00Z");
    BOOST_TEST((parse_time_point("90d", now) == at("2026-03-17T12:00:00Z")));
    BOOST_TEST((parse_time_point("12h", now) == at("2026-06-15T00:00:00Z")));
    BOOST_TEST((parse_time_point("1w", now) == at("2026-06-08T12:00:00Z")));
    BOOST_TEST((parse_time_point("30m", now) == at("2026-06-15T11:30:00Z")));
    // Only `now` decides: the same text against another now moves by the same amount.
    const auto later = now + hours(5);
    BOOST_TEST((*parse_time_point("90d", later) - *parse_time_point("90d", now)) == hours(5));
}

BOOST_AUTO_TEST_SUITE_END()
