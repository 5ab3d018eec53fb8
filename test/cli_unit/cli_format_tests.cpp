// The output formats: CSV (RFC 4180) and JSON Lines, both with the API's field names.
#include "cli/job_format.hpp"
#include "cli_test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace dynjobs;
using namespace dynjobs::cli;
using namespace dynjobs::cli::test;

namespace {

using records = std::vector<std::vector<std::string>>;

std::string line_of(output_format f, const job& j) {
    std::string out;
    append_job_line(out, f, j);
    return out;
}

// The fields a CSV reader must give back for `j`, in column order.
std::vector<std::string> csv_fields(const job& j) {
    const auto n = [](std::int64_t v) { return std::to_string(v); };
    return {j.module,
            n(static_cast<std::int32_t>(j.type)),
            j.job_id,
            format_iso8601(j.start_time),
            j.finish_time ? format_iso8601(*j.finish_time) : "",
            j.duration_hours ? "1.4915277777777778" : "",
            n(static_cast<std::int32_t>(j.status)),
            n(j.successful_entity),
            n(j.failed_entity),
            n(j.skipped_entity),
            n(j.warning_entity),
            n(j.total_entity),
            n(j.successful_record),
            n(j.failed_record),
            n(j.skipped_record),
            n(j.warning_record),
            n(j.total_record),
            n(j.backup_size),
            j.organization.to_string(),
            j.organization_name};
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli_csv)

BOOST_AUTO_TEST_CASE(header_row_is_the_api_field_names_in_order) {
    BOOST_TEST(output_preamble(output_format::csv) ==
               "module,type,jobId,startTime,finishTime,durationHours,status,successfulEntity,"
               "failedEntity,skippedEntity,warningEntity,totalEntity,successfulRecord,failedRecord,"
               "skippedRecord,warningRecord,totalRecord,backupSize,organizationId,"
               "organizationName\r\n");
    BOOST_TEST(csv_columns().size() == 20u);
    BOOST_TEST(csv_columns().front() == "module");
    BOOST_TEST(csv_columns().back() == "organizationName");
    BOOST_TEST(output_preamble(output_format::jsonl).empty());
}

BOOST_AUTO_TEST_CASE(format_names) {
    BOOST_TEST((parse_output_format("csv") == output_format::csv));
    BOOST_TEST((parse_output_format("jsonl") == output_format::jsonl));
    BOOST_TEST(!parse_output_format("CSV"));
    BOOST_TEST(!parse_output_format("json"));
    BOOST_TEST(to_string(output_format::csv) == "csv");
    BOOST_TEST(to_string(output_format::jsonl) == "jsonl");
}

BOOST_AUTO_TEST_CASE(quotes_commas_quotes_and_line_breaks_only) {
    const job j = awkward_job();
    const std::string expected =
        "\"Customer Engagement, \"\"CE\"\"\",1,DCIB2022081903124382222110," +
        format_iso8601(j.start_time) + "," + format_iso8601(*j.finish_time) +
        ",1.4915277777777778,7,12,1,2,3,18,1200,10,20,30,1260,9876543210,"
        "3f2504e0-4f89-41d3-9a0c-0305e82c3301,"
        "\"Contoso\r\nNorth, Zürich \xF0\x9F\x93\xA6\"\r\n";
    BOOST_TEST(line_of(output_format::csv, j) == expected);
}

BOOST_AUTO_TEST_CASE(null_finish_and_duration_are_empty_fields) {
    const job j = running_job();
    const std::string expected = "Customer Engagement,2,RUN-1," + format_iso8601(j.start_time) +
                                 ",,,2,0,0,0,0,0,0,0,0,0,0,0,6cccccc-ffff-bbb-88888-aabbccdeee,"
                                 "plain\r\n";
    BOOST_TEST(line_of(output_format::csv, j) == expected);
}

BOOST_AUTO_TEST_CASE(lone_cr_and_lf_are_quoted_too) {
    job j = running_job();
    j.module = "a\rb";
    j.organization_name = "c\nd";
    const auto line = line_of(output_format::csv, j);
    BOOST_TEST(line.starts_with("\"a\rb\","));
    BOOST_TEST(line.ends_with(",\"c\nd\"\r\n"));
}

BOOST_AUTO_TEST_CASE(round_trip_through_the_reader) {
    std::vector<job> jobs{awkward_job(), running_job(), awkward_job()};
    jobs[2].job_id = "quote\"in,id";
    jobs[2].organization = organization_id::from_wire("opaque, \"id\"");
    jobs[2].organization_name = "";
    std::string text(output_preamble(output_format::csv));
    for (const auto& j : jobs)
        append_job_line(text, output_format::csv, j);

    records got;
    std::size_t consumed = 0;
    BOOST_REQUIRE(parse_csv_records(text, got, consumed));
    BOOST_TEST(consumed == text.size());
    BOOST_REQUIRE(got.size() == 4u);
    BOOST_TEST(got[0] == std::vector<std::string>(csv_columns().begin(), csv_columns().end()),
               boost::test_tools::per_element());
    for (std::size_t i = 0; i < jobs.size(); ++i)
        BOOST_TEST(got[i + 1] == csv_fields(jobs[i]), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_record_cut_anywhere_is_left_for_later) {
    std::string text(output_preamble(output_format::csv));
    std::vector<std::size_t> ends{text.size()};
    for (const auto& j : {awkward_job(), running_job(), awkward_job()}) {
        append_job_line(text, output_format::csv, j);
        ends.push_back(text.size());
    }
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        std::size_t complete = 0;
        std::size_t last_end = 0;
        for (auto e : ends)
            if (e <= cut) {
                ++complete;
                last_end = e;
            }
        records got;
        std::size_t consumed = 12345;
        BOOST_TEST_CONTEXT("cut at " << cut) {
            BOOST_TEST(parse_csv_records(std::string_view(text).substr(0, cut), got, consumed));
            BOOST_TEST(got.size() == complete);
            BOOST_TEST(consumed == last_end);
        }
    }
}

BOOST_AUTO_TEST_CASE(malformed_quoting_is_refused) {
    for (std::string_view bad :
         {"a,\"b\"c\r\n", "a,b\"c\r\n", "\"a\"\"\"x,b\r\n", "a\rb\r\n", "x,y\r\n\"a\" ,b\r\n"}) {
        records got;
        std::size_t consumed = 0;
        BOOST_TEST(!parse_csv_records(bad, got, consumed), "should refuse: " << bad);
    }
}

BOOST_AUTO_TEST_CASE(empty_fields_and_bare_lf_records) {
    records got;
    std::size_t consumed = 0;
    BOOST_REQUIRE(parse_csv_records(",\r\na,\"\"\nb,c\n", got, consumed));
    BOOST_TEST(consumed == 12u);
    BOOST_REQUIRE(got.size() == 3u);
    BOOST_TEST(got[0] == (std::vector<std::string>{"", ""}), boost::test_tools::per_element());
    BOOST_TEST(got[1] == (std::vector<std::string>{"a", ""}), boost::test_tools::per_element());
    BOOST_TEST(got[2] == (std::vector<std::string>{"b", "c"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cli_jsonl)

BOOST_AUTO_TEST_CASE(one_line_per_job_with_the_api_names_and_values) {
    const job j = awkward_job();
    const auto line = line_of(output_format::jsonl, j);
    BOOST_REQUIRE(line.ends_with('\n'));
    // The CR LF inside organizationName is escaped: one job is exactly one line.
    BOOST_TEST(line.find_first_of("\r\n") == line.size() - 1);

    boost::system::error_code ec;
    const auto v = boost::json::parse(line, ec);
    BOOST_REQUIRE(!ec);
    const auto& o = v.as_object();
    std::vector<std::string> keys;
    for (const auto& m : o)
        keys.emplace_back(m.key());
    BOOST_TEST(keys == std::vector<std::string>(csv_columns().begin(), csv_columns().end()),
               boost::test_tools::per_element());

    BOOST_TEST(o.at("module").as_string() == j.module);
    BOOST_TEST(o.at("type").to_number<int>() == 1);
    BOOST_TEST(o.at("jobId").as_string() == j.job_id);
    BOOST_TEST((parse_iso8601(o.at("startTime").as_string()) == j.start_time));
    BOOST_TEST((parse_iso8601(o.at("finishTime").as_string()) == j.finish_time));
    BOOST_TEST(o.at("durationHours").as_double() == *j.duration_hours);
    BOOST_TEST(o.at("status").to_number<int>() == 7);
    BOOST_TEST(o.at("successfulEntity").to_number<std::int64_t>() == 12);
    BOOST_TEST(o.at("totalRecord").to_number<std::int64_t>() == 1260);
    BOOST_TEST(o.at("backupSize").to_number<std::int64_t>() == 9'876'543'210);
    BOOST_TEST(o.at("organizationId").as_string() == "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
    BOOST_TEST(o.at("organizationName").as_string() == j.organization_name);
}

BOOST_AUTO_TEST_CASE(running_job_has_null_finish_and_duration) {
    const job j = running_job();
    const auto v = boost::json::parse(line_of(output_format::jsonl, j));
    const auto& o = v.as_object();
    BOOST_TEST(o.at("finishTime").is_null());
    BOOST_TEST(o.at("durationHours").is_null());
    BOOST_TEST(o.at("organizationId").as_string() == "6cccccc-ffff-bbb-88888-aabbccdeee");
    BOOST_TEST(o.at("status").to_number<int>() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
