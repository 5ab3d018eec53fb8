#include "policy/dedupe_set.hpp"

#include "../common/scratch_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <unordered_set>

using dynjobs::policy::dedupe_set;
using dynjobs::policy::dedupe_spill;
using dynjobs::policy::packed_id;
using dynjobs::policy::spilled_ids;
using dynjobs::testkit::scratch_dir;

namespace {

packed_id nth_id(std::uint64_t n) {
    return packed_id{(1ull << 63) | (n >> 20), n * 2}; // even lows: id + 1 is never one of them
}

} // namespace

BOOST_AUTO_TEST_SUITE(dedupe_sets)

BOOST_AUTO_TEST_CASE(drops_repeats_of_the_published_sample) {
    dedupe_set set;
    BOOST_TEST(set.insert("DCIB2022081903124382222110"));
    BOOST_TEST(set.insert("DCIB2022081810345391848112"));
    BOOST_TEST(!set.insert("DCIB2022081810345391848112"));
    BOOST_TEST(!set.insert("DCIB2022081810345391848112"));
    BOOST_TEST(set.size() == 2u);
    BOOST_TEST(set.contains("DCIB2022081903124382222110"));
    BOOST_TEST(!set.contains("DCIB2022081903124382222111"));
}

BOOST_AUTO_TEST_CASE(ids_that_differ_anywhere_stay_distinct) {
    // Pairs a lossy packing would confuse: leading zeros, letter/digit boundaries, lengths,
    // the split between the two words of the key, and ids outside the packed form.
    const std::vector<std::string> ids = {"1",
                                          "01",
                                          "001",
                                          "A1",
                                          "AA1",
                                          "A01",
                                          "AA01",
                                          "B1",
                                          "Z9",
                                          "ZZZZ9",
                                          "ZZZZ09",
                                          "DCIB0",
                                          "DCIB00",
                                          "DCIB2022081903124382222110",
                                          "DCIB02022081903124382222110",
                                          "DCIB2022081903124382222110"
                                          "0",
                                          "DCIA2022081903124382222110",
                                          "9999999999999999999",
                                          "09999999999999999999",
                                          "999999999999999999999999999",
                                          "1000000000000000000",
                                          "10000000000000000000",
                                          "100000000000000000000",
                                          "ZZZZZ1",
                                          "dcib1",
                                          "DCIB",
                                          "",
                                          "DCIB12a",
                                          "12345678901234567890123456789",
                                          "job-0001",
                                          "A-1"};
    dedupe_set set;
    for (const auto& id : ids)
        BOOST_TEST(set.insert(id), "first insert of '" << id << "'");
    for (const auto& id : ids)
        BOOST_TEST(!set.insert(id), "second insert of '" << id << "'");
    BOOST_TEST(set.size() == ids.size());
}

BOOST_AUTO_TEST_CASE(matches_a_reference_set_over_many_ids_and_grows) {
    dedupe_set set;
    std::set<std::string> reference;
    std::uint64_t x = 12345;
    for (int i = 0; i < 200'000; ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        // Narrow ranges make repeats frequent.
        std::string id = "DCIB202" + std::to_string((x >> 33) % 150'000);
        if (i % 7 == 0)
            id = "other-" + std::to_string((x >> 40) % 5'000);
        BOOST_TEST_REQUIRE(set.insert(id) == reference.insert(id).second);
    }
    BOOST_TEST(set.size() == reference.size());
    // Packed keys cost about 21 bytes each at the table's load, far less than strings.
    BOOST_TEST(set.memory_bytes() < reference.size() * 48);
}

BOOST_AUTO_TEST_CASE(clear_releases_everything) {
    dedupe_set set;
    for (int i = 0; i < 5'000; ++i)
        set.insert("DCIB" + std::to_string(i));
    set.clear();
    BOOST_TEST(set.size() == 0u);
    BOOST_TEST(set.memory_bytes() < 1'024u);
    BOOST_TEST(set.insert("DCIB1"));
}

BOOST_AUTO_TEST_CASE(spills_past_its_budget_and_stays_exact_in_little_memory) {
    scratch_dir folder("dedupe");
    // 64 KiB of table: 4,096 slots, so a run of 3,072 ids at each spill.
    dedupe_set set(dedupe_spill{64u << 10, folder.path().string()});
    std::unordered_set<std::string> reference;
    std::uint64_t x = 777;
    for (int i = 0; i < 120'000; ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        // 100,000 possible ids: a third of the inserts are repeats, most of ids long spilled.
        std::string id = "DCIB2022" + std::to_string(10'000'000 + (x >> 33) % 100'000);
        if (i % 97 == 0)
            id = "other-" + std::to_string((x >> 40) % 500);
        BOOST_TEST_REQUIRE(set.insert(id) == reference.insert(id).second, "insert " << i);
    }
    BOOST_TEST(set.size() == reference.size());
    BOOST_TEST(set.spilled() > reference.size() * 9 / 10);
    BOOST_TEST(!set.spill_error());
    for (const auto& id : reference)
        BOOST_TEST_REQUIRE(set.contains(id), id);
    BOOST_TEST(!set.contains("DCIB202210250000"));
    BOOST_TEST(!set.contains("DCIB2022" + std::to_string(10'000'000 + 100'000)));
    // The table, the filter (1 to 1.5 bytes per spilled id), the block index and the strings.
    BOOST_TEST(set.memory_bytes() < (64u << 10) + set.spilled() * 2 + 64'000);
    // The runs are unnamed files: nothing to see, nothing left after a crash.
    BOOST_TEST(std::filesystem::is_empty(folder.path()));
}

BOOST_AUTO_TEST_CASE(a_spill_folder_that_does_not_exist_keeps_the_ids_in_memory) {
    dedupe_set set(dedupe_spill{64u << 10, "/nonexistent/dynjobs-spill"});
    for (int i = 0; i < 20'000; ++i)
        BOOST_TEST_REQUIRE(set.insert("DCIB" + std::to_string(i)));
    for (int i = 0; i < 20'000; ++i)
        BOOST_TEST_REQUIRE(!set.insert("DCIB" + std::to_string(i)));
    BOOST_TEST(set.size() == 20'000u);
    BOOST_TEST(set.spilled() == 0u);
    BOOST_TEST((set.spill_error() == std::errc::no_such_file_or_directory));
}

BOOST_AUTO_TEST_CASE(absorb_and_clear_take_the_spilled_ids_too) {
    scratch_dir folder("dedupe");
    const dedupe_spill spill{64u << 10, folder.path().string()};
    dedupe_set a(spill);
    dedupe_set b(spill);
    for (int i = 0; i < 20'000; ++i)
        a.insert("DCIB" + std::to_string(i));
    for (int i = 10'000; i < 30'000; ++i)
        b.insert("DCIB" + std::to_string(i));
    BOOST_TEST(a.spilled() > 0u);
    BOOST_TEST(b.spilled() > 0u);
    a.absorb(b);
    BOOST_TEST(a.size() == 30'000u);
    for (int i = 0; i < 30'000; ++i)
        BOOST_TEST_REQUIRE(!a.insert("DCIB" + std::to_string(i)));
    a.clear();
    BOOST_TEST(a.size() == 0u);
    BOOST_TEST(a.insert("DCIB1"));
}

BOOST_AUTO_TEST_CASE(runs_merge_four_at_a_time_and_answer_every_lookup) {
    scratch_dir folder("dedupe");
    spilled_ids disk(folder.path().string());
    std::uint64_t n = 0;
    for (int r = 0; r < 17; ++r) {
        std::vector<packed_id> run;
        for (int i = 0; i < 1'000; ++i)
            run.push_back(nth_id(n++ * 7 % 17'000)); // runs interleave: merges must sort
        std::sort(run.begin(), run.end());
        std::error_code error;
        BOOST_TEST_REQUIRE(disk.add(run, error), error.message());
    }
    // Four level-0 runs made each level-1 run; four of those made one level-2 run; one is new.
    BOOST_TEST(disk.run_count() == 2u);
    BOOST_TEST(disk.size() == 17'000u);
    for (std::uint64_t i = 0; i < 17'000; ++i) {
        BOOST_TEST_REQUIRE(disk.contains(nth_id(i)), i);
        packed_id absent = nth_id(i);
        ++absent.low;
        BOOST_TEST_REQUIRE(!disk.contains(absent), i);
    }
    std::vector<packed_id> all;
    disk.for_each([&](const packed_id& id) { all.push_back(id); });
    std::sort(all.begin(), all.end());
    BOOST_TEST((std::adjacent_find(all.begin(), all.end()) == all.end()));
    BOOST_TEST(all.size() == 17'000u);
}

BOOST_AUTO_TEST_SUITE_END()
