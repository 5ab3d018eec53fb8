#include <dynjobs/job_status.hpp>
#include <dynjobs/job_type.hpp>

#include <boost/test/unit_test.hpp>

using namespace dynjobs;

BOOST_AUTO_TEST_SUITE(enums)

BOOST_AUTO_TEST_CASE(job_type_names_round_trip) {
    for (auto t : {job_type::all, job_type::backup, job_type::restore, job_type::dry_run,
                   job_type::retention, job_type::audit_backup, job_type::export_data}) {
        BOOST_TEST(is_documented(t));
        BOOST_TEST((parse_job_type(to_string(t)) == t));
    }
    BOOST_TEST(to_string(job_type::export_data) == "export");
}

BOOST_AUTO_TEST_CASE(job_type_accepts_the_spellings_people_use) {
    BOOST_TEST((parse_job_type("Dryrun") == job_type::dry_run));
    BOOST_TEST((parse_job_type("dry-run") == job_type::dry_run));
    BOOST_TEST((parse_job_type("AuditBackup") == job_type::audit_backup));
    BOOST_TEST((parse_job_type("BACKUP") == job_type::backup));
    BOOST_TEST((parse_job_type("16") == job_type::audit_backup));
    BOOST_TEST(!parse_job_type("backups").has_value());
    BOOST_TEST(!parse_job_type("").has_value());
    BOOST_TEST(!parse_job_type("1x").has_value());
    BOOST_TEST(!parse_job_type("99999999999").has_value()); // beyond int32
}

BOOST_AUTO_TEST_CASE(undocumented_values_are_kept_as_numbers) {
    const auto t = parse_job_type("64");
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST(static_cast<int>(*t) == 64);
    BOOST_TEST(!is_documented(*t));
    BOOST_TEST(to_string(*t).empty());
    const auto s = parse_job_status("5");
    BOOST_TEST_REQUIRE(s.has_value());
    BOOST_TEST(!is_documented(*s));
}

BOOST_AUTO_TEST_CASE(job_status_names_round_trip) {
    for (auto s : {job_status::in_progress, job_status::finished, job_status::failed,
                   job_status::finished_with_exception}) {
        BOOST_TEST(is_documented(s));
        BOOST_TEST((parse_job_status(to_string(s)) == s));
    }
    BOOST_TEST(
        (parse_job_status("Finished with Exception") == job_status::finished_with_exception));
    BOOST_TEST((parse_job_status("in progress") == job_status::in_progress));
    BOOST_TEST((parse_job_status("7") == job_status::finished_with_exception));
    BOOST_TEST(!parse_job_status("done").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
