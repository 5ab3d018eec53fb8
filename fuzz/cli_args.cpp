// Fuzzes the command line of `dynjobs backfill` and `dynjobs sim`: the input is split at NUL
// bytes into arguments (the first byte picks the command).
//
// Invariants:
// - parsing either accepts or throws usage_error, whose message is one line and names an option
//   (holds a "-": -o, --output, ...); no other exception, no crash;
// - what is accepted holds its promises: a type and status that parse, GUIDs, a window that is
//   "none" or a span, a page size and concurrency in range, times that parse;
// - parsing is deterministic: the same arguments give the same options.
#include "fuzz_check.hpp"

#include "cli/arg_reader.hpp"
#include "cli/backfill_options.hpp"
#include "cli/sim_options.hpp"
#include "cli/time_spec.hpp"

#include <dynjobs/job_status.hpp>
#include <dynjobs/job_type.hpp>
#include <dynjobs/jobs_query.hpp>
#include <dynjobs/organization_id.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace dynjobs;
using namespace dynjobs::cli;

namespace {

void check_message(const usage_error& e) {
    FUZZ_CHECK(!e.message.empty());
    FUZZ_CHECK(e.message.find('-') != std::string::npos);
    FUZZ_CHECK(e.message.find('\n') == std::string::npos);
}

void check_backfill(const std::vector<std::string_view>& args) {
    backfill_options o;
    try {
        o = parse_backfill_options(args);
    } catch (const usage_error& e) {
        check_message(e);
        return;
    }
    FUZZ_CHECK(parse_job_type(o.type).has_value());
    if (o.status)
        FUZZ_CHECK(parse_job_status(*o.status).has_value());
    for (const auto& org : o.orgs)
        FUZZ_CHECK(organization_id::parse(org).has_value());
    FUZZ_CHECK(o.window == "none" || parse_span(o.window).has_value());
    FUZZ_CHECK(o.page_size >= 1 && o.page_size <= jobs_query::max_page_size);
    FUZZ_CHECK(o.concurrency >= 1 && o.concurrency <= 1024);
    FUZZ_CHECK(o.max_rate >= 0);
    FUZZ_CHECK(!(o.verbose && o.quiet));
    for (const auto* t : {&o.since, &o.until})
        if (*t)
            FUZZ_CHECK(parse_time_point(**t, timestamp{}).has_value());
    const auto again = parse_backfill_options(args);
    FUZZ_CHECK(again.type == o.type && again.orgs == o.orgs && again.window == o.window &&
               again.output == o.output && again.resume == o.resume);
}

void check_sim(const std::vector<std::string_view>& args) {
    sim_options o;
    try {
        o = parse_sim_options(args);
    } catch (const usage_error& e) {
        check_message(e);
        return;
    }
    FUZZ_CHECK(o.threads >= 1 && o.threads <= 64);
    FUZZ_CHECK(o.config.faults.rate >= 0 && o.config.faults.rate <= 1);
    FUZZ_CHECK(o.config.jobs.max_page_size >= 1);
    FUZZ_CHECK(o.config.latency.count() >= 0 && o.config.latency.count() <= 600'000);
    FUZZ_CHECK(o.config.cert_file.empty() == o.config.key_file.empty());
    FUZZ_CHECK(o.config.compression.level >= 1 && o.config.compression.level <= 9);
    FUZZ_CHECK(!o.config.compression.raw_deflate || o.config.compression.deflate);
    const std::uint64_t bandwidth = o.config.bandwidth_bits_per_second;
    FUZZ_CHECK(bandwidth == 0 || (bandwidth >= 1'000 && bandwidth <= 100'000'000'000));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const bool sim = data[0] & 1;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    std::vector<std::string_view> args;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i)
        if (i == text.size() || text[i] == '\0') {
            args.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    if (sim)
        check_sim(args);
    else
        check_backfill(args);
    return 0;
}
