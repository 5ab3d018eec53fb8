// The PostgreSQL pieces the end-to-end tests share: one throwaway cluster for the whole test
// binary (started on first use, about 2 s), and the jobs table read back.
#pragma once

#include "e2e_fixture.hpp"
#include "pg_cluster.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace dynjobs::e2e {

testkit::pg_cluster& cluster();

/// sim_process::secret_env() plus PGPASSWORD for the writer role.
std::map<std::string, std::string> env_with_password();

/// SCHEMA.jobs as jobs, read back through the page decoder (independent of the writer).
std::vector<job> read_jobs(const std::string& schema, const scratch_dir& dir);

/// One value (the first row's text) of a query run as the superuser.
std::string scalar(const std::string& sql);

/// The windows of range_start() .. range_finish() in spans of `window`.
std::size_t windows_of(std::chrono::days window);

/// Polls (for at most `limit`) until `ready` says so.
template <class Ready>
void wait_until(Ready ready, std::chrono::seconds limit = std::chrono::seconds(30)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!ready()) {
        BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() < until));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

/// A killed client's backend lives on until it notices: its transaction is not over (and cannot
/// be judged) until the backend is gone.
void wait_for_no_dynjobs_backend();

/// Each tenant of a `--tenants` run and the GUIDs of its organizations.
using tenant_organizations = std::map<std::string, std::vector<std::string>>;

/// Every segment recorded once, and its jobs count is the jobs of its window in the table (of
/// its tenant's organizations, with `tenants`): no half-written segment, no job counted twice.
/// Both sides in one statement (one snapshot).
void require_whole_segments(const std::string& schema, const tenant_organizations& tenants = {});

/// require_whole_segments after a kill at a random moment, which can land before the first run
/// created the tables (under a sanitizer, start-up takes longer than the shortest delay): then
/// nothing was written, and there is nothing to check yet.
void require_whole_segments_after_a_kill(const std::string& schema);

/// `dynjobs backfill` into SCHEMA of the test cluster, against `sim`, then `extra`.
std::vector<std::string> backfill_args(const sim_process& sim, const std::string& schema,
                                       std::vector<std::string> extra = {});

/// A simulator slow enough (latency per response, few connections) that a backfill takes
/// seconds, so that kills and server restarts land in the middle of it.
sim_options slow_sim(int latency_ms);

/// Starts the server again at the end of a test that stopped it, whatever the test's outcome.
struct server_back_up {
    server_back_up() = default;
    ~server_back_up();
    server_back_up(const server_back_up&) = delete;
    server_back_up& operator=(const server_back_up&) = delete;
};

} // namespace dynjobs::e2e
