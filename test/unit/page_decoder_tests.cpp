// Tests of the streaming page decoder: the published sample verbatim, every chunking of it, the
// leniencies the API needs (field order, unknown fields, nulls, 1.0 integers) and each error path
// with its exact errc, JSON path and message.
#include <dynjobs/error.hpp>
#include <dynjobs/page_decoder.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace dynjobs;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string sample() {
    static const std::string text =
        read_file(std::filesystem::path(DYNJOBS_TEST_DATA_DIR) / "published_sample.json");
    return text;
}

timestamp utc(year_month_day d, hours h, minutes m, seconds s, milliseconds ms) {
    return timestamp{sys_days{d}} + h + m + s + ms;
}

struct result {
    boost::system::error_code ec;
    diagnostics diag;
    jobs_page page;
};

// Feeds `text` cut at the given offsets (ascending), then finishes.
result decode_split(std::string_view text, const std::vector<std::size_t>& cuts,
                    const decoder_limits& limits = {}) {
    result r;
    page_decoder d(limits);
    d.reset(r.page);
    std::size_t pos = 0;
    for (std::size_t cut : cuts) {
        if ((r.ec = d.write(text.substr(pos, cut - pos), r.diag)))
            return r;
        pos = cut;
    }
    if ((r.ec = d.write(text.substr(pos), r.diag)))
        return r;
    r.ec = d.finish(r.diag);
    return r;
}

result decode(std::string_view text, const decoder_limits& limits = {}) {
    return decode_split(text, {}, limits);
}

// ---- building test documents ----

using fields = std::vector<std::pair<std::string, std::string>>; // key, raw JSON value

fields good_job() {
    return {
        {"module", R"("Customer Engagement")"},
        {"type", "1"},
        {"jobId", R"("DCIB2022081903124382222110")"},
        {"startTime", R"("2022-08-19T03:12:43.823Z")"},
        {"finishTime", R"("2022-08-19T03:13:46.633Z")"},
        {"durationHours", "0.01744722222222222"},
        {"status", "3"},
        {"successfulEntity", "1"},
        {"failedEntity", "0"},
        {"skippedEntity", "0"},
        {"warningEntity", "0"},
        {"totalEntity", "1"},
        {"successfulRecord", "1"},
        {"failedRecord", "0"},
        {"skippedRecord", "0"},
        {"warningRecord", "0"},
        {"totalRecord", "1"},
        {"backupSize", "180832"},
        {"organizationId", R"("69cb1ecc-f8e8-439b-8077-a4b7fd45e87f")"},
        {"organizationName", R"("uatorg123")"},
    };
}

fields with(fields f, const std::string& key, const std::string& raw) {
    for (auto& [k, v] : f)
        if (k == key) {
            v = raw;
            return f;
        }
    f.emplace_back(key, raw);
    return f;
}

fields without(fields f, const std::string& key) {
    std::erase_if(f, [&](const auto& kv) { return kv.first == key; });
    return f;
}

std::string object(const fields& f) {
    std::string s = "{";
    for (const auto& [k, v] : f) {
        if (s.size() > 1)
            s += ',';
        s += '"' + k + "\":" + v;
    }
    return s + '}';
}

std::string page_of(const std::vector<std::string>& jobs) {
    std::string s = R"({"totalCount":)" + std::to_string(jobs.size()) + R"(,"jobs":[)";
    for (std::size_t i = 0; i < jobs.size(); ++i)
        s += (i ? "," : "") + jobs[i];
    return s + R"(],"pageIndex":1,"pageSize":10})";
}

std::string page_with_job(const fields& job_fields) {
    return page_of({object(job_fields)});
}

job expected_good_job() {
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
    j.organization = *organization_id::parse("69cb1ecc-f8e8-439b-8077-a4b7fd45e87f");
    j.organization_name = "uatorg123";
    return j;
}

// Decodes a page holding one job and returns that job (the decode must succeed).
job decode_one(const fields& f) {
    auto r = decode(page_with_job(f));
    BOOST_REQUIRE_MESSAGE(!r.ec, r.diag.message);
    BOOST_REQUIRE_EQUAL(r.page.jobs.size(), 1u);
    return r.page.jobs[0];
}

// Checks an error: code, path and message exactly.
void check_error(const result& r, errc code, const std::string& field, const std::string& message) {
    BOOST_TEST(r.ec == make_error_code(code), "got " << r.ec.message() << ": " << r.diag.message);
    BOOST_TEST(r.diag.field == field);
    BOOST_TEST(r.diag.message == message);
}

} // namespace

BOOST_AUTO_TEST_SUITE(page_decoder_tests)

// ---- the published sample ----

BOOST_AUTO_TEST_CASE(published_sample_decodes_verbatim) {
    auto r = decode(sample());
    BOOST_REQUIRE_MESSAGE(!r.ec, r.diag.message);
    const jobs_page& p = r.page;
    BOOST_TEST((p.total_count == std::optional<std::int64_t>(20)));
    BOOST_TEST(p.next_link.value() ==
               "/jobs?pageIndex=2&pageSize=5&startTime=2021-05-22T11:42:00Z&finishTime=2024-09-"
               "22T11:42:00Z&type=1&status=3&organizationId=6cccccc-ffff-bbb-88888-aabbccdeee");
    BOOST_TEST((p.page_index == std::optional<std::int64_t>(1)));
    BOOST_TEST((p.page_size == std::optional<std::int64_t>(5)));
    BOOST_REQUIRE_EQUAL(p.jobs.size(), 5u);

    const job& j = p.jobs[0];
    BOOST_TEST(j.module == "Customer Engagement");
    BOOST_TEST((j.type == job_type::backup));
    BOOST_TEST(j.job_id == "DCIB2022081903124382222110");
    BOOST_TEST((j.start_time == utc(2022y / 8 / 19, 3h, 12min, 43s, 823ms)));
    BOOST_TEST((j.finish_time == utc(2022y / 8 / 19, 3h, 13min, 46s, 633ms)));
    BOOST_TEST(j.duration_hours.value() == 0.01744722222222222); // exact, not approximately
    BOOST_TEST((j.status == job_status::finished));
    BOOST_TEST(j.successful_entity == 1);
    BOOST_TEST(j.failed_entity == 0);
    BOOST_TEST(j.skipped_entity == 0);
    BOOST_TEST(j.warning_entity == 0);
    BOOST_TEST(j.total_entity == 1);
    BOOST_TEST(j.successful_record == 1);
    BOOST_TEST(j.failed_record == 0);
    BOOST_TEST(j.skipped_record == 0);
    BOOST_TEST(j.warning_record == 0);
    BOOST_TEST(j.total_record == 1);
    BOOST_TEST(j.backup_size == 180832);
    BOOST_TEST(!j.organization.is_guid()); // the sample's id is not a GUID: kept opaque
    BOOST_TEST(j.organization.to_string() == "6cccccc-ffff-bbb-88888-aabbccdeee");
    BOOST_TEST(j.organization_name == "uatorg123");

    const job& k = p.jobs[1];
    BOOST_TEST(k.job_id == "DCIB2022081810345391848112");
    BOOST_TEST((k.start_time == utc(2022y / 8 / 18, 10h, 34min, 53s, 920ms)));
    BOOST_TEST((k.finish_time == utc(2022y / 8 / 18, 10h, 36min, 1s, 603ms)));
    BOOST_TEST(k.duration_hours.value() == 0.018800833333333333);
    BOOST_TEST(k.successful_record == 2);
    BOOST_TEST(k.total_record == 2);
    BOOST_TEST(k.backup_size == 185440);
    // The sample repeats one job: the decoder keeps every occurrence (dedupe is the engine's).
    for (std::size_t i = 2; i < 5; ++i)
        BOOST_TEST((p.jobs[i] == k));
    BOOST_TEST(!(p.jobs[0] == k));
}

BOOST_AUTO_TEST_CASE(test_copy_matches_the_reference_page) {
    const auto ref = std::filesystem::path(DYNJOBS_REFERENCE_DIR) / "dynamicsbackup-jobs-api.txt";
    if (!std::filesystem::exists(ref)) {
        BOOST_TEST_MESSAGE("reference page not present; copy not compared");
        return;
    }
    const std::string text = read_file(ref);
    const auto start = text.rfind('\n', text.find('{', text.find("Response Sample"))) + 1;
    const auto end = text.rfind('}') + 1;
    std::string copy = sample();
    while (!copy.empty() && copy.back() == '\n')
        copy.pop_back();
    BOOST_TEST(copy == text.substr(start, end - start));
}

BOOST_AUTO_TEST_CASE(sample_split_at_every_point_gives_the_same_page) {
    const std::string text = sample();
    const auto whole = decode(text);
    BOOST_REQUIRE(!whole.ec);
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        auto r = decode_split(text, {cut});
        BOOST_REQUIRE_MESSAGE(!r.ec, "cut at " << cut << ": " << r.diag.message);
        BOOST_REQUIRE_MESSAGE(r.page == whole.page, "cut at " << cut);
    }
}

BOOST_AUTO_TEST_CASE(sample_fed_byte_by_byte) {
    const std::string text = sample();
    std::vector<std::size_t> cuts(text.size());
    for (std::size_t i = 0; i < cuts.size(); ++i)
        cuts[i] = i + 1;
    auto r = decode_split(text, cuts);
    BOOST_REQUIRE_MESSAGE(!r.ec, r.diag.message);
    BOOST_TEST((r.page == decode(text).page));
    BOOST_TEST(r.page.jobs.size() == 5u);
}

BOOST_AUTO_TEST_CASE(random_three_way_splits_of_a_page_with_escapes) {
    // Escapes and multi-byte UTF-8 split across chunks: keys, strings and numbers in pieces.
    const std::string text = page_of(
        {object(with(with(good_job(), "module", R"("Ca\"f\u00e9 \\ \u6771\u4eac\ud83d\ude00")"),
                     "organizationName", R"("Z\u00fcrich Str\u00e4\u00dfe \n\t")")),
         object(good_job())});
    const auto whole = decode(text);
    BOOST_REQUIRE_MESSAGE(!whole.ec, whole.diag.message);
    BOOST_TEST(whole.page.jobs[0].module ==
               "Ca\"f\xC3\xA9 \\ \xE6\x9D\xB1\xE4\xBA\xAC\xF0\x9F\x98\x80");
    BOOST_TEST(whole.page.jobs[0].organization_name == "Z\xC3\xBCrich Str\xC3\xA4\xC3\x9F"
                                                       "e \n\t");
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::size_t> pick(0, text.size());
    for (int i = 0; i < 2000; ++i) {
        std::size_t a = pick(rng), b = pick(rng);
        if (a > b)
            std::swap(a, b);
        auto r = decode_split(text, {a, b});
        BOOST_REQUIRE_MESSAGE(!r.ec, a << "," << b << ": " << r.diag.message);
        BOOST_REQUIRE((r.page == whole.page));
    }
}

// ---- leniency ----

BOOST_AUTO_TEST_CASE(fields_in_any_order) {
    fields f = good_job();
    std::reverse(f.begin(), f.end());
    BOOST_TEST((decode_one(f) == expected_good_job()));
    std::mt19937 rng(1);
    for (int i = 0; i < 20; ++i) {
        std::shuffle(f.begin(), f.end(), rng);
        BOOST_TEST((decode_one(f) == expected_good_job()));
    }
    // Top-level fields in any order too, jobs first.
    auto r = decode(R"({"jobs":[)" + object(good_job()) +
                    R"(],"pageSize":7,"nextLink":null,"pageIndex":2,"totalCount":9})");
    BOOST_REQUIRE_MESSAGE(!r.ec, r.diag.message);
    BOOST_TEST((r.page.page_size == std::optional<std::int64_t>(7)));
    BOOST_TEST((r.page.page_index == std::optional<std::int64_t>(2)));
    BOOST_TEST((r.page.total_count == std::optional<std::int64_t>(9)));
    BOOST_TEST(!r.page.next_link);
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_skipped_at_any_depth) {
    const std::string nested = R"({"a":[1,2.5,{"b":null,"jobs":[{"type":"x"}]}],"c":"s","d":true})";
    fields f = good_job();
    f.insert(f.begin(), {"first", nested});
    f.insert(f.begin() + 5, {"middle", R"([[[{"jobId":5}]]])"});
    f.emplace_back("last", "-1.5e300");
    f.emplace_back("flag", "false");
    f.emplace_back("nothing", "null");
    f.emplace_back("text", R"("backupSize")");
    const std::string text = R"({"meta":)" + nested + R"(,"totalCount":1,"jobs":[)" + object(f) +
                             R"(],"extra":[{"jobs":{}}],"pageIndex":1,"other":"x","pageSize":10})";
    auto r = decode(text);
    BOOST_REQUIRE_MESSAGE(!r.ec, r.diag.message);
    BOOST_REQUIRE_EQUAL(r.page.jobs.size(), 1u);
    BOOST_TEST((r.page.jobs[0] == expected_good_job()));
    BOOST_TEST((r.page.total_count == std::optional<std::int64_t>(1)));
    BOOST_TEST((r.page.page_size == std::optional<std::int64_t>(10)));
}

BOOST_AUTO_TEST_CASE(null_where_a_value_is_optional) {
    fields f = good_job();
    for (const char* key :
         {"module", "finishTime", "durationHours", "successfulEntity", "failedEntity",
          "skippedEntity", "warningEntity", "totalEntity", "successfulRecord", "failedRecord",
          "skippedRecord", "warningRecord", "totalRecord", "backupSize", "organizationName"})
        f = with(f, key, "null");
    const job j = decode_one(f);
    BOOST_TEST(j.module.empty());
    BOOST_TEST(!j.finish_time);
    BOOST_TEST(!j.duration_hours);
    BOOST_TEST(j.successful_entity == 0);
    BOOST_TEST(j.total_record == 0);
    BOOST_TEST(j.backup_size == 0);
    BOOST_TEST(j.organization_name.empty());
    BOOST_TEST(j.job_id == "DCIB2022081903124382222110");

    auto r = decode(
        R"({"totalCount":null,"nextLink":null,"jobs":null,"pageIndex":null,"pageSize":null})");
    BOOST_REQUIRE_MESSAGE(!r.ec, r.diag.message);
    BOOST_TEST((r.page == jobs_page{}));
}

BOOST_AUTO_TEST_CASE(absent_optional_fields_and_absent_jobs) {
    fields f = good_job();
    for (const char* key :
         {"module", "finishTime", "durationHours", "backupSize", "totalRecord", "organizationName"})
        f = without(f, key);
    const job j = decode_one(f);
    BOOST_TEST(!j.finish_time);
    BOOST_TEST(j.backup_size == 0);

    auto r = decode(R"({"totalCount":0,"nextLink":""})");
    BOOST_REQUIRE_MESSAGE(!r.ec, r.diag.message);
    BOOST_TEST(r.page.jobs.empty());
    BOOST_TEST(r.page.next_link.value() == ""); // an empty nextLink is kept as sent
    BOOST_TEST(!r.page.page_index);
}

BOOST_AUTO_TEST_CASE(a_body_with_neither_jobs_nor_total_count_is_not_a_page) {
    // A gateway's or a proxy's own JSON must never pass for an empty last page.
    for (const char* body : {R"({"message":"ok"})", "{}", R"({"nextLink":null,"pageIndex":1})"}) {
        auto r = decode(body);
        BOOST_TEST((r.ec == errc::missing_field), body);
        BOOST_TEST(r.diag.field == "jobs", body);
        BOOST_TEST(r.diag.message.find("neither jobs nor totalCount") != std::string::npos,
                   r.diag.message);
    }
    // Either member alone is a page, even an empty one.
    BOOST_TEST(!decode(R"({"jobs":[]})").ec);
    BOOST_TEST(!decode(R"({"jobs":null})").ec);
    BOOST_TEST(!decode(R"({"totalCount":0})").ec);
}

BOOST_AUTO_TEST_CASE(integers_written_as_doubles) {
    fields f = good_job();
    f = with(f, "type", "1.0");
    f = with(f, "status", "3.000");
    f = with(f, "backupSize", "180832.0");
    f = with(f, "successfulEntity", "1e0");
    f = with(f, "totalEntity", "0.1e1");
    f = with(f, "successfulRecord", "10E-1");
    f = with(f, "totalRecord", "1.0");
    BOOST_TEST((decode_one(f) == expected_good_job()));

    // Exact even where a double could not hold the value.
    BOOST_TEST(decode_one(with(f, "backupSize", "9007199254740993.0")).backup_size ==
               9007199254740993);
    BOOST_TEST(decode_one(with(f, "backupSize", "9.223372036854775807e18")).backup_size ==
               9223372036854775807);
    BOOST_TEST(decode_one(with(f, "backupSize", "-0.0")).backup_size == 0);
    BOOST_TEST(static_cast<int>(decode_one(with(f, "type", "-2.0e0")).type) == -2);

    auto r = decode(R"({"totalCount":20.0,"pageIndex":1.0,"pageSize":5e0})");
    BOOST_REQUIRE_MESSAGE(!r.ec, r.diag.message);
    BOOST_TEST((r.page.total_count == std::optional<std::int64_t>(20)));
    BOOST_TEST((r.page.page_size == std::optional<std::int64_t>(5)));
}

BOOST_AUTO_TEST_CASE(duration_accepts_integers_and_reads_doubles_exactly) {
    BOOST_TEST(decode_one(with(good_job(), "durationHours", "2")).duration_hours.value() == 2.0);
    BOOST_TEST(decode_one(with(good_job(), "durationHours", "18446744073709551615"))
                   .duration_hours.value() == 18446744073709551615.0);
    // 17 significant digits: a naive mantissa * 10^e conversion rounds twice and can miss.
    for (double d : {0.018800833333333333, 0.1, 1e-300, 5e-324, 1.7976931348623157e308,
                     2.2250738585072014e-308, 0.30000000000000004, 123456.78901234567}) {
        char text[64];
        std::snprintf(text, sizeof text, "%.17g", d);
        BOOST_TEST(decode_one(with(good_job(), "durationHours", text)).duration_hours.value() == d,
                   text);
    }
}

BOOST_AUTO_TEST_CASE(undocumented_enum_values_are_kept) {
    fields f = with(with(good_job(), "type", "64"), "status", "-7");
    const job j = decode_one(f);
    BOOST_TEST(static_cast<std::int32_t>(j.type) == 64);
    BOOST_TEST(static_cast<std::int32_t>(j.status) == -7);
    BOOST_TEST(static_cast<std::int32_t>(decode_one(with(good_job(), "type", "2147483647")).type) ==
               2147483647);
    BOOST_TEST(decode_one(with(good_job(), "backupSize", "9223372036854775807")).backup_size ==
               9223372036854775807);
}

BOOST_AUTO_TEST_CASE(timestamps_with_offsets_and_long_fractions) {
    const job j =
        decode_one(with(with(good_job(), "startTime", R"("2022-08-19T05:12:43.8239999+02:00")"),
                        "finishTime", R"("2022-08-19T03:13:46Z")"));
    BOOST_TEST((j.start_time == utc(2022y / 8 / 19, 3h, 12min, 43s, 823ms)));
    BOOST_TEST((j.finish_time == utc(2022y / 8 / 19, 3h, 13min, 46s, 0ms)));
}

BOOST_AUTO_TEST_CASE(timestamps_agree_with_parse_iso8601) {
    // The decoder has a fast path for the API's usual form; it must agree with parse_iso8601 on
    // every text, valid or not.
    std::vector<std::string> texts = {
        "2022-08-19T03:12:43Z",          "2022-08-19T03:12:43.8Z",      "2022-08-19T03:12:43.82Z",
        "2024-02-29T23:59:59.9999999Z",  "2023-02-29T00:00:00Z",        "2022-08-19T03:12:43.Z",
        "2022-08-19T03:12:60Z",          "2022-08-19T03:12:60.5Z",      "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",          "9999-12-31T23:59:59.999Z",    "2022-08-19T24:00:00Z",
        "2022-08-19T03:60:00Z",          "2022-13-19T03:12:43Z",        "2022-00-19T03:12:43Z",
        "2022-08-00T03:12:43Z",          "2022-08-32T03:12:43Z",        "2022-08-19T03:12:4xZ",
        "2022-08-19t03:12:43z",          "2022-08-19 03:12:43Z",        "2022-08-19T03:12:43+02:00",
        "2022-08-19T03:12:43.5-0130",    "2022-08-19T03:12Z",           "2022-08-19T03:12:43",
        "2022-08-19T03:12:43.123456789", "2022-08-19T03:12:43.1234x6Z", "-022-08-19T03:12:43Z",
        "2022-08-19T03:12:43ZZ",         "2022-08-19T03:12:43.+1Z",     "2022-08-19T03:12:43 Z",
    };
    std::mt19937_64 rng(3);
    std::uniform_int_distribution<std::int64_t> ms(0,
                                                   315'537'897'599'999); // 0001..9999, epoch 0001
    const timestamp year1 = timestamp{sys_days{1y / 1 / 1}};
    for (int i = 0; i < 300; ++i) {
        const std::string t = format_iso8601(year1 + milliseconds{ms(rng)});
        texts.push_back(t);
        if (t.size() == 24) // with milliseconds: also shorter and longer fractions
            texts.push_back(t.substr(0, 21) + "Z"), texts.push_back(t.substr(0, 23) + "4567Z");
    }
    for (const std::string& t : texts) {
        BOOST_TEST_CONTEXT(t) {
            auto r = decode(page_with_job(with(good_job(), "startTime", '"' + t + '"')));
            const auto expected = parse_iso8601(t);
            if (expected) {
                BOOST_TEST(!r.ec, r.diag.message);
                BOOST_TEST((!r.ec && r.page.jobs[0].start_time == *expected));
            } else {
                BOOST_TEST(r.ec == make_error_code(errc::invalid_value));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(organization_ids_agree_with_from_wire) {
    // The decoder's fast GUID path must agree with organization_id::from_wire.
    for (const char* text :
         {"69cb1ecc-f8e8-439b-8077-a4b7fd45e87f", "69CB1ECC-F8E8-439B-8077-A4B7FD45E87F",
          "{69cb1ecc-f8e8-439b-8077-a4b7fd45e87f}", "69cb1ecc-f8e8-439b-8077-a4b7fd45e87g",
          "69cb1ecc-f8e8-439b-8077a-4b7fd45e87f", "69cb1ecc f8e8 439b 8077 a4b7fd45e87f",
          "6cccccc-ffff-bbb-88888-aabbccdeee", "69cb1ecc-f8e8-439b-8077-a4b7fd45e87", "x",
          "00000000-0000-0000-0000-000000000000", "69cb1ecc-f8e8-439b-8077-a4b7fd45e8\u00e9"}) {
        BOOST_TEST_CONTEXT(text) {
            const job j =
                decode_one(with(good_job(), "organizationId", std::string("\"") + text + '"'));
            const std::string wire = j.organization.is_guid() ? text : j.organization.to_string();
            const organization_id expected = organization_id::from_wire(wire);
            BOOST_TEST((j.organization == expected));
        }
    }
    const job j =
        decode_one(with(good_job(), "organizationId", R"("69CB1ECC-F8E8-439B-8077-A4B7FD45E87F")"));
    BOOST_TEST(j.organization.is_guid());
    BOOST_TEST(j.organization.to_string() == "69cb1ecc-f8e8-439b-8077-a4b7fd45e87f");
}

BOOST_AUTO_TEST_CASE(comments_trailing_commas_and_trailing_whitespace) {
    auto r = decode("/* head */ {\"jobs\": [ " + object(good_job()) +
                    " , ], // after\n \"totalCount\": 1, } \n // end\n\t");
    BOOST_REQUIRE_MESSAGE(!r.ec, r.diag.message);
    BOOST_TEST(r.page.jobs.size() == 1u);
}

// Boost.JSON 1.81 misreads a body split inside a comment (boostorg/json#933, found by the page
// decoder fuzzer): the decoder cuts comments out itself. Every split of each body must decode
// like the whole body.
BOOST_AUTO_TEST_CASE(comments_split_anywhere_and_comment_marks_inside_strings) {
    const std::string job_text = object(good_job());
    std::string twelve_jobs = job_text;
    for (int i = 1; i < 12; ++i)
        twelve_jobs += "," + job_text;
    const std::vector<std::string> bodies{
        "//a\n{\"jobs\":[]}",
        "{\"jobs\"://ab\n[]}",
        "/* one */{\"jobs\":[/* two ** / */" + job_text + "/**/],\"nextLink\":\"https://x/y//z\"}",
        "{\"nextLink\":\"/*not a comment*/ //nor this\\\"//\",\"jobs\":[" + job_text + "]} //",
        "{\"totalCount\":1/**/,\"jobs\":[" + job_text + "]}\n// end",
        // A string ending in an escaped backslash, then a comment.
        "{\"nextLink\":\"a\\\\\"//c\n,\"jobs\":[]}",
        // Over 4 KiB of strings before a comment: the quotes are counted in more than 255
        // 16-byte steps.
        "{\"jobs\":[" + twelve_jobs + "]/* after many quotes */}",
    };
    for (const auto& body : bodies) {
        const auto whole = decode(body);
        BOOST_REQUIRE_MESSAGE(!whole.ec, body << ": " << whole.diag.message);
        for (std::size_t cut = 0; cut <= body.size(); ++cut) {
            const auto r = decode_split(body, {cut});
            BOOST_REQUIRE_MESSAGE(!r.ec, body << " cut at " << cut << ": " << r.diag.message);
            BOOST_REQUIRE_MESSAGE(r.page == whole.page, body << " cut at " << cut);
        }
        std::vector<std::size_t> every_byte(body.size());
        for (std::size_t i = 0; i < body.size(); ++i)
            every_byte[i] = i + 1;
        const auto r = decode_split(body, every_byte);
        BOOST_REQUIRE_MESSAGE(!r.ec, body << " byte by byte: " << r.diag.message);
        BOOST_TEST((r.page == whole.page));
    }
    BOOST_TEST((decode(bodies[3]).page.next_link == "/*not a comment*/ //nor this\"//"));
    BOOST_TEST((decode(bodies[5]).page.next_link == "a\\"));
    BOOST_TEST(twelve_jobs.size() > 255 * 16);
    BOOST_TEST(decode(bodies[6]).page.jobs.size() == 12);
}

BOOST_AUTO_TEST_CASE(stray_slashes_and_unterminated_comments_are_errors) {
    for (const std::string body :
         {"{\"jobs\":[]}/", "/{\"jobs\":[]}", "{\"jobs\":/[]}", "{\"totalCount\":1/2}"}) {
        BOOST_TEST_CONTEXT(body) {
            BOOST_TEST((decode(body).ec == errc::json_syntax));
            BOOST_TEST((decode_split(body, {body.size() - 1}).ec == errc::json_syntax));
        }
    }
    const auto r = decode("{\"jobs\":[]} /* never closed");
    BOOST_TEST((r.ec == errc::truncated_body));
    BOOST_TEST(r.diag.message.find("inside a /* comment") != std::string::npos, r.diag.message);
}

BOOST_AUTO_TEST_CASE(a_repeated_key_keeps_the_last_value) {
    auto r = decode(R"({"totalCount":1,"totalCount":2,"jobs":[)" + object(good_job()) +
                    R"(],"jobs":[],"nextLink":"a","nextLink":null})");
    BOOST_REQUIRE_MESSAGE(!r.ec, r.diag.message);
    BOOST_TEST((r.page.total_count == std::optional<std::int64_t>(2)));
    BOOST_TEST(r.page.jobs.empty());
    BOOST_TEST(!r.page.next_link);
}

BOOST_AUTO_TEST_CASE(numbers_sent_as_strings_are_taken_when_they_parse_exactly) {
    fields f = good_job();
    f = with(f, "backupSize", R"("180832")");
    f = with(f, "type", R"("1")");
    f = with(f, "status", R"("3")");
    f = with(f, "durationHours", R"("1.25")");
    f = with(f, "totalEntity", R"("0")");
    const job j = decode_one(f);
    BOOST_TEST(j.backup_size == 180832);
    BOOST_TEST((j.type == job_type::backup));
    BOOST_TEST((j.status == job_status::finished));
    BOOST_TEST(j.duration_hours.value() == 1.25);
    BOOST_TEST(j.total_entity == 0);
    auto r = decode(R"({"totalCount":"20","jobs":[]})");
    BOOST_TEST_REQUIRE(!r.ec, r.diag.message);
    BOOST_TEST(r.page.total_count.value() == 20);
    // A negative counter stays out of range, as a number would.
    const auto negative = decode(page_with_job(with(good_job(), "backupSize", R"("-5")")));
    BOOST_TEST((negative.ec == errc::value_out_of_range));
    BOOST_TEST(negative.diag.field == "jobs[0].backupSize");
}

// ---- errors: types and values ----

BOOST_AUTO_TEST_CASE(wrong_type_reports_the_path) {
    std::vector<std::string> jobs(4, object(good_job()));
    jobs[3] = object(with(good_job(), "backupSize", R"("180832 bytes")"));
    auto r = decode(page_of(jobs));
    check_error(r, errc::unexpected_type, "jobs[3].backupSize",
                "jobs[3].backupSize: expected an integer, got a string");
    BOOST_TEST(r.diag.value == "180832 bytes");
    BOOST_TEST(r.page.jobs.size() == 4u); // decoded so far; the page is not usable after an error
}

BOOST_AUTO_TEST_CASE(wrong_types_of_each_kind) {
    struct {
        const char* key;
        const char* raw;
        const char* message;
        const char* value;
    } const cases[] = {
        {"durationHours", R"("1.5h")", "jobs[0].durationHours: expected a number, got a string",
         "1.5h"},
        {"backupSize", R"("1e3")", "jobs[0].backupSize: expected an integer, got a string", "1e3"},
        {"type", R"(" 1")", "jobs[0].type: expected an integer, got a string", " 1"},
        {"status", R"("+3")", "jobs[0].status: expected an integer, got a string", "+3"},
        {"type", "true", "jobs[0].type: expected an integer, got a boolean", "true"},
        {"status", "[3]", "jobs[0].status: expected an integer, got an array", ""},
        {"startTime", "1660878763", "jobs[0].startTime: expected a string, got an integer",
         "1660878763"},
        {"finishTime", "{}", "jobs[0].finishTime: expected a string, got an object", ""},
        {"organizationId", "1.5", "jobs[0].organizationId: expected a string, got a number", "1.5"},
        {"module", "false", "jobs[0].module: expected a string, got a boolean", "false"},
        {"jobId", "null", "jobs[0].jobId: expected a string, got null", "null"},
        {"type", "null", "jobs[0].type: expected an integer, got null", "null"},
        {"organizationName", "18446744073709551615",
         "jobs[0].organizationName: expected a string, got an integer", "18446744073709551615"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.key << " = " << c.raw) {
            auto r = decode(page_with_job(with(good_job(), c.key, c.raw)));
            check_error(r, errc::unexpected_type, std::string("jobs[0].") + c.key, c.message);
            BOOST_TEST(r.diag.value == c.value);
        }
    }
}

BOOST_AUTO_TEST_CASE(structural_type_errors) {
    check_error(decode("[]"), errc::unexpected_type, "",
                "response body: expected an object, got an array");
    check_error(decode("null"), errc::unexpected_type, "",
                "response body: expected an object, got null");
    check_error(decode(R"({"jobs":{}})"), errc::unexpected_type, "jobs",
                "jobs: expected an array, got an object");
    check_error(decode(R"({"jobs":"none"})"), errc::unexpected_type, "jobs",
                "jobs: expected an array, got a string");
    check_error(decode(R"({"jobs":[)" + object(good_job()) + ",7]}"), errc::unexpected_type,
                "jobs[1]", "jobs[1]: expected an object, got an integer");
    check_error(decode(R"({"jobs":[null]})"), errc::unexpected_type, "jobs[0]",
                "jobs[0]: expected an object, got null");
    check_error(decode(R"({"jobs":[[]]})"), errc::unexpected_type, "jobs[0]",
                "jobs[0]: expected an object, got an array");
    check_error(decode(R"({"totalCount":"twenty"})"), errc::unexpected_type, "totalCount",
                "totalCount: expected an integer, got a string");
    check_error(decode(R"({"nextLink":2})"), errc::unexpected_type, "nextLink",
                "nextLink: expected a string, got an integer");
}

BOOST_AUTO_TEST_CASE(numbers_out_of_range) {
    auto r = decode(page_with_job(with(good_job(), "failedEntity", "1.5")));
    check_error(r, errc::value_out_of_range, "jobs[0].failedEntity",
                "jobs[0].failedEntity: expected an integer, got 1.5");
    BOOST_TEST(r.diag.value == "1.5");

    check_error(decode(page_with_job(with(good_job(), "failedEntity", "-1"))),
                errc::value_out_of_range, "jobs[0].failedEntity",
                "jobs[0].failedEntity: -1 is out of range (0 to 9223372036854775807)");
    check_error(decode(page_with_job(with(good_job(), "backupSize", "9223372036854775808"))),
                errc::value_out_of_range, "jobs[0].backupSize",
                "jobs[0].backupSize: 9223372036854775808 is out of range (0 to "
                "9223372036854775807)");
    check_error(decode(page_with_job(with(good_job(), "backupSize", "1e19"))),
                errc::value_out_of_range, "jobs[0].backupSize",
                "jobs[0].backupSize: 1e19 is out of range (0 to 9223372036854775807)");
    check_error(decode(page_with_job(with(good_job(), "type", "2147483648"))),
                errc::value_out_of_range, "jobs[0].type",
                "jobs[0].type: 2147483648 is out of range (a 32-bit integer)");
    check_error(decode(page_with_job(with(good_job(), "status", "-2147483649"))),
                errc::value_out_of_range, "jobs[0].status",
                "jobs[0].status: -2147483649 is out of range (a 32-bit integer)");
    check_error(decode(page_with_job(with(good_job(), "durationHours", "1e400"))),
                errc::value_out_of_range, "jobs[0].durationHours",
                "jobs[0].durationHours: 1e400 is out of range (a finite double)");
    check_error(decode(R"({"pageIndex":-1})"), errc::value_out_of_range, "pageIndex",
                "pageIndex: -1 is out of range (0 to 9223372036854775807)");
    check_error(decode(R"({"totalCount":0.5})"), errc::value_out_of_range, "totalCount",
                "totalCount: expected an integer, got 0.5");
}

BOOST_AUTO_TEST_CASE(invalid_values) {
    auto r = decode(page_with_job(with(good_job(), "startTime", R"("2022-13-19T03:12:43Z")")));
    check_error(r, errc::invalid_value, "jobs[0].startTime",
                "jobs[0].startTime: \"2022-13-19T03:12:43Z\" is not an ISO 8601 date-time");
    BOOST_TEST(r.diag.value == "2022-13-19T03:12:43Z");
    check_error(decode(page_with_job(with(good_job(), "finishTime", R"("")"))), errc::invalid_value,
                "jobs[0].finishTime", "jobs[0].finishTime: \"\" is not an ISO 8601 date-time");
    check_error(decode(page_with_job(with(good_job(), "jobId", R"("")"))), errc::invalid_value,
                "jobs[0].jobId", "jobs[0].jobId: \"\" is not a job id: it must not be empty");
    check_error(decode(page_with_job(with(good_job(), "organizationId", R"("")"))),
                errc::invalid_value, "jobs[0].organizationId",
                "jobs[0].organizationId: \"\" is not an organization id: it must not be empty");

    // Long values are cut to 100 bytes in the diagnostics.
    const std::string long_time(300, '9');
    auto l = decode(page_with_job(with(good_job(), "startTime", '"' + long_time + '"')));
    BOOST_TEST(l.ec == make_error_code(errc::invalid_value));
    BOOST_TEST(l.diag.value == long_time.substr(0, 100));
}

BOOST_AUTO_TEST_CASE(missing_required_fields) {
    std::vector<std::string> jobs(3, object(good_job()));
    jobs[2] = object(without(good_job(), "jobId"));
    check_error(decode(page_of(jobs)), errc::missing_field, "jobs[2].jobId",
                "jobs[2].jobId: required field is missing");
    for (const char* key : {"type", "jobId", "startTime", "status", "organizationId"}) {
        BOOST_TEST_CONTEXT(key) {
            check_error(decode(page_with_job(without(good_job(), key))), errc::missing_field,
                        std::string("jobs[0].") + key,
                        std::string("jobs[0].") + key + ": required field is missing");
        }
    }
    // The first missing one in the API's order is reported.
    check_error(decode(R"({"jobs":[{}]})"), errc::missing_field, "jobs[0].type",
                "jobs[0].type: required field is missing");
}

// ---- errors: syntax and truncation ----

BOOST_AUTO_TEST_CASE(truncated_bodies) {
    const std::string text = sample();
    check_error(decode(""), errc::truncated_body, "",
                "body ended at byte 0 before the JSON document was complete");
    for (std::size_t cut : {std::size_t{1}, std::size_t{100}, text.size() / 2, text.rfind('}') - 1,
                            text.rfind('}')}) {
        BOOST_TEST_CONTEXT("cut at " << cut) {
            auto r = decode(text.substr(0, cut));
            BOOST_TEST(r.ec == make_error_code(errc::truncated_body));
            BOOST_TEST(r.diag.message.find("body ended at byte " + std::to_string(cut) +
                                           " before the JSON document was complete") == 0,
                       r.diag.message);
        }
    }
    // Inside a job, the path says where.
    const std::string page = page_with_job(good_job());
    const auto inside = page.find("\"status\":3") + 9;
    check_error(decode(page.substr(0, inside)), errc::truncated_body, "jobs[0].status",
                "body ended at byte " + std::to_string(inside) +
                    " before the JSON document was complete (in jobs[0].status)");
}

BOOST_AUTO_TEST_CASE(malformed_json) {
    // "x" is at byte 18.
    check_error(decode(R"({"totalCount": 20 x})"), errc::json_syntax, "totalCount",
                "malformed JSON at byte 18 (in totalCount): syntax error");
    auto r = decode(R"({"jobs":[{"type": 1 "jobId": "x"}]})");
    BOOST_TEST(r.ec == make_error_code(errc::json_syntax));
    BOOST_TEST(r.diag.field == "jobs[0].type");
    BOOST_TEST(r.diag.message.find("malformed JSON at byte 20 (in jobs[0].type): ") == 0,
               r.diag.message);
    for (const char* bad : {"{,}", "{\"a\":1,,}", "{\"a\" 1}", "{'a':1}", "{\"a\":01}",
                            "{\"a\":tru}", "{\"a\":\"\\x\"}", "{\"a\":\"\xff\"}",
                            "{\"a\":\"\x01\"}", "{} x", "{}{}", "{\"a\":NaN}"}) {
        BOOST_TEST_CONTEXT(bad) {
            auto e = decode(bad);
            BOOST_TEST(e.ec == make_error_code(errc::json_syntax), e.diag.message);
            BOOST_TEST(e.diag.message.find("malformed JSON at byte ") == 0, e.diag.message);
        }
    }
}

// ---- errors: limits ----

BOOST_AUTO_TEST_CASE(body_limit) {
    decoder_limits limits;
    limits.max_body_bytes = 1000;
    const std::string text = sample();
    check_error(decode(text, limits), errc::limit_exceeded, "",
                "body larger than the limit of 1000 bytes");
    auto r = decode_split(text, {600}, limits); // the first chunk fits, the second does not
    BOOST_TEST(r.ec == make_error_code(errc::limit_exceeded));
    limits.max_body_bytes = text.size();
    BOOST_TEST(!decode(text, limits).ec);
}

BOOST_AUTO_TEST_CASE(string_and_key_limits) {
    decoder_limits limits;
    limits.max_string_bytes = 20;
    const std::string text = sample();
    // The nextLink comes first and is longer than 20 bytes.
    check_error(decode(text, limits), errc::limit_exceeded, "nextLink",
                "nextLink: string longer than the limit of 20 bytes");
    // A long jobId, also when it arrives in pieces.
    const std::string page = page_with_job(without(good_job(), "module"));
    const auto id = page.find("DCIB");
    for (std::size_t cut : {id, id + 5, id + 25}) {
        check_error(decode_split(page, {cut}, limits), errc::limit_exceeded, "jobs[0].jobId",
                    "jobs[0].jobId: string longer than the limit of 20 bytes");
    }
    // A long string under an unknown key, and a long key.
    check_error(decode(R"({"skipped":[")" + std::string(30, 'a') + R"("]})", limits),
                errc::limit_exceeded, "skipped",
                "skipped: string longer than the limit of 20 bytes");
    check_error(decode(R"({")" + std::string(21, 'k') + R"(":1})", limits), errc::limit_exceeded,
                "", "response body: string longer than the limit of 20 bytes");
    // A number with a huge text, split so that its parts accumulate.
    const std::string num = R"({"totalCount":1)" + std::string(40, '0') + "}";
    auto r = decode_split(num, {16, 30, 45}, limits);
    BOOST_TEST(r.ec == make_error_code(errc::limit_exceeded), r.diag.message);
}

BOOST_AUTO_TEST_CASE(depth_limit) {
    decoder_limits limits;
    limits.max_depth = 5;
    fields f = with(good_job(), "x", "[[1]]"); // depth 5: object, jobs, job, [, [
    BOOST_TEST(!decode(page_with_job(f), limits).ec);
    auto r = decode(page_with_job(with(good_job(), "x", "[[[1]]]")), limits);
    BOOST_TEST(r.ec == make_error_code(errc::limit_exceeded));
    BOOST_TEST(r.diag.message.find("nesting deeper than the limit of 5 at byte ") == 0,
               r.diag.message);
    // The default (32) stops a pathological body without recursion trouble.
    const std::string deep = R"({"x":)" + std::string(100000, '[');
    BOOST_TEST(decode(deep).ec == make_error_code(errc::limit_exceeded));
}

BOOST_AUTO_TEST_CASE(jobs_limit) {
    decoder_limits limits;
    limits.max_jobs = 2;
    check_error(decode(sample(), limits), errc::limit_exceeded, "jobs[2]",
                "jobs[2]: more than 2 jobs");
    limits.max_jobs = 5;
    BOOST_TEST(!decode(sample(), limits).ec);
}

// ---- lifecycle ----

BOOST_AUTO_TEST_CASE(errors_are_sticky_until_reset_and_the_decoder_is_reusable) {
    page_decoder d;
    jobs_page page;
    diagnostics diag;
    d.reset(page);
    BOOST_TEST(d.write(R"({"totalCount":"x"})", diag) == make_error_code(errc::unexpected_type));
    diagnostics again;
    BOOST_TEST(d.write("}", again) == make_error_code(errc::unexpected_type));
    BOOST_TEST(again.message == diag.message);
    BOOST_TEST(d.finish(again) == make_error_code(errc::unexpected_type));
    BOOST_TEST(!d.done());

    const std::string text = sample();
    for (int round = 0; round < 3; ++round) {
        d.reset(page);
        BOOST_TEST(!d.done());
        BOOST_TEST(!d.write(text.substr(0, 1000), diag));
        BOOST_TEST(!d.done());
        BOOST_TEST(!d.write(text.substr(1000), diag), diag.message);
        BOOST_TEST(!d.finish(diag), diag.message);
        BOOST_TEST(diag.message.empty());
        BOOST_TEST(d.done());
        BOOST_TEST(page.jobs.size() == 5u);
        BOOST_TEST((page == decode(text).page));
    }
    // A second finish is harmless; more data after it is a usage error.
    BOOST_TEST(!d.finish(diag));
    BOOST_TEST(d.write("{}", diag) == make_error_code(errc::invalid_argument));

    // Moving keeps the state.
    page_decoder moved = std::move(d);
    moved.reset(page);
    BOOST_TEST(!moved.write(text, diag));
    BOOST_TEST(!moved.finish(diag));
    BOOST_TEST(page.jobs.size() == 5u);
}

BOOST_AUTO_TEST_CASE(reset_clears_the_previous_page) {
    jobs_page page;
    page.total_count = 99;
    page.jobs.resize(3);
    diagnostics diag;
    BOOST_TEST(!decode_page(R"({"jobs":[]})", page, diag));
    BOOST_TEST((page == jobs_page{}));
}

BOOST_AUTO_TEST_CASE(write_before_reset_is_refused) {
    page_decoder d;
    diagnostics diag;
    BOOST_TEST(d.write("{}", diag) == make_error_code(errc::invalid_argument));
    BOOST_TEST(d.finish(diag) == make_error_code(errc::invalid_argument));
    BOOST_TEST(!d.done());
}

BOOST_AUTO_TEST_SUITE_END()
