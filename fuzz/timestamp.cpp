// Fuzzes ISO 8601 timestamps and the durationHours value, both ways.
//
// Invariants:
// - whatever parse_iso8601 accepts formats back to text it accepts again, as the same instant
//   (parse(format(parse(x))) == parse(x)), in the canonical form of format_iso8601;
// - every millisecond instant of years 0001-9999 survives format then parse;
// - a job's startTime, finishTime and durationHours (any finite double, exactly) survive the
//   encoder and the decoder.
#include "fuzz_check.hpp"

#include <dynjobs/job_encoder.hpp>
#include <dynjobs/page_decoder.hpp>
#include <dynjobs/timestamp.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

using namespace dynjobs;
using namespace std::chrono;

namespace {

// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z in milliseconds since 1970.
constexpr std::int64_t first_ms = -62'135'596'800'000;
constexpr std::int64_t last_ms = 253'402'300'799'999;

void round_trip_job(timestamp start, timestamp finish, double hours) {
    jobs_page page;
    job& j = page.jobs.emplace_back();
    j.job_id = "J";
    j.organization = organization_id::from_wire("org");
    j.start_time = start;
    j.finish_time = finish;
    j.duration_hours = hours;
    std::string body;
    append_page_json(body, page);
    jobs_page back;
    diagnostics diag;
    FUZZ_CHECK(!decode_page(body, back, diag));
    FUZZ_CHECK(back.jobs.size() == 1);
    FUZZ_CHECK(back.jobs[0].start_time == start);
    FUZZ_CHECK(back.jobs[0].finish_time == finish);
    FUZZ_CHECK(back.jobs[0].duration_hours.has_value());
    // Equal as doubles: -0.0 comes back as 0 (JSON "-0" is an integer), which job's == accepts.
    FUZZ_CHECK(*back.jobs[0].duration_hours == hours);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const timestamp a{milliseconds{in.ConsumeIntegralInRange<std::int64_t>(first_ms, last_ms)}};
    const timestamp b{milliseconds{in.ConsumeIntegralInRange<std::int64_t>(first_ms, last_ms)}};
    double hours = std::bit_cast<double>(in.ConsumeIntegral<std::uint64_t>());
    if (!std::isfinite(hours))
        hours = 0.25;
    const std::string text = in.ConsumeRemainingBytesAsString();

    for (const timestamp t : {a, b}) {
        const std::string formatted = format_iso8601(t);
        FUZZ_CHECK(parse_iso8601(formatted) == t);
        std::string appended = "x";
        append_iso8601(appended, t);
        FUZZ_CHECK(appended == "x" + formatted);
    }
    round_trip_job(a, b, hours);

    if (const auto parsed = parse_iso8601(text)) {
        const std::string canonical = format_iso8601(*parsed);
        FUZZ_CHECK(parse_iso8601(canonical) == parsed);
        FUZZ_CHECK(format_iso8601(*parse_iso8601(canonical)) == canonical);
    }
    return 0;
}
