// Tests of the job encoder: exact output for the published sample's first job, escaping, and
// decode(encode(x)) == x over varied jobs and pages.
#include <dynjobs/job_encoder.hpp>
#include <dynjobs/page_decoder.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

using namespace dynjobs;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

timestamp utc(year_month_day d, hours h, minutes m, seconds s, milliseconds ms) {
    return timestamp{sys_days{d}} + h + m + s + ms;
}

job sample_job() {
    job j;
    j.module = "Customer Engagement";
    j.type = job_type::backup;
    j.job_id = "DCIB2022081903124382222110";
    j.start_time = utc(2022y / 8 / 19, 3h, 12min, 43s, 823ms);
    j.finish_time = utc(2022y / 8 / 19, 3h, 13min, 46s, 633ms);
    j.duration_hours = 0.01744722222222222;
    j.status = job_status::finished;
    j.successful_entity = 1;
    j.total_entity = 1;
    j.successful_record = 1;
    j.total_record = 1;
    j.backup_size = 180832;
    j.organization = organization_id::from_wire("6cccccc-ffff-bbb-88888-aabbccdeee");
    j.organization_name = "uatorg123";
    return j;
}

std::string encode(const job& j) {
    std::string out;
    append_job_json(out, j);
    return out;
}

job round_trip(const job& j) {
    jobs_page page;
    page.jobs.push_back(j);
    std::string body;
    append_page_json(body, page);
    jobs_page back;
    diagnostics diag;
    const auto ec = decode_page(body, back, diag);
    BOOST_REQUIRE_MESSAGE(!ec, diag.message << "\n" << body);
    BOOST_REQUIRE_EQUAL(back.jobs.size(), 1u);
    return back.jobs[0];
}

// The encoder writes strict JSON: no comments, no trailing commas.
bool strict_json(const std::string& text) {
    boost::system::error_code ec;
    boost::json::parse(text, ec);
    return !ec;
}

} // namespace

BOOST_AUTO_TEST_SUITE(job_encoder_tests)

BOOST_AUTO_TEST_CASE(writes_the_api_field_names_in_the_api_order) {
    BOOST_TEST(encode(sample_job()) ==
               R"({"module":"Customer Engagement","type":1,"jobId":"DCIB2022081903124382222110",)"
               R"("startTime":"2022-08-19T03:12:43.823Z","finishTime":"2022-08-19T03:13:46.633Z",)"
               R"("durationHours":0.01744722222222222,"status":3,"successfulEntity":1,)"
               R"("failedEntity":0,"skippedEntity":0,"warningEntity":0,"totalEntity":1,)"
               R"("successfulRecord":1,"failedRecord":0,"skippedRecord":0,"warningRecord":0,)"
               R"("totalRecord":1,"backupSize":180832,)"
               R"("organizationId":"6cccccc-ffff-bbb-88888-aabbccdeee",)"
               R"("organizationName":"uatorg123"})");
}

BOOST_AUTO_TEST_CASE(absent_optionals_are_null_and_guids_lower_case) {
    job j = sample_job();
    j.finish_time.reset();
    j.duration_hours.reset();
    j.status = job_status::in_progress;
    j.organization = *organization_id::parse("69CB1ECC-F8E8-439B-8077-A4B7FD45E87F");
    const std::string s = encode(j);
    BOOST_TEST(s.find(R"("finishTime":null,"durationHours":null,"status":2,)") !=
               std::string::npos);
    BOOST_TEST(s.find(R"("organizationId":"69cb1ecc-f8e8-439b-8077-a4b7fd45e87f")") !=
               std::string::npos);
    BOOST_TEST(strict_json(s));
}

BOOST_AUTO_TEST_CASE(escapes_strings) {
    job j = sample_job();
    j.module = std::string("q\"b\\c/\x01\x1f\n\t\x7f", 11);
    j.organization_name = "Z\xC3\xBCrich \xE6\x9D\xB1\xE4\xBA\xAC \xF0\x9F\x98\x80";
    const std::string s = encode(j);
    BOOST_TEST(s.find(R"("module":"q\"b\\c/\u0001\u001f\u000a\u0009)"
                      "\x7f\"") != std::string::npos,
               s);
    // UTF-8 is passed through as is.
    BOOST_TEST(s.find("\"Z\xC3\xBCrich \xE6\x9D\xB1\xE4\xBA\xAC \xF0\x9F\x98\x80\"") !=
               std::string::npos);
    BOOST_TEST(strict_json(s));
    BOOST_TEST((round_trip(j) == j));
}

BOOST_AUTO_TEST_CASE(non_finite_durations_are_null) {
    job j = sample_job();
    j.duration_hours = std::numeric_limits<double>::quiet_NaN();
    BOOST_TEST(encode(j).find(R"("durationHours":null)") != std::string::npos);
    j.duration_hours = -std::numeric_limits<double>::infinity();
    BOOST_TEST(encode(j).find(R"("durationHours":null)") != std::string::npos);
    BOOST_TEST(!round_trip(j).duration_hours);
}

BOOST_AUTO_TEST_CASE(varied_jobs_round_trip) {
    std::vector<job> jobs;
    jobs.push_back(sample_job());
    {
        job j = sample_job(); // opaque ids, including ones that need escaping
        j.organization = organization_id::from_wire("not a \"guid\" \\ at all");
        jobs.push_back(j);
        j.organization = organization_id::from_wire("{69cb1ecc-f8e8-439b-8077-a4b7fd45e87f}");
        jobs.push_back(j);
    }
    {
        job j = sample_job(); // undocumented enum values, in progress
        j.type = static_cast<job_type>(64);
        j.status = static_cast<job_status>(-5);
        j.finish_time.reset();
        j.duration_hours.reset();
        jobs.push_back(j);
        j.type = static_cast<job_type>(std::numeric_limits<std::int32_t>::min());
        j.status = static_cast<job_status>(std::numeric_limits<std::int32_t>::max());
        jobs.push_back(j);
    }
    {
        job j = sample_job(); // extreme counters
        const auto max = std::numeric_limits<std::int64_t>::max();
        j.successful_entity = j.failed_entity = j.skipped_entity = j.warning_entity = max;
        j.total_entity = j.successful_record = j.failed_record = j.skipped_record = max;
        j.warning_record = j.total_record = j.backup_size = max;
        jobs.push_back(j);
        j = job{}; // every member at its default: empty strings, zero counters, epoch
        j.job_id = "x";
        jobs.push_back(j);
    }
    for (double d : {0.1, 1e-300, 0.01744722222222222, 0.018800833333333333, 5e-324, 2.0, 0.0, -0.5,
                     1e300, 1.7976931348623157e308, 123456789012345680000.0, 12345678901234567000.0,
                     2.2250738585072014e-308, 1.0 / 3.0}) {
        job j = sample_job();
        j.duration_hours = d;
        jobs.push_back(j);
    }
    for (timestamp t :
         {utc(1y / 1 / 1, 0h, 0min, 0s, 0ms), utc(9999y / 12 / 31, 23h, 59min, 59s, 999ms),
          utc(2024y / 2 / 29, 12h, 0min, 0s, 1ms), utc(1970y / 1 / 1, 0h, 0min, 0s, 10ms)}) {
        job j = sample_job();
        j.start_time = t;
        j.finish_time = t; // t + anything would leave year 9999
        jobs.push_back(j);
    }
    for (const job& j : jobs) {
        BOOST_TEST_CONTEXT(encode(j)) {
            BOOST_TEST(strict_json(encode(j)));
            BOOST_TEST((round_trip(j) == j));
        }
    }
}

BOOST_AUTO_TEST_CASE(pages_round_trip) {
    jobs_page page;
    page.total_count = 20;
    page.next_link = "/jobs?pageIndex=2&pageSize=5&x=\"y\"";
    page.page_index = 1;
    page.page_size = 5;
    for (int i = 0; i < 5; ++i) {
        job j = sample_job();
        j.job_id += std::to_string(i);
        j.backup_size = i * 1000;
        page.jobs.push_back(j);
    }
    std::string body;
    append_page_json(body, page);
    BOOST_TEST(body.rfind(R"({"totalCount":20,"nextLink":"/jobs?pageIndex=2&pageSize=5&x=\"y\"",)"
                          R"("jobs":[{"module")",
                          0) == 0u);
    BOOST_TEST(body.ends_with(R"(}],"pageIndex":1,"pageSize":5})"));
    BOOST_TEST(strict_json(body));
    jobs_page back;
    diagnostics diag;
    BOOST_REQUIRE(!decode_page(body, back, diag));
    BOOST_TEST((back == page));

    // Absent paging fields: totalCount, pageIndex and pageSize are omitted, nextLink is null.
    jobs_page bare;
    body.clear();
    append_page_json(body, bare);
    BOOST_TEST(body == R"({"nextLink":null,"jobs":[]})");
    BOOST_REQUIRE(!decode_page(body, back, diag));
    BOOST_TEST((back == bare));

    // Appends: existing content is kept.
    std::string prefixed = "x";
    append_page_json(prefixed, bare);
    BOOST_TEST(prefixed == R"(x{"nextLink":null,"jobs":[]})");
}

BOOST_AUTO_TEST_CASE(published_sample_survives_decode_encode_decode) {
    std::ifstream in(std::filesystem::path(DYNJOBS_TEST_DATA_DIR) / "published_sample.json");
    std::ostringstream text;
    text << in.rdbuf();
    jobs_page first;
    diagnostics diag;
    BOOST_REQUIRE(!decode_page(text.str(), first, diag));
    std::string body;
    append_page_json(body, first);
    jobs_page second;
    BOOST_REQUIRE_MESSAGE(!decode_page(body, second, diag), diag.message);
    BOOST_TEST((second == first));
    BOOST_TEST(second.jobs.size() == 5u);
}

BOOST_AUTO_TEST_SUITE_END()
