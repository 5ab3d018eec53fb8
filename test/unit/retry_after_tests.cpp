#include "policy/retry_after.hpp"

#include <boost/test/unit_test.hpp>

using namespace std::chrono;
using dynjobs::policy::parse_retry_after;

namespace {
// 1994-11-06T08:49:37Z, the RFC's example instant.
const system_clock::time_point rfc_example = sys_days{year{1994} / 11 / 6} + 8h + 49min + 37s;
} // namespace

BOOST_AUTO_TEST_SUITE(retry_after)

BOOST_AUTO_TEST_CASE(delay_seconds_whole_and_fractional) {
    const auto now = system_clock::now();
    BOOST_TEST((parse_retry_after("120", now) == milliseconds{120'000}));
    BOOST_TEST((parse_retry_after("0", now) == milliseconds{0}));
    BOOST_TEST((parse_retry_after(" 3 ", now) == milliseconds{3'000}));
    BOOST_TEST((parse_retry_after("0.5", now) == milliseconds{500}));
    BOOST_TEST((parse_retry_after("1.25", now) == milliseconds{1'250}));
    BOOST_TEST((parse_retry_after("2.0001", now) == milliseconds{2'000}));
}

BOOST_AUTO_TEST_CASE(http_dates_in_all_three_forms) {
    const auto now = rfc_example - 30s;
    BOOST_TEST((parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == milliseconds{30'000}));
    BOOST_TEST((parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now) == milliseconds{30'000}));
    BOOST_TEST((parse_retry_after("Sun Nov  6 08:49:37 1994", now) == milliseconds{30'000}));
}

BOOST_AUTO_TEST_CASE(a_date_in_the_past_means_now) {
    BOOST_TEST(
        (parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", rfc_example + 1h) == milliseconds{0}));
}

// Found by fuzz/retry_after.cpp (UBSan): a date past 2262 overflowed the nanosecond arithmetic.
BOOST_AUTO_TEST_CASE(dates_centuries_ahead_are_rejected_without_overflow) {
    const auto now = rfc_example;
    for (const char* far : {"Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 31 Dec 4050 23:59:60 GMT",
                            "Fri Dec 31 23:59:59 9999"}) {
        BOOST_TEST_CONTEXT("value '" << far << "'") {
            BOOST_TEST(!parse_retry_after(far, now).has_value()); // more than a year ahead
        }
    }
}

BOOST_AUTO_TEST_CASE(rejects_what_is_not_a_retry_after) {
    const auto now = rfc_example;
    for (const char* bad : {"", " ", "-1", "+5", "1e3", "5s", "0.", ".5", "soon",
                            "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
                            "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                            "Sun, 06 Nov 1994 25:49:37 GMT", "99999999999999999999", "40000000"}) {
        BOOST_TEST_CONTEXT("value '" << bad << "'") {
            BOOST_TEST(!parse_retry_after(bad, now).has_value());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
