// The checkpoint file and the resume scan: what a resume trusts after a crash.
#include "cli/checkpoint.hpp"
#include "cli/resume_scan.hpp"
#include "cli_test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <limits>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

using namespace dynjobs;
using namespace dynjobs::cli;
using namespace dynjobs::cli::test;
namespace json = boost::json;

namespace {

// A resume's scan of `text` fed in pieces of `piece` bytes (0: at once).
bool collect_job_ids(output_format format, std::string_view text,
                     std::unordered_set<std::string>& ids, std::string& error,
                     std::size_t piece = 0) {
    job_id_scan scan(format, [&](std::string_view id) { ids.emplace(id); });
    for (std::size_t at = 0; at < text.size(); at += piece == 0 ? text.size() : piece)
        if (!scan.feed(text.substr(at, piece == 0 ? text.npos : piece), error))
            return false;
    return scan.finish(error);
}

checkpoint sample() {
    checkpoint c;
    c.chosen = {{"--type", "1"},
                {"--status", ""},
                {"--since", "90d"},
                {"--org", "3f2504e0-4f89-41d3-9a0c-0305e82c3301"},
                {"--output", "/tmp/jobs \"2024\" Zürich.csv"}};
    c.start = at("2024-01-01T00:00:00.125Z");
    c.finish = at("2026-06-15T12:00:00Z");
    c.output_offset = 123'456;
    c.scan_from = 100'000;
    c.jobs_written = 789;
    c.done = {{0, 0}, {0, 1}, {3, 17}};
    c.complete = false;
    return c;
}

// The sample's encoding with one change made to its JSON.
std::string edited(const std::function<void(json::object&)>& edit) {
    auto v = json::parse(encode_checkpoint(sample()));
    edit(v.as_object());
    return json::serialize(v);
}

std::string decode_error(std::string_view text) {
    std::string error;
    const auto c = decode_checkpoint(text, error);
    BOOST_TEST(!c, "should be refused: " << text);
    BOOST_TEST(!error.empty());
    return error;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli_checkpoint)

BOOST_AUTO_TEST_CASE(round_trip) {
    const auto c = sample();
    const auto text = encode_checkpoint(c);
    BOOST_TEST(text.ends_with('\n'));
    std::string error;
    const auto d = decode_checkpoint(text, error);
    BOOST_REQUIRE_MESSAGE(d, error);
    BOOST_TEST((d->chosen == c.chosen));
    BOOST_TEST((d->start == c.start));
    BOOST_TEST((d->finish == c.finish));
    BOOST_TEST(d->output_offset == c.output_offset);
    BOOST_TEST(d->scan_from == c.scan_from);
    BOOST_TEST(d->jobs_written == c.jobs_written);
    BOOST_TEST((d->done == c.done));
    BOOST_TEST(d->complete == c.complete);
}

BOOST_AUTO_TEST_CASE(round_trip_of_extremes) {
    checkpoint c;
    c.output_offset = std::numeric_limits<std::uint64_t>::max();
    c.scan_from = c.output_offset;
    c.jobs_written = std::numeric_limits<std::uint64_t>::max();
    c.complete = true;
    c.start = at("2000-01-01T00:00:00Z");
    c.finish = at("2000-01-01T00:00:00.001Z");
    std::string error;
    const auto d = decode_checkpoint(encode_checkpoint(c), error);
    BOOST_REQUIRE_MESSAGE(d, error);
    BOOST_TEST(d->output_offset == c.output_offset);
    BOOST_TEST(d->jobs_written == c.jobs_written);
    BOOST_TEST(d->complete);
    BOOST_TEST(d->done.empty());
    BOOST_TEST(d->chosen.empty());
    BOOST_TEST((d->finish - d->start).count() == 1);
}

BOOST_AUTO_TEST_CASE(holds_no_secret_only_what_it_was_given) {
    // The file sits beside the output; it must carry the selection and counts, nothing else.
    const auto v = json::parse(encode_checkpoint(sample())).as_object();
    for (std::string_view key :
         {"format", "version", "selection", "start", "finish", "outputOffset", "scanFrom",
          "jobsWritten", "complete", "segmentsDone"})
        BOOST_TEST(v.contains(key), key);
    BOOST_TEST(v.size() == 10u);
}

BOOST_AUTO_TEST_CASE(refuses_what_is_not_a_checkpoint_of_this_version) {
    decode_error("");
    decode_error("not json");
    decode_error("[1,2]");
    decode_error(edited([](json::object& o) { o["format"] = "something-else"; }));
    decode_error(edited([](json::object& o) { o.erase("format"); }));
    decode_error(edited([](json::object& o) { o["version"] = 2; }));
    decode_error(edited([](json::object& o) { o["version"] = "1"; }));
    decode_error(edited([](json::object& o) { o.erase("version"); }));
}

BOOST_AUTO_TEST_CASE(refuses_missing_or_wrong_fields_naming_them) {
    for (std::string_view field : {"selection", "start", "finish", "outputOffset", "scanFrom",
                                   "jobsWritten", "complete", "segmentsDone"}) {
        BOOST_TEST_CONTEXT("without " << field) {
            const auto e = decode_error(edited([&](json::object& o) { o.erase(field); }));
            BOOST_TEST(e.find(field) != std::string::npos, e);
        }
    }
    check_names(decode_error(edited([](json::object& o) { o["start"] = "yesterday"; })), {"start"});
    check_names(
        decode_error(edited([](json::object& o) { o["selection"].as_object()["--x"] = 1; })),
        {"selection"});
    check_names(decode_error(edited([](json::object& o) { o["complete"] = "yes"; })), {"complete"});
}

BOOST_AUTO_TEST_CASE(refuses_negative_and_fractional_numbers) {
    for (std::string_view field : {"outputOffset", "scanFrom", "jobsWritten"}) {
        BOOST_TEST_CONTEXT(field) {
            check_names(decode_error(edited([&](json::object& o) { o[field] = -1; })), {field});
            check_names(decode_error(edited([&](json::object& o) { o[field] = 1.5; })), {field});
        }
    }
    check_names(decode_error(edited([](json::object& o) {
                    o["segmentsDone"] = json::array{json::array{-1, 0}};
                })),
                {"segmentsDone"});
    check_names(decode_error(edited([](json::object& o) {
                    o["segmentsDone"] = json::array{json::array{0, 2.5}};
                })),
                {"segmentsDone"});
    check_names(decode_error(edited(
                    [](json::object& o) { o["segmentsDone"] = json::array{json::array{0}}; })),
                {"segmentsDone"});
    check_names(decode_error(edited([](json::object& o) {
                    o["segmentsDone"] = json::array{json::array{"0", 1}};
                })),
                {"segmentsDone"});
}

BOOST_AUTO_TEST_CASE(refuses_scan_from_past_output_offset) {
    const auto e = decode_error(edited([](json::object& o) {
        o["scanFrom"] = 200'000;
        o["outputOffset"] = 100'000;
    }));
    check_names(e, {"scanFrom", "outputOffset"});
}

BOOST_AUTO_TEST_CASE(selection_mismatch_names_option_and_both_values) {
    const selection saved{{"--since", "90d"}, {"--type", "1"}, {"--status", ""}};
    BOOST_TEST(!selection_mismatch(saved, saved));
    // The order the options were given in does not matter.
    BOOST_TEST(!selection_mismatch(saved, {{"--type", "1"}, {"--status", ""}, {"--since", "90d"}}));

    const auto changed =
        selection_mismatch(saved, {{"--since", "30d"}, {"--type", "1"}, {"--status", ""}});
    BOOST_REQUIRE(changed);
    check_names(*changed, {"--since", "'90d'", "'30d'"});

    const auto added =
        selection_mismatch(saved, {{"--since", "90d"}, {"--type", "1"}, {"--status", "4"}});
    BOOST_REQUIRE(added);
    check_names(*added, {"--status", "(none)", "'4'"});

    const auto dropped = selection_mismatch(saved, {{"--type", "1"}, {"--status", ""}});
    BOOST_REQUIRE(dropped);
    check_names(*dropped, {"--since", "'90d'", "(none)"});

    const auto unknown_before = selection_mismatch(
        saved, {{"--since", "90d"}, {"--type", "1"}, {"--status", ""}, {"--org", "x"}});
    BOOST_REQUIRE(unknown_before);
    check_names(*unknown_before, {"--org", "'x'"});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cli_resume_scan)

BOOST_AUTO_TEST_CASE(jsonl_ids) {
    std::string text;
    append_job_line(text, output_format::jsonl, awkward_job());
    append_job_line(text, output_format::jsonl, running_job());
    std::unordered_set<std::string> ids;
    std::string error;
    BOOST_REQUIRE_MESSAGE(collect_job_ids(output_format::jsonl, text, ids, error), error);
    BOOST_TEST(ids.size() == 2u);
    BOOST_TEST(ids.count("DCIB2022081903124382222110") == 1u);
    BOOST_TEST(ids.count("RUN-1") == 1u);

    ids.clear();
    BOOST_TEST(collect_job_ids(output_format::jsonl, "", ids, error));
    BOOST_TEST(ids.empty());
}

BOOST_AUTO_TEST_CASE(csv_ids_skip_the_header_and_survive_line_breaks_in_fields) {
    std::string text(output_preamble(output_format::csv));
    job quoted = awkward_job(); // organizationName holds CR LF
    quoted.job_id = "id,with \"quotes\"\r\nand a line break";
    append_job_line(text, output_format::csv, quoted);
    append_job_line(text, output_format::csv, running_job());
    std::unordered_set<std::string> ids;
    std::string error;
    BOOST_REQUIRE_MESSAGE(collect_job_ids(output_format::csv, text, ids, error), error);
    BOOST_TEST(ids.size() == 2u);
    BOOST_TEST(ids.count(quoted.job_id) == 1u);
    BOOST_TEST(ids.count("RUN-1") == 1u);
    BOOST_TEST(ids.count("jobId") == 0u);

    // A resume scan usually starts after the header.
    std::string body;
    append_job_line(body, output_format::csv, running_job());
    ids.clear();
    BOOST_REQUIRE_MESSAGE(collect_job_ids(output_format::csv, body, ids, error), error);
    BOOST_TEST(ids.count("RUN-1") == 1u);
}

BOOST_AUTO_TEST_CASE(torn_or_foreign_jsonl_lines_are_errors_naming_the_line) {
    std::string good;
    append_job_line(good, output_format::jsonl, running_job());
    std::unordered_set<std::string> ids;
    std::string error;

    BOOST_TEST(!collect_job_ids(output_format::jsonl, good + good.substr(0, 20), ids, error));
    check_names(error, {"line 2"});
    BOOST_TEST(!collect_job_ids(output_format::jsonl, good + "{\"id\":1}\n", ids, error));
    check_names(error, {"line 2"});
    BOOST_TEST(!collect_job_ids(output_format::jsonl, "{\"jobId\":7}\n", ids, error));
    check_names(error, {"line 1"});
    BOOST_TEST(!collect_job_ids(output_format::jsonl, "\n", ids, error));
    BOOST_TEST(
        !collect_job_ids(output_format::jsonl, good.substr(0, good.size() - 5) + "\n", ids, error));
    // Only the line's own jobId, a string, of one whole JSON object.
    for (const std::string bad :
         {"{\"job\":{\"jobId\":\"A\"}}", "[{\"jobId\":\"A\"}]", "\"jobId\"", "{\"jobId\":\"A\"} {}",
          "{\"jobId\":\"A\"}x", "{\"jobId\":\"A\",\"jobId\":null}", "{\"jobId\":[\"A\"]}",
          "{\"jobId\":{\"jobId\":\"A\"}}", "{\"jobId\":\"A\",}",
          "{\"jobId\":\"A\" // a comment\n}"}) {
        BOOST_TEST(!collect_job_ids(output_format::jsonl, bad + "\n", ids, error), bad);
        check_names(error, {"line 1"});
    }
    // Escapes, repeated keys (the last counts, as boost::json::parse), nesting beside it, and
    // the CR of a file edited on Windows.
    ids.clear();
    BOOST_REQUIRE_MESSAGE(collect_job_ids(output_format::jsonl,
                                          "{\"a\":[{\"jobId\":1}],\"jobId\":\"x\\\"y\\u00e9\"}\n"
                                          "{\"jobId\":2,\"jobId\":\"B\"}\r\n",
                                          ids, error),
                          error);
    BOOST_TEST(ids.size() == 2u);
    BOOST_TEST(ids.count("x\"y\xc3\xa9") == 1u);
    BOOST_TEST(ids.count("B") == 1u);
}

BOOST_AUTO_TEST_CASE(pieces_of_any_size_find_the_same_ids_and_the_same_bad_line) {
    std::string jsonl;
    std::string csv(output_preamble(output_format::csv));
    std::unordered_set<std::string> expected;
    for (int i = 0; i < 20; ++i) {
        job j = awkward_job(); // its organizationName holds CR LF: CSV records span lines
        j.job_id = "DCIB" + std::to_string(i);
        expected.insert(j.job_id);
        append_job_line(jsonl, output_format::jsonl, j);
        append_job_line(csv, output_format::csv, j);
    }
    for (std::size_t piece : {1u, 7u, 64u, 1000u}) {
        for (auto format : {output_format::jsonl, output_format::csv}) {
            BOOST_TEST_CONTEXT("pieces of " << piece << ", " << to_string(format)) {
                std::unordered_set<std::string> ids;
                std::string error;
                BOOST_TEST(collect_job_ids(format, format == output_format::csv ? csv : jsonl, ids,
                                           error, piece),
                           error);
                BOOST_TEST((ids == expected));
            }
        }
        // Lines are counted across pieces.
        std::unordered_set<std::string> ids;
        std::string error;
        BOOST_TEST(
            !collect_job_ids(output_format::jsonl, jsonl + "{\"id\":1}\n", ids, error, piece));
        check_names(error, {"line 21"});
        BOOST_TEST(!collect_job_ids(output_format::jsonl, jsonl + "{\"jobId\"", ids, error, piece));
        check_names(error, {"line 21", "no line end"});
    }
}

BOOST_AUTO_TEST_CASE(torn_or_foreign_csv_records_are_errors) {
    std::string good;
    append_job_line(good, output_format::csv, running_job());
    std::unordered_set<std::string> ids;
    std::string error;

    BOOST_TEST(!collect_job_ids(output_format::csv, good + good.substr(0, 30), ids, error));
    BOOST_TEST(!error.empty());
    BOOST_TEST(!collect_job_ids(output_format::csv, good + "a,b,c\r\n", ids, error));
    check_names(error, {"record 2", "3 fields"});
    BOOST_TEST(!collect_job_ids(output_format::csv, "a,\"b\"c\r\n", ids, error));
    BOOST_TEST(!collect_job_ids(output_format::jsonl, good, ids, error)); // CSV is not JSONL
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cli_resume_scan_random)

// Resume drops a refetched job when its id was found in the output, so every id must come back
// byte for byte from both formats, whatever characters it holds.
BOOST_AUTO_TEST_CASE(every_id_comes_back_from_both_formats) {
    const std::vector<std::string> pieces{
        "a",    "Z",  "7",  "\"",   ",", "\r",       "\n",
        "\r\n", "\\", "\t", "\x01", " ", "\xC3\xA9", "\xF0\x9F\x93\xA6",
        "'"};
    std::mt19937 random(20261129);
    const auto text = [&] {
        std::string s;
        const auto length = 1 + random() % 12;
        for (std::size_t i = 0; i < length; ++i)
            s += pieces[random() % pieces.size()];
        return s;
    };
    std::unordered_set<std::string> expected;
    std::string jsonl;
    std::string csv(output_preamble(output_format::csv));
    for (int i = 0; i < 300; ++i) {
        job j = awkward_job();
        j.job_id = text() + std::to_string(i); // unique
        j.module = text();
        j.organization_name = text();
        expected.insert(j.job_id);
        append_job_line(jsonl, output_format::jsonl, j);
        append_job_line(csv, output_format::csv, j);
    }
    for (auto format : {output_format::jsonl, output_format::csv}) {
        BOOST_TEST_CONTEXT("format " << to_string(format)) {
            std::unordered_set<std::string> ids;
            std::string error;
            BOOST_TEST(
                collect_job_ids(format, format == output_format::csv ? csv : jsonl, ids, error),
                error);
            BOOST_TEST((ids == expected));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
