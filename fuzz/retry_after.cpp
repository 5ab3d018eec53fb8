// Fuzzes Retry-After parsing.
//
// Invariants:
// - any accepted value is a wait of 0 .. 366 days;
// - parse(format(x)) == x: an instant written in each of the three HTTP-date forms parses to
//   its distance from `now` (zero when in the past), and a whole number of seconds to itself;
// - surrounding spaces do not change the result.
#include "policy/retry_after.hpp"
#include "fuzz_check.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

using namespace std::chrono;
using dynjobs::policy::parse_retry_after;

namespace {

constexpr auto max_wait = hours{24 * 366};

constexpr std::array<const char*, 7> short_days = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 7> long_days = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                  "Thursday", "Friday", "Saturday"};
constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct civil {
    int year;
    unsigned month, day, weekday, hour, minute, second;
};

civil split(sys_seconds t) {
    const auto days = floor<std::chrono::days>(t);
    const year_month_day ymd{days};
    const hh_mm_ss hms{t - days};
    return {static_cast<int>(ymd.year()),
            static_cast<unsigned>(ymd.month()),
            static_cast<unsigned>(ymd.day()),
            weekday{days}.c_encoding(),
            static_cast<unsigned>(hms.hours().count()),
            static_cast<unsigned>(hms.minutes().count()),
            static_cast<unsigned>(hms.seconds().count())};
}

std::string imf_fixdate(const civil& c) {
    char text[64];
    std::snprintf(text, sizeof text, "%s, %02u %s %04d %02u:%02u:%02u GMT", short_days[c.weekday],
                  c.day, months[c.month - 1], c.year, c.hour, c.minute, c.second);
    return text;
}

std::string rfc850(const civil& c) {
    char text[64];
    std::snprintf(text, sizeof text, "%s, %02u-%s-%02d %02u:%02u:%02u GMT", long_days[c.weekday],
                  c.day, months[c.month - 1], c.year % 100, c.hour, c.minute, c.second);
    return text;
}

std::string asctime_form(const civil& c) {
    char text[64];
    std::snprintf(text, sizeof text, "%s %s %2u %02u:%02u:%02u %04d", short_days[c.weekday],
                  months[c.month - 1], c.day, c.hour, c.minute, c.second, c.year);
    return text;
}

void expect(const std::string& text, system_clock::time_point now, milliseconds wait) {
    const auto got = parse_retry_after(text, now);
    FUZZ_CHECK(got.has_value());
    FUZZ_CHECK(*got == wait);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    // "now" anywhere in 1970..2069, where the two-digit years of RFC 850 are unambiguous.
    const sys_seconds now{seconds{in.ConsumeIntegralInRange<std::int64_t>(0, 3'155'759'999)}};
    const auto offset =
        seconds{in.ConsumeIntegralInRange<std::int64_t>(-400LL * 86400, 400LL * 86400)};
    const std::string text = in.ConsumeRemainingBytesAsString();

    const auto got = parse_retry_after(text, now);
    if (got) {
        FUZZ_CHECK(*got >= milliseconds::zero());
        FUZZ_CHECK(*got <= max_wait);
    }
    FUZZ_CHECK(parse_retry_after(" \t" + text + "\t ", now) == got);

    // parse(format(x)) == x.
    const sys_seconds when = now + offset;
    if (offset <= max_wait) {
        const milliseconds wait = offset < seconds::zero() ? milliseconds::zero() : offset;
        const civil c = split(when);
        expect(imf_fixdate(c), now, wait);
        expect(asctime_form(c), now, wait);
        if (c.year >= 1970 && c.year < 2070)
            expect(rfc850(c), now, wait);
        if (offset >= seconds::zero())
            expect(std::to_string(offset.count()), now, offset);
    } else {
        FUZZ_CHECK(!parse_retry_after(imf_fixdate(split(when)), now));
    }
    return 0;
}
