#include <dynjobs/error.hpp>
#include <dynjobs/jobs_query.hpp>

#include <boost/test/unit_test.hpp>
#include <boost/url/parse.hpp>

using namespace dynjobs;

namespace {

jobs_query valid_query() {
    jobs_query q;
    q.type = job_type::backup;
    q.start_time = parse_iso8601("2021-05-22T11:42:00Z");
    q.finish_time = parse_iso8601("2024-09-22T11:42:00Z");
    return q;
}

// Validates and returns the diagnostics, requiring an invalid_argument error.
diagnostics rejection(const jobs_query& q) {
    diagnostics diag;
    const auto ec = q.validate(diag);
    BOOST_TEST((ec == errc::invalid_argument));
    return diag;
}

} // namespace

BOOST_AUTO_TEST_SUITE(jobs_queries)

BOOST_AUTO_TEST_CASE(a_complete_query_is_valid) {
    auto q = valid_query();
    q.status = job_status::finished;
    q.organization = organization_id::parse("69cb1ecc-f8e8-439b-8077-a4b7fd45e87f");
    diagnostics diag;
    diag.message = "stale";
    BOOST_TEST(!q.validate(diag));
    BOOST_TEST(diag.message.empty());
}

BOOST_AUTO_TEST_CASE(names_the_first_bad_field_and_its_value) {
    auto q = valid_query();
    q.type.reset();
    auto d = rejection(q);
    BOOST_TEST(d.field == "type");
    BOOST_TEST(d.message.find("type: is required") == 0u);

    q = valid_query();
    q.type = static_cast<job_type>(3);
    d = rejection(q);
    BOOST_TEST(d.field == "type");
    BOOST_TEST(d.value == "3");
    BOOST_TEST(d.message == "type: '3' is not a documented job type (0, 1, 2, 4, 8, 16, 32)");

    q = valid_query();
    q.start_time.reset();
    BOOST_TEST(rejection(q).field == "startTime");

    q = valid_query();
    q.finish_time.reset();
    BOOST_TEST(rejection(q).field == "finishTime");

    q = valid_query();
    q.finish_time = q.start_time;
    d = rejection(q);
    BOOST_TEST(d.field == "startTime");
    BOOST_TEST(d.message ==
               "startTime: '2021-05-22T11:42:00Z' must be before finishTime 2021-05-22T11:42:00Z");

    q = valid_query();
    q.status = static_cast<job_status>(5);
    d = rejection(q);
    BOOST_TEST(d.field == "status");
    BOOST_TEST(d.value == "5");

    q = valid_query();
    q.organization = organization_id::from_wire("not-a-guid");
    d = rejection(q);
    BOOST_TEST(d.field == "organizationId");
    BOOST_TEST(d.value == "not-a-guid");

    q = valid_query();
    q.page_index = 0;
    d = rejection(q);
    BOOST_TEST(d.field == "pageIndex");
    BOOST_TEST(d.message == "pageIndex: '0' must be 1 or more");

    q = valid_query();
    q.page_size = jobs_query::max_page_size + 1;
    d = rejection(q);
    BOOST_TEST(d.field == "pageSize");
    BOOST_TEST(d.value == "10001");

    q = valid_query();
    q.page_size = 0;
    BOOST_TEST(rejection(q).field == "pageSize");
}

BOOST_AUTO_TEST_CASE(reports_fields_in_declaration_order) {
    jobs_query q; // everything missing or default
    q.page_index = -1;
    BOOST_TEST(rejection(q).field == "type");
}

BOOST_AUTO_TEST_CASE(target_carries_every_parameter_in_a_fixed_order) {
    auto q = valid_query();
    q.status = job_status::finished;
    q.organization = organization_id::parse("69cb1ecc-f8e8-439b-8077-a4b7fd45e87f");
    q.page_size = 5;
    BOOST_TEST(q.target() ==
               "/dynamicsbackup/jobs?pageIndex=1&pageSize=5&type=1&startTime=2021-05-22T11:42:00Z"
               "&finishTime=2024-09-22T11:42:00Z&status=3"
               "&organizationId=69cb1ecc-f8e8-439b-8077-a4b7fd45e87f");
}

BOOST_AUTO_TEST_CASE(target_percent_encodes_the_path_and_round_trips_through_a_parser) {
    auto q = valid_query();
    q.page_index = 7;
    const auto target = q.target("/api base/jobs");
    BOOST_TEST(target.find("/api%20base/jobs?") == 0u);
    const auto parsed = boost::urls::parse_origin_form(target);
    BOOST_TEST_REQUIRE(parsed.has_value());
    const auto params = parsed->params();
    BOOST_TEST((*params.find("pageIndex")).value == "7");
    BOOST_TEST((*params.find("startTime")).value == "2021-05-22T11:42:00Z");
    BOOST_TEST(params.count("status") == 0u);
    BOOST_TEST(params.count("organizationId") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
