#include "policy/dedupe_set.hpp"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using dynjobs::policy::dedupe_set;

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

BOOST_AUTO_TEST_SUITE_END()
