// The output file and the atomic checkpoint write, on real files in a scratch folder.
#include "cli/output_file.hpp"
#include "cli_test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <system_error>

using namespace dynjobs::cli;
using namespace dynjobs::cli::test;

BOOST_AUTO_TEST_SUITE(cli_output_file)

BOOST_AUTO_TEST_CASE(create_truncates_and_counts_bytes) {
    scratch_dir dir;
    const auto path = dir / "out.jsonl";
    dir.write("out.jsonl", "old content that must go\n");
    {
        auto f = output_file::create(path);
        BOOST_TEST(f.offset() == 0u);
        f.append("line1\n");
        f.buffer() += "line2\n";
        f.commit_buffer();
        BOOST_TEST(f.offset() == 12u);
        f.sync();
        BOOST_TEST(f.offset() == 12u);
    }
    BOOST_TEST(read_all(path) == "line1\nline2\n");
}

BOOST_AUTO_TEST_CASE(resume_cuts_a_torn_tail_and_appends_after_the_offset) {
    scratch_dir dir;
    const auto path = dir / "out.jsonl";
    dir.write("out.jsonl", "line1\nline2\nline3-torn");
    {
        auto f = output_file::resume(path, 12);
        BOOST_TEST(f.offset() == 12u);
        BOOST_TEST(std::filesystem::file_size(path) == 12u);
        f.append("line3\n");
        f.sync();
        BOOST_TEST(f.offset() == 18u);
    }
    BOOST_TEST(read_all(path) == "line1\nline2\nline3\n");
}

BOOST_AUTO_TEST_CASE(resume_at_the_exact_size_keeps_everything) {
    scratch_dir dir;
    const auto path = dir / "out.csv";
    dir.write("out.csv", "a,b\r\n");
    {
        auto f = output_file::resume(path, 5);
        f.append("c,d\r\n");
        f.sync();
    }
    BOOST_TEST(read_all(path) == "a,b\r\nc,d\r\n");
}

BOOST_AUTO_TEST_CASE(resume_refuses_a_file_shorter_than_the_checkpoint) {
    scratch_dir dir;
    const auto path = dir / "out.jsonl";
    dir.write("out.jsonl", "line1\n");
    try {
        output_file::resume(path, 100);
        BOOST_ERROR("a shorter output must be refused");
    } catch (const std::system_error& e) {
        check_names(e.what(), {path.string(), "6", "100"});
    }
    // Refusing must not damage what is there.
    BOOST_TEST(read_all(path) == "line1\n");
    BOOST_CHECK_THROW(output_file::resume(dir / "missing.jsonl", 0), std::system_error);
}

BOOST_AUTO_TEST_CASE(large_appends_reach_the_file) {
    scratch_dir dir;
    const auto path = dir / "big";
    const std::string chunk(700'000, 'x');
    {
        auto f = output_file::create(path);
        f.append(chunk);
        f.append(chunk); // past the flush threshold
        BOOST_TEST(f.offset() == 1'400'000u);
        f.sync();
    }
    BOOST_TEST(std::filesystem::file_size(path) == 1'400'000u);
}

BOOST_AUTO_TEST_CASE(read_range) {
    scratch_dir dir;
    const auto path = dir / "f";
    dir.write("f", "0123456789");
    BOOST_TEST(read_file_range(path, 2, 5) == "234");
    BOOST_TEST(read_file_range(path, 0, 10) == "0123456789");
    BOOST_TEST(read_file_range(path, 5, 5).empty());
    BOOST_CHECK_THROW(read_file_range(path, 8, 20), std::system_error);
    BOOST_CHECK_THROW(read_file_range(dir / "missing", 0, 1), std::system_error);
}

BOOST_AUTO_TEST_CASE(atomic_write_replaces_and_leaves_no_temporary) {
    scratch_dir dir;
    const auto path = dir / "jobs.jsonl.checkpoint";
    write_file_atomically(path, "first\n");
    BOOST_TEST(read_all(path) == "first\n");
    write_file_atomically(path, "second, longer content\n");
    BOOST_TEST(read_all(path) == "second, longer content\n");
    write_file_atomically(path, "3\n");
    BOOST_TEST(read_all(path) == "3\n");
    std::size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        ++entries;
        BOOST_TEST(e.path().extension() != ".tmp");
    }
    BOOST_TEST(entries == 1u);
    BOOST_CHECK_THROW(write_file_atomically(dir / "missing" / "cp", "x"), std::system_error);
}

BOOST_AUTO_TEST_SUITE_END()
