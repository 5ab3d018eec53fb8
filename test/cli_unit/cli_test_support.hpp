// Helpers shared by the dynjobs command's unit tests: argument lists, usage errors, a scratch
// folder, a fixed clock, an injected environment and a job with awkward strings.
#pragma once

#include "cli/arg_reader.hpp"

#include "../common/scratch_dir.hpp"

#include <dynjobs/job.hpp>
#include <dynjobs/timestamp.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynjobs::cli::test {

/// Holds the arguments so a std::span over them stays valid for the call.
struct args {
    std::vector<std::string_view> list;
    args(std::initializer_list<std::string_view> a)
        : list(a) {}
    std::span<const std::string_view> span() const { return list; }
};

/// The message of the usage_error `f` throws; an error is recorded when it throws none.
template <class F>
std::string usage_message(F&& f) {
    try {
        std::forward<F>(f)();
    } catch (const usage_error& e) {
        return e.message;
    }
    BOOST_ERROR("expected a usage_error, none was thrown");
    return "(no usage_error was thrown)";
}

/// Checks that `message` holds every one of `parts` (an option name, the value given, ...).
template <class Parts>
void check_names_in(const std::string& message, const Parts& parts) {
    for (std::string_view part : parts)
        BOOST_TEST(message.find(part) != std::string::npos,
                   "'" << message << "' should name '" << part << "'");
}
inline void check_names(const std::string& message, std::initializer_list<std::string_view> parts) {
    check_names_in(message, parts);
}
inline void check_names(const std::string& message, const std::vector<std::string_view>& parts) {
    check_names_in(message, parts);
}

inline timestamp at(std::string_view iso) {
    const auto t = parse_iso8601(iso);
    BOOST_REQUIRE(t);
    return *t;
}

using testkit::scratch_dir;

inline std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

/// An environment with exactly these variables set.
inline auto env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        const auto it = vars.find(std::string(name));
        if (it == vars.end())
            return std::nullopt;
        return it->second;
    };
}

/// A finished job whose text fields need every kind of CSV quoting.
inline job awkward_job() {
    job j;
    j.module = "Customer Engagement, \"CE\"";
    j.type = job_type::backup;
    j.job_id = "DCIB2022081903124382222110";
    j.start_time = at("2024-03-01T08:15:30.250Z");
    j.finish_time = at("2024-03-01T09:45:00Z");
    j.duration_hours = 1.4915277777777778;
    j.status = job_status::finished_with_exception;
    j.successful_entity = 12;
    j.failed_entity = 1;
    j.skipped_entity = 2;
    j.warning_entity = 3;
    j.total_entity = 18;
    j.successful_record = 1200;
    j.failed_record = 10;
    j.skipped_record = 20;
    j.warning_record = 30;
    j.total_record = 1260;
    j.backup_size = 9'876'543'210;
    j.organization = *organization_id::parse("3f2504e0-4f89-41d3-9a0c-0305e82c3301");
    j.organization_name = "Contoso\r\nNorth, Zürich \xF0\x9F\x93\xA6";
    return j;
}

/// A job still running: no finish time, no duration.
inline job running_job() {
    job j;
    j.module = "Customer Engagement";
    j.type = job_type::restore;
    j.job_id = "RUN-1";
    j.start_time = at("2025-12-31T23:59:59Z");
    j.status = job_status::in_progress;
    j.organization = organization_id::from_wire("6cccccc-ffff-bbb-88888-aabbccdeee");
    j.organization_name = "plain";
    return j;
}

} // namespace dynjobs::cli::test
