// Exactly-once under every fault the simulator can inject, alone and mixed, and under data drift.
#include "engine_fixture.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <set>

namespace dynjobs::sim {
// Data-driven test cases print their sample.
inline std::ostream& operator<<(std::ostream& os, fault_kind kind) {
    return os << to_string(kind);
}
} // namespace dynjobs::sim

using namespace dynjobs;
using namespace dynjobs::testkit;
using namespace std::chrono_literals;
namespace bdata = boost::unit_test::data;

namespace {

std::set<std::string> ids_of(const std::vector<job>& jobs) {
    std::set<std::string> ids;
    for (const auto& j : jobs)
        ids.insert(j.job_id);
    return ids;
}

const std::vector<sim::fault_kind> stable_kinds = {
    sim::fault_kind::throttle_429,
    sim::fault_kind::throttle_429_fractional,
    sim::fault_kind::throttle_429_http_date,
    sim::fault_kind::throttle_429_no_retry_after,
    sim::fault_kind::error_500,
    sim::fault_kind::error_502,
    sim::fault_kind::error_503,
    sim::fault_kind::error_504,
    sim::fault_kind::close_before_response,
    sim::fault_kind::reset_mid_body,
    sim::fault_kind::truncated_body,
    sim::fault_kind::delay_first_byte,
    sim::fault_kind::trickle_body,
    sim::fault_kind::malformed_json,
    sim::fault_kind::revoke_token,
};

} // namespace

BOOST_AUTO_TEST_SUITE(engine_faults)

BOOST_DATA_TEST_CASE(each_fault_alone_still_delivers_the_dataset_once, bdata::make(stable_kinds),
                     kind) {
    sim_fixture fx(faulty_config({kind}, 0.15, 11));
    auto request = whole_dataset(fx);
    request.page_size = 50;
    const auto out = run_fetch(patient_enough(fx), request);
    BOOST_TEST_REQUIRE(!out.ec, sim::to_string(kind) << ": " << out.diag.message);
    require_exactly(out.jobs, fx.sim().select(filter_of(request)));
    // The fault really happened, and was retried (or, for revoke, replayed).
    BOOST_TEST(fx.sim().counters().by_fault[kind] > 0u);
    if (kind == sim::fault_kind::revoke_token)
        BOOST_TEST(out.stats.unauthorized > 0u);
    else if (kind != sim::fault_kind::trickle_body)
        BOOST_TEST(out.stats.retries > 0u);
}

BOOST_DATA_TEST_CASE(drift_is_refetched_and_nothing_is_missed, bdata::make({11, 12, 13}), seed) {
    sim_fixture fx(faulty_config({sim::fault_kind::drift_insert, sim::fault_kind::drift_remove},
                                 0.1, static_cast<std::uint64_t>(seed)));
    auto request = whole_dataset(fx);
    // Windows of a few pages each: with a job added or removed on 10% of all requests, a
    // window of 40 pages would almost never be read twice the same way.
    request.window = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::days{30});
    request.page_size = 50;
    request.max_drift_refetches = 20;
    const auto before = ids_of(fx.sim().select(filter_of(request)));
    const auto out = run_fetch(patient_enough(fx), request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    const auto after = ids_of(fx.sim().select(filter_of(request)));
    const auto counts = id_counts(out.jobs);
    for (const auto& [id, n] : counts) {
        BOOST_TEST_REQUIRE(n == 1, id << " delivered " << n << " times");
        // A delivered job existed at some point: before the fetch, or inserted during it.
        BOOST_TEST_REQUIRE((before.count(id) || after.count(id)), id);
    }
    // Every job present at the end, that was not removed meanwhile, was delivered.
    for (const auto& id : after)
        BOOST_TEST_REQUIRE(counts.count(id) == 1u, "missing " << id);
    BOOST_TEST(out.stats.drift_refetches > 0u);
}

BOOST_DATA_TEST_CASE(a_mix_of_every_fault_over_organizations_and_windows,
                     bdata::make({101, 102, 103}), seed) {
    sim_fixture fx(faulty_config(stable_kinds, 0.1, static_cast<std::uint64_t>(seed)));
    auto request = whole_dataset(fx);
    const auto orgs = fx.sim().organizations();
    request.organizations = {orgs[1].id, orgs[3].id};
    request.window = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::days{60});
    request.page_size = 20;
    const auto out = run_fetch(patient_enough(fx), request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, expected_jobs(fx, request));
}

BOOST_AUTO_TEST_SUITE_END()
