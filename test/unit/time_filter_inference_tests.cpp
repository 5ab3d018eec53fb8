// What the server's time filter does, inferred from the jobs each window returns.
#include "policy/time_filter_inference.hpp"

#include <boost/test/unit_test.hpp>

using namespace dynjobs;
using dynjobs::policy::time_filter_inference;

namespace {

timestamp day(int d) {
    return timestamp{std::chrono::sys_days{std::chrono::year{2025} / 1 / 1} + std::chrono::days{d}};
}

job make_job(int start_day, std::optional<int> finish_day) {
    job j;
    j.job_id = "DCIB" + std::to_string(start_day);
    j.start_time = day(start_day);
    if (finish_day)
        j.finish_time = day(*finish_day);
    return j;
}

// Window [day 30, day 60].
bool observe(time_filter_inference& t, int start_day, std::optional<int> finish_day) {
    return t.observe(day(30), day(60), make_job(start_day, finish_day));
}

} // namespace

BOOST_AUTO_TEST_SUITE(time_filter_inferences)

BOOST_AUTO_TEST_CASE(start_until_a_job_shows_otherwise) {
    time_filter_inference t;
    BOOST_TEST((t.conclusion() == time_filter::start));
    BOOST_TEST(!observe(t, 40, 41));
    BOOST_TEST(!observe(t, 59, 61)); // starts inside, finishes after: still start (or overlap)
    BOOST_TEST(!observe(t, 45, std::nullopt)); // running
    BOOST_TEST(!observe(t, 60, 61));           // the window is inclusive at both ends
    BOOST_TEST((t.conclusion() == time_filter::start));
    BOOST_TEST(t.evidence().empty());
}

BOOST_AUTO_TEST_CASE(a_job_started_before_the_window_and_finished_in_it_means_finish) {
    time_filter_inference t;
    BOOST_TEST(observe(t, 29, 31));
    BOOST_TEST((t.conclusion() == time_filter::finish));
    BOOST_TEST(t.evidence().find("DCIB29") != std::string::npos, t.evidence());
    BOOST_TEST(!t.contradicted()); // nothing was stated
}

BOOST_AUTO_TEST_CASE(finish_then_a_job_finishing_after_the_window_means_overlap) {
    time_filter_inference t;
    observe(t, 29, 31);
    BOOST_TEST(observe(t, 59, 70));
    BOOST_TEST((t.conclusion() == time_filter::overlap));
}

BOOST_AUTO_TEST_CASE(a_running_job_from_before_the_window_means_overlap) {
    time_filter_inference t;
    BOOST_TEST(observe(t, 10, std::nullopt));
    BOOST_TEST((t.conclusion() == time_filter::overlap));
}

BOOST_AUTO_TEST_CASE(a_job_wholly_outside_the_window_means_ignored) {
    time_filter_inference t;
    BOOST_TEST(observe(t, 100, 101));
    BOOST_TEST((t.conclusion() == time_filter::ignored));
    BOOST_TEST(!observe(t, 1, 2)); // nothing narrows it further
}

BOOST_AUTO_TEST_CASE(a_stated_filter_holds_until_contradicted) {
    time_filter_inference t(time_filter::overlap);
    BOOST_TEST((t.conclusion() == time_filter::overlap));
    BOOST_TEST(!observe(t, 40, 41)); // fits overlap (and start)
    BOOST_TEST((t.conclusion() == time_filter::overlap));
    BOOST_TEST(!t.contradicted());
    BOOST_TEST(observe(t, 100, 101));
    BOOST_TEST(t.contradicted());
    BOOST_TEST((t.conclusion() == time_filter::ignored));
    BOOST_TEST((t.stated() == time_filter::overlap));
}

BOOST_AUTO_TEST_CASE(a_stated_start_contradicted_goes_where_the_jobs_point) {
    time_filter_inference t(time_filter::start);
    BOOST_TEST(observe(t, 29, 31));
    BOOST_TEST(t.contradicted());
    BOOST_TEST((t.conclusion() == time_filter::finish));
}

BOOST_AUTO_TEST_CASE(names_round_trip) {
    for (auto f : {time_filter::auto_detect, time_filter::start, time_filter::finish,
                   time_filter::overlap, time_filter::ignored})
        BOOST_TEST((parse_time_filter(to_string(f)) == f));
    BOOST_TEST(!parse_time_filter("Start").has_value());
    BOOST_TEST(!parse_time_filter("").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
