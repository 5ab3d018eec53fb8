// Fault soak: many seeds, each a fetch of several organizations and windows while 20% of the jobs
// responses are faulted with every kind the simulator has (throttling, 5xx, connection kills,
// truncated and malformed bodies, slow responses, token revocation and data drift), mixed.
// Every run must deliver exactly the dataset.
#include "engine_fixture.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <string>

using namespace dynjobs;
using namespace dynjobs::testkit;
namespace bdata = boost::unit_test::data;

namespace {

// A fetch of two or three organizations in windows of 45-75 days, varied by seed.
fetch_request soak_request(sim_fixture& fx, std::uint64_t seed) {
    auto request = whole_dataset(fx);
    const auto orgs = fx.sim().organizations();
    const std::size_t count = 2 + seed % 2;
    for (std::size_t i = 0; i < count; ++i)
        request.organizations.push_back(orgs[(seed + 2 * i) % orgs.size()].id);
    request.window = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::days{45 + seed % 3 * 15});
    request.page_size = 20 + static_cast<std::int64_t>(seed % 4) * 10;
    // Drift on 20% x 2/18 of the requests of a window of a few pages: a handful of refetches.
    request.max_drift_refetches = 20;
    return request;
}

std::map<std::string, job> by_id(const std::vector<job>& jobs) {
    std::map<std::string, job> out;
    for (const auto& j : jobs)
        out.emplace(j.job_id, j);
    return out;
}

// Exactly the dataset under drift: each job once; every job present at the end delivered; each
// delivered job as the dataset had it before or has it after the fetch, or else one that drift
// inserted and then removed again (drift-remove takes the newest match, often the inserted one):
// such jobs are new, match the request, and are no more than the insertions.
void require_exactly_under_drift(sim_fixture& fx, const fetch_request& request,
                                 const fetch_outcome& out, const std::vector<job>& before_jobs,
                                 const std::vector<job>& after_jobs) {
    const auto before = by_id(before_jobs);
    const auto after = by_id(after_jobs);
    for (const auto& [id, n] : id_counts(out.jobs))
        BOOST_TEST_REQUIRE(n == 1, id << " delivered " << n << " times");
    std::size_t transient = 0;
    for (const auto& j : out.jobs) {
        const auto a = after.find(j.job_id);
        const auto b = before.find(j.job_id);
        if (a == after.end() && b == before.end()) {
            ++transient;
            const bool matches =
                std::any_of(request.organizations.begin(), request.organizations.end(),
                            [&](const organization_id& org) {
                                return sim::matches(filter_of(request, org), j);
                            });
            BOOST_TEST_REQUIRE(matches,
                               j.job_id << " matches no organization and window asked for");
            continue;
        }
        BOOST_TEST_REQUIRE(
            ((a != after.end() && a->second == j) || (b != before.end() && b->second == j)),
            j.job_id << " differs from the dataset");
    }
    const auto inserted = fx.sim().counters().by_fault[sim::fault_kind::drift_insert];
    BOOST_TEST_REQUIRE(transient <= inserted);
    const auto delivered = id_counts(out.jobs);
    for (const auto& [id, j] : after)
        BOOST_TEST_REQUIRE(delivered.count(id) == 1u, "missing " << id);
}

void soak(std::uint64_t seed, int threads) {
    sim_fixture fx(faulty_config(sim::all_fault_kinds(), 0.2, seed));
    const auto request = soak_request(fx, seed);
    const auto before = expected_jobs(fx, request);
    const auto out = run_fetch(patient_enough(fx), request, threads);
    BOOST_TEST_REQUIRE(!out.ec, "seed " << seed << ": " << out.diag.message);
    require_exactly_under_drift(fx, request, out, before, expected_jobs(fx, request));
    std::uint64_t faults = 0;
    for (const auto& [kind, n] : fx.sim().counters().by_fault)
        faults += n;
    BOOST_TEST_MESSAGE("seed " << seed << ": " << out.jobs.size() << " jobs, " << out.stats.requests
                               << " requests, " << faults << " faults, " << out.stats.retries
                               << " retries, " << out.stats.drift_refetches << " drift refetches");
    BOOST_TEST(faults > 0u); // the run was really faulted
}

} // namespace

BOOST_AUTO_TEST_SUITE(engine_soak)

BOOST_DATA_TEST_CASE(twenty_percent_faults_of_every_kind_still_deliver_the_dataset,
                     bdata::xrange(1, 21), seed) {
    soak(static_cast<std::uint64_t>(seed), 1);
}

// The same on a 4-thread io_context: the engine's strand, the token manager's single flight and
// the pool under every fault, with threads. Not in ThreadSanitizer's "threads" label yet: under
// TSan two runs in six failed, one seen with OpenSSL's "malloc failure (SSL routines)" on a page
// (no race reported); that needs its own investigation.
BOOST_DATA_TEST_CASE(the_soak_on_a_thread_pool, bdata::make({31, 32}), seed) {
    soak(static_cast<std::uint64_t>(seed), 4);
}

BOOST_AUTO_TEST_SUITE_END()
