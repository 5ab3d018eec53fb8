// Rounded start times and the unstable order of a server that sorts by startTime alone: pages
// fetched by separate requests can skip one job and repeat another, while one order (one seed)
// serves every job exactly once.
#include <dynjobs/sim/dataset.hpp>

#include "filter_builder.hpp"
#include "sim/jobs_endpoint.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <tuple>

namespace json = boost::json;
using namespace dynjobs;
using namespace dynjobs::sim;
using dynjobs::sim::testing::flt;
using namespace std::chrono;

namespace {

std::set<std::string> ids_of(const std::vector<job>& jobs) {
    std::set<std::string> ids;
    for (const job& j : jobs) {
        ids.insert(j.job_id);
    }
    return ids;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_unstable_order)

BOOST_AUTO_TEST_CASE(start_times_round_to_the_granularity) {
    dataset_config c;
    c.jobs = 20'000;
    c.start_time_granularity = hours{1};
    const dataset rounded{c};
    c.start_time_granularity = milliseconds{1};
    const dataset exact{c};
    std::set<timestamp> distinct;
    for (const job& j : rounded.jobs()) {
        BOOST_TEST_REQUIRE((j.start_time - c.begin) % hours{1} == milliseconds{0});
        BOOST_TEST_REQUIRE(j.job_id.size() == 26u);
        distinct.insert(j.start_time);
    }
    BOOST_TEST(distinct.size() < rounded.jobs().size() * 3 / 4); // many share a start time
    // Only the times moved: the same organizations, types and sizes were drawn.
    const auto profile = [](const dataset& d) {
        std::multiset<std::tuple<std::string, int, std::int64_t, std::int64_t>> p;
        for (const job& j : d.jobs()) {
            p.emplace(j.organization.to_string(), static_cast<int>(j.type), j.total_entity,
                      j.total_record);
        }
        return p;
    };
    BOOST_TEST((profile(rounded) == profile(exact)));
    BOOST_TEST(ids_of(rounded.jobs()).size() == rounded.jobs().size()); // ids stay unique
}

BOOST_AUTO_TEST_CASE(ties_reorder_per_seed_but_one_seed_is_one_order) {
    dataset_config c;
    c.start_time_granularity = hours{1};
    const dataset d{c};
    // One organization over 30 days, as a backfill's window asks for it.
    const filter f = flt(job_type::all, c.begin, c.begin + days{30}, {}, d.organizations()[0].id);
    const auto truth = d.select(f);
    BOOST_TEST_REQUIRE(truth.size() > 200u); // three pages at least
    constexpr std::size_t size = 100;
    const auto scan = [&](std::uint64_t seed) {
        std::vector<job> out;
        for (std::size_t offset = 0; offset < truth.size(); offset += size) {
            const page_view p = d.page_with_ties(f, offset, size, seed);
            BOOST_TEST_REQUIRE(p.total == truth.size());
            for (const job* j : p.jobs) {
                out.push_back(*j);
            }
        }
        return out;
    };
    std::set<std::vector<std::string>> orders;
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
        const auto jobs = scan(seed);
        // Every match exactly once, groups in startTime order.
        BOOST_TEST_REQUIRE(jobs.size() == truth.size());
        BOOST_TEST((ids_of(jobs) == ids_of(truth)));
        BOOST_TEST(std::is_sorted(jobs.begin(), jobs.end(), [](const job& a, const job& b) {
            return a.start_time > b.start_time;
        }));
        BOOST_TEST((scan(seed) == jobs)); // the same seed, the same order
        std::vector<std::string> ids;
        for (const job& j : jobs) {
            ids.push_back(j.job_id);
        }
        orders.insert(ids);
    }
    BOOST_TEST(orders.size() == 5u); // each seed its own order
}

namespace {

/// What a client paging concurrently through 30-day windows of the default dataset (start times
/// rounded to the hour) at 100 jobs a page sees: each page comes from its own request, so with
/// its own seed.
struct gap_census {
    std::size_t windows = 0, windows_with_gaps = 0, boundaries = 0, straddled = 0, jobs = 0,
                missed = 0;

    gap_census(const dataset& d, const std::vector<std::optional<organization_id>>& orgs) {
        const dataset_config& c = d.config();
        std::uint64_t seed = 0;
        for (const auto& org : orgs) {
            for (timestamp from = c.begin; from < c.end; from += days{30}) {
                const filter f =
                    flt(job_type::all, from, std::min(c.end, from + days{30}), {}, org);
                const auto truth = d.select(f);
                std::set<std::string> seen;
                for (std::size_t offset = 0; offset < truth.size(); offset += 100) {
                    for (const job* j : d.page_with_ties(f, offset, 100, ++seed).jobs) {
                        seen.insert(j->job_id);
                    }
                    if (offset > 0) {
                        ++boundaries;
                        straddled += truth[offset - 1].start_time == truth[offset].start_time;
                    }
                }
                ++windows;
                jobs += truth.size();
                missed += truth.size() - seen.size();
                windows_with_gaps += seen.size() < truth.size();
            }
        }
        BOOST_TEST_MESSAGE("windows " << windows << ", with a gap " << windows_with_gaps
                                      << "; page boundaries " << boundaries << ", inside a tie "
                                      << straddled << "; jobs " << jobs << ", missed " << missed);
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(pages_fetched_with_different_seeds_skip_and_repeat_jobs) {
    // The figures jobs_endpoint_config::unstable_order documents.
    dataset_config c;
    c.start_time_granularity = hours{1};
    const dataset d{c};
    // `dynjobs backfill` without --org: one query per window for every organization.
    const gap_census everyone(d, {std::nullopt});
    BOOST_TEST(everyone.windows == 25u);
    BOOST_TEST(everyone.boundaries > 900u);
    BOOST_TEST(everyone.straddled * 10 > everyone.boundaries * 8);
    BOOST_TEST(everyone.missed * 4 > everyone.boundaries);
    BOOST_TEST(everyone.windows_with_gaps == everyone.windows);
    // `--org` for each organization: fewer jobs a window, so ties straddle fewer boundaries.
    std::vector<std::optional<organization_id>> orgs;
    for (const organization& o : d.organizations()) {
        orgs.emplace_back(o.id);
    }
    const gap_census each(d, orgs);
    BOOST_TEST(each.windows == 500u);
    BOOST_TEST(each.boundaries > 700u);
    BOOST_TEST(each.straddled * 10 > each.boundaries);
    BOOST_TEST(each.missed > 50u);
    BOOST_TEST(each.windows_with_gaps * 10 > each.windows);
}

BOOST_AUTO_TEST_CASE(the_endpoint_draws_a_new_order_for_each_request) {
    dataset_config c;
    c.start_time_granularity = hours{1};
    jobs_endpoint_config cfg;
    cfg.unstable_order = true;
    jobs_endpoint ep{dataset{c}, cfg};
    const std::string query = "/dynamicsbackup/jobs?type=0&pageSize=100&startTime=2025-06-01T00:"
                              "00:00Z&finishTime=2025-07-01T00:00:00Z&pageIndex=";
    const auto ids = [](const http_reply& r) {
        std::vector<std::string> out;
        const json::value body = json::parse(r.body);
        for (const auto& j : body.at("jobs").as_array()) {
            out.emplace_back(j.at("jobId").as_string());
        }
        return out;
    };
    // The same page asked twice: different jobs at its ends (a tie straddles them).
    const auto first = ids(ep.handle(query + "3", nullptr, "https://x"));
    bool differs = false;
    for (int i = 0; i < 20 && !differs; ++i) {
        differs = ids(ep.handle(query + "3", nullptr, "https://x")) != first;
    }
    BOOST_TEST(differs);

    // A scan with one seed is a permutation of the ground truth.
    auto parsed = ep.parse(query + "1", nullptr);
    BOOST_TEST_REQUIRE(std::holds_alternative<jobs_request>(parsed));
    jobs_request r = std::get<jobs_request>(parsed);
    const auto truth = ep.data().select(r.where);
    std::multiset<std::string> scanned;
    r.tie_seed = 12345;
    for (r.page_index = 1;; ++r.page_index) {
        const auto page = ids(ep.respond(r, "https://x"));
        if (page.empty()) {
            break;
        }
        scanned.insert(page.begin(), page.end());
    }
    BOOST_TEST(scanned.size() == truth.size());
    const auto truth_ids = ids_of(truth);
    BOOST_TEST((std::set<std::string>(scanned.begin(), scanned.end()) == truth_ids));
}

BOOST_AUTO_TEST_SUITE_END()
