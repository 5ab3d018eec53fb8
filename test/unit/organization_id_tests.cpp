#include <dynjobs/organization_id.hpp>

#include <boost/test/unit_test.hpp>

#include <unordered_set>

using dynjobs::organization_id;

BOOST_AUTO_TEST_SUITE(organization_ids)

BOOST_AUTO_TEST_CASE(parses_and_formats_canonically) {
    const auto id = organization_id::parse("69CB1ECC-f8e8-439b-8077-A4B7FD45E87F");
    BOOST_TEST_REQUIRE(id.has_value());
    BOOST_TEST(id->is_guid());
    BOOST_TEST(id->to_string() == "69cb1ecc-f8e8-439b-8077-a4b7fd45e87f");
    BOOST_TEST(id->bytes()[0] == 0x69);
    BOOST_TEST(id->bytes()[15] == 0x7f);
    const auto braced = organization_id::parse("{69cb1ecc-f8e8-439b-8077-a4b7fd45e87f}");
    BOOST_TEST_REQUIRE(braced.has_value());
    BOOST_TEST((*braced == *id));
}

BOOST_AUTO_TEST_CASE(strict_parse_rejects_non_guids) {
    for (const char* bad :
         {"", "6cccccc-ffff-bbb-88888-aabbccdeee", "69cb1ecc-f8e8-439b-8077-a4b7fd45e87",
          "69cb1ecc-f8e8-439b-8077-a4b7fd45e87ff", "69cb1eccf8e8439b8077a4b7fd45e87f",
          "69cb1ecc-f8e8-439b-8077_a4b7fd45e87f", "69cb1ecc-f8e8-439b-8077-a4b7fd45e87g",
          "{69cb1ecc-f8e8-439b-8077-a4b7fd45e87f", "(69cb1ecc-f8e8-439b-8077-a4b7fd45e87f)"}) {
        BOOST_TEST_CONTEXT("input '" << bad << "'") {
            BOOST_TEST(!organization_id::parse(bad).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(wire_values_that_are_not_guids_are_kept_verbatim) {
    // The published response sample carries this malformed id; the job must survive.
    const auto id = organization_id::from_wire("6cccccc-ffff-bbb-88888-aabbccdeee");
    BOOST_TEST(!id.is_guid());
    BOOST_TEST(id.to_string() == "6cccccc-ffff-bbb-88888-aabbccdeee");
    const auto guid = organization_id::from_wire("69cb1ecc-f8e8-439b-8077-a4b7fd45e87f");
    BOOST_TEST(guid.is_guid());
    BOOST_TEST((guid == *organization_id::parse("69cb1ecc-f8e8-439b-8077-a4b7fd45e87f")));
    BOOST_TEST((id != guid));
}

BOOST_AUTO_TEST_CASE(compares_and_hashes_as_a_value) {
    const auto a = *organization_id::parse("00000000-0000-0000-0000-000000000001");
    const auto b = *organization_id::parse("00000000-0000-0000-0000-000000000002");
    const auto c = *organization_id::parse("10000000-0000-0000-0000-000000000000");
    BOOST_TEST((a < b));
    BOOST_TEST((b < c));
    BOOST_TEST((organization_id{} < a));
    std::unordered_set<organization_id> set{a, b, c, a, organization_id::from_wire("x")};
    BOOST_TEST(set.size() == 4u);
    BOOST_TEST(set.count(*organization_id::parse("00000000-0000-0000-0000-000000000002")) == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
