// The time filter's four meanings: jobs starting in the window, overlapping it, finishing in it,
// or every job (the window ignored).
#include <dynjobs/sim/dataset.hpp>

#include "filter_builder.hpp"
#include "sim/jobs_endpoint.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace json = boost::json;
using namespace dynjobs;
using namespace dynjobs::sim;
using dynjobs::sim::testing::flt;
using namespace std::chrono;

namespace {

constexpr window_match every_window[] = {window_match::start_time, window_match::overlap,
                                         window_match::finish_time, window_match::ignored};

// Many jobs in few days: some still run at `end`, so in-progress jobs are there to leave out.
dataset_config dense_config() {
    dataset_config c;
    c.seed = 5;
    c.organizations = 4;
    c.jobs = 3000;
    c.begin = c.end - days{3};
    return c;
}

std::set<std::string> ids_of(const std::vector<job>& jobs) {
    std::set<std::string> ids;
    for (const job& j : jobs) {
        ids.insert(j.job_id);
    }
    return ids;
}

std::vector<job> brute_force(const dataset& d, const filter& f) {
    std::vector<job> out;
    std::copy_if(d.jobs().begin(), d.jobs().end(), std::back_inserter(out),
                 [&](const job& j) { return matches(f, j); });
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_time_filter)

BOOST_AUTO_TEST_CASE(finish_time_selects_by_finish_and_never_a_job_in_progress) {
    const dataset_config c = dense_config();
    const dataset d{c};
    // A window cut from the middle, its ends exactly on finished jobs' finish times.
    std::vector<timestamp> finishes;
    for (const job& j : d.jobs()) {
        if (j.finish_time) {
            finishes.push_back(*j.finish_time);
        }
    }
    std::sort(finishes.begin(), finishes.end());
    const timestamp from = finishes[finishes.size() / 3], to = finishes[finishes.size() * 2 / 3];
    const filter f = flt(job_type::all, from, to, {}, {}, nullptr, window_match::finish_time);
    const auto got = d.select(f);
    BOOST_TEST((got == brute_force(d, f)));
    BOOST_TEST(got.size() == finishes.size() * 2 / 3 - finishes.size() / 3 + 1);
    for (const job& j : got) {
        BOOST_TEST_REQUIRE(j.finish_time.has_value());
        BOOST_TEST((from <= *j.finish_time && *j.finish_time <= to));
    }
    BOOST_TEST(ids_of(got).contains(std::find_if(d.jobs().begin(), d.jobs().end(), [&](auto& j) {
                                        return j.finish_time == from;
                                    })->job_id)); // both ends inclusive

    // Far into the future: every finished job, and not one of the many still running.
    const filter all =
        flt(job_type::all, c.begin, c.end + days{3650}, {}, {}, nullptr, window_match::finish_time);
    const auto running = std::count_if(d.jobs().begin(), d.jobs().end(),
                                       [](const job& j) { return !j.finish_time; });
    BOOST_TEST(running > 0);
    BOOST_TEST(d.count(all) == d.jobs().size() - static_cast<std::size_t>(running));
    BOOST_TEST(d.count(flt(job_type::all, c.begin, c.end + days{3650}, job_status::in_progress, {},
                           nullptr, window_match::finish_time)) == 0u);
}

BOOST_AUTO_TEST_CASE(ignored_window_keeps_every_other_criterion) {
    const dataset_config c = dense_config();
    const dataset d{c};
    const organization_id org = d.organizations()[1].id;
    const timestamp nowhere = timestamp{sys_days{year{2001} / 1 / 1}};
    const filter ignored = flt(job_type::backup, nowhere, nowhere, job_status::finished, org,
                               nullptr, window_match::ignored);
    const filter everything = flt(job_type::backup, c.begin, c.end, job_status::finished, org);
    BOOST_TEST(d.count(everything) > 100u);
    BOOST_TEST((d.select(ignored) == d.select(everything)));
    BOOST_TEST(d.count(ignored) == d.count(everything));
    // Even a reversed window: the times are not looked at.
    const filter reversed = flt(job_type::backup, c.end, c.begin, job_status::finished, org,
                                nullptr, window_match::ignored);
    BOOST_TEST(d.count(reversed) == d.count(everything));
    BOOST_TEST(d.page(reversed, 0, 10).jobs.size() == 10u);
}

BOOST_AUTO_TEST_CASE(the_four_meanings_select_different_sets_of_one_window) {
    const dataset_config c = dense_config();
    const dataset d{c};
    const timestamp from = c.begin + hours{30}, to = c.begin + hours{40};
    std::map<window_match, std::set<std::string>> selected;
    for (window_match w : every_window) {
        const filter f = flt(job_type::all, from, to, {}, {}, nullptr, w);
        selected[w] = ids_of(d.select(f));
        BOOST_TEST((d.select(f) == brute_force(d, f)));
    }
    const auto& start = selected[window_match::start_time];
    const auto& finish = selected[window_match::finish_time];
    const auto& overlap = selected[window_match::overlap];
    const auto& all = selected[window_match::ignored];
    BOOST_TEST(all.size() == d.jobs().size());
    BOOST_TEST(std::includes(overlap.begin(), overlap.end(), start.begin(), start.end()));
    BOOST_TEST(std::includes(overlap.begin(), overlap.end(), finish.begin(), finish.end()));
    BOOST_TEST(start != finish); // jobs starting before the window and finishing in it, ...
    BOOST_TEST(overlap.size() > start.size());
    BOOST_TEST(overlap.size() > finish.size());
}

BOOST_AUTO_TEST_CASE(drift_inserts_a_first_match_under_every_meaning) {
    dataset d{dense_config()};
    const auto& c = d.config();
    const auto& orgs = d.organizations();
    const std::set<organization_id> visible{orgs[2].id};
    for (window_match w : every_window) {
        const filter filters[] = {
            flt(job_type::all, c.begin, c.end, {}, {}, nullptr, w),
            flt(job_type::restore, c.begin + hours{10}, c.begin + hours{20}, job_status::failed, {},
                nullptr, w),
            flt(job_type::all, c.begin + hours{5}, c.begin + hours{5}, {}, orgs[1].id, nullptr,
                w), // a window of one instant
            flt(job_type::backup, c.begin, c.end, {}, {}, &visible, w),
            flt(job_type::all, timestamp{sys_days{year{2030} / 1 / 1}},
                timestamp{sys_days{year{2030} / 2 / 1}}, {}, {}, nullptr, w), // empty so far
        };
        for (const filter& f : filters) {
            BOOST_TEST_CONTEXT("window " << static_cast<int>(w) << " from "
                                         << format_iso8601(f.start)) {
                const auto before = d.select(f);
                const job inserted = d.insert_matching(f);
                BOOST_TEST(matches(f, inserted));
                const auto after = d.select(f);
                BOOST_TEST_REQUIRE(after.size() == before.size() + 1);
                BOOST_TEST((after.front() == inserted));
                BOOST_TEST((std::vector<job>(after.begin() + 1, after.end()) == before));
                BOOST_TEST((after == brute_force(d, f)));
                if (w == window_match::finish_time) {
                    BOOST_TEST_REQUIRE(inserted.finish_time.has_value());
                    const auto ms = (*inserted.finish_time - inserted.start_time).count();
                    BOOST_TEST(ms >= 1);
                    BOOST_TEST(*inserted.duration_hours == static_cast<double>(ms) / 3'600'000.0);
                }
            }
        }
    }
    // Nothing in progress finishes: the documented exception inserts a job that cannot match.
    const filter impossible = flt(job_type::all, c.begin, c.end, job_status::in_progress, {},
                                  nullptr, window_match::finish_time);
    const job running = d.insert_matching(impossible);
    BOOST_TEST((running.status == job_status::in_progress));
    BOOST_TEST(!matches(impossible, running));
    BOOST_TEST(d.count(impossible) == 0u);
}

BOOST_AUTO_TEST_CASE(the_endpoint_filters_as_configured) {
    const dataset_config c = dense_config();
    for (window_match w : every_window) {
        jobs_endpoint_config cfg;
        cfg.window = w;
        jobs_endpoint ep{dataset{c}, cfg};
        const http_reply r = ep.handle("/dynamicsbackup/jobs?type=0&pageSize=1&startTime=2025-12-"
                                       "30T00:00:00Z&finishTime=2025-12-30T06:00:00Z",
                                       nullptr, "https://x");
        BOOST_TEST_REQUIRE(r.status == 200u);
        const auto f = flt(job_type::all, *parse_iso8601("2025-12-30T00:00:00Z"),
                           *parse_iso8601("2025-12-30T06:00:00Z"), {}, {}, nullptr, w);
        BOOST_TEST(json::parse(r.body).at("totalCount").as_int64() ==
                   static_cast<std::int64_t>(ep.data().count(f)));
    }
    // Ignored or not, the times are still checked.
    jobs_endpoint_config cfg;
    cfg.window = window_match::ignored;
    jobs_endpoint ep{dataset{c}, cfg};
    BOOST_TEST(ep.handle("/dynamicsbackup/jobs?type=0&startTime=2025-12-31T00:00:00Z&finishTime="
                         "2025-12-30T00:00:00Z",
                         nullptr, "https://x")
                   .status == 400u);
    BOOST_TEST(ep.handle("/dynamicsbackup/jobs?type=0&startTime=soon&finishTime="
                         "2025-12-30T00:00:00Z",
                         nullptr, "https://x")
                   .status == 400u);
}

BOOST_AUTO_TEST_SUITE_END()
