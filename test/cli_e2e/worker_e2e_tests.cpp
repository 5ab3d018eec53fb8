// `dynjobs backfill --worker`: several identical worker processes share one selection through
// the test cluster's work table, against one `dynjobs sim`. Workers killed with SIGKILL at
// random moments and started again (as Kubernetes restarts a pod) still leave the jobs table
// exactly the dataset, every segment completed once.
#include "pg_fixture.hpp"
#include "sink/pg/sql.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

using namespace dynjobs;
using namespace dynjobs::e2e;

namespace {

constexpr int worker_count = 4;

// What every run of these tests fetches: 14-day windows, so about 50 segments.
std::vector<std::string> fetch_options() {
    return {"--window", "14d", "--page-size", "50", "--concurrency", "4"};
}

std::vector<std::string> worker_args(const sim_process& sim, const std::string& schema,
                                     const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{binary()};
    auto options = fetch_options();
    options.insert(options.end(), {"--worker", "--lease", "2"});
    options.insert(options.end(), extra.begin(), extra.end());
    for (auto& a : backfill_args(sim, schema, options))
        args.push_back(std::move(a));
    return args;
}

std::unique_ptr<child> start_worker(const sim_process& sim, const std::string& schema,
                                    const scratch_dir& dir, int index, int generation,
                                    const std::vector<std::string>& extra = {}) {
    const auto name = "worker-" + std::to_string(index) + "-" + std::to_string(generation);
    return std::make_unique<child>(worker_args(sim, schema, extra), env_with_password(),
                                   dir.path() / (name + ".stdout"),
                                   dir.path() / (name + ".stderr"));
}

std::string stderr_of(const scratch_dir& dir, int index, int generation) {
    return read_text(dir.path() / ("worker-" + std::to_string(index) + "-" +
                                   std::to_string(generation) + ".stderr"));
}

// Every work row done and recorded in segments once; the run marked complete.
void require_every_segment_done_once(const std::string& schema, std::size_t segments,
                                     const tenant_organizations& tenants = {}) {
    BOOST_TEST(scalar("SELECT count(*), count(done_at) FROM " + schema + ".work") ==
               std::to_string(segments) + "|" + std::to_string(segments));
    BOOST_TEST(scalar("SELECT count(*) FROM " + schema + ".segments") == std::to_string(segments));
    BOOST_TEST(scalar("SELECT count(*) FROM " + schema + ".work w JOIN " + schema +
                      ".segments s USING (selection_hash, tenant, organization_id, "
                      "window_start)") == std::to_string(segments));
    BOOST_TEST(scalar("SELECT count(*) FROM " + schema + ".runs WHERE completed_at IS NOT NULL") ==
               "1");
    require_whole_segments(schema, tenants);
}

// worker_count workers from `start(index, generation)`; two distinct ones killed with SIGKILL
// once each, at random moments up to `latest_ms`, and started again (as Kubernetes restarts a
// pod); then every worker must exit 0.
template <class Start>
void run_with_two_killed(const scratch_dir& dir, std::mt19937& rng, int latest_ms, Start start) {
    std::vector<std::unique_ptr<child>> workers;
    std::vector<int> generation(worker_count, 0);
    for (int i = 0; i < worker_count; ++i)
        workers.push_back(start(i, 0));
    std::vector<int> order{0, 1, 2, 3};
    std::shuffle(order.begin(), order.end(), rng);
    std::uniform_int_distribution<int> delay_ms(100, latest_ms);
    std::vector<std::pair<int, int>> kills{{delay_ms(rng), order[0]}, {delay_ms(rng), order[1]}};
    std::sort(kills.begin(), kills.end());
    auto elapsed = 0;
    for (const auto& [at, victim] : kills) {
        std::this_thread::sleep_for(std::chrono::milliseconds(at - elapsed));
        elapsed = at;
        workers[victim]->signal(SIGKILL);
        const auto how = workers[victim]->wait();
        if (how.signal == SIGKILL) {
            BOOST_TEST_MESSAGE("worker " << victim << " killed after " << at << " ms");
        } else {
            BOOST_TEST(how.exit_status == 0, stderr_of(dir, victim, generation[victim]));
        }
        workers[victim] = start(victim, ++generation[victim]);
    }
    for (int i = 0; i < worker_count; ++i) {
        const auto how = workers[i]->wait(std::chrono::seconds(180));
        BOOST_TEST(how.exit_status == 0, stderr_of(dir, i, generation[i]));
    }
}

// Two simulators playing two tenants of a provider: each its own app registration (client id
// and secret), dataset and rate limit; one tenants file naming both.
class two_tenants {
public:
    /// `b_faults`: more `dynjobs sim` options for tenant B's simulator.
    explicit two_tenants(const scratch_dir& dir, const std::string& b_secret = "tenant-b-secret",
                         const std::vector<std::string>& b_faults = {})
        : a_(dir, tenant_sim(dir, "tenant-a", 21, 4, 8'000, "200"))
        // Both simulators use the fixture's one --cert-dir: they serve one PKI, so that the
        // workers' one --ca-file trusts both endpoints.
        , b_(dir, tenant_sim(dir, "tenant-b", 22, 3, 5'000, "60", b_faults))
        , b_secret_(b_secret)
        , file_(dir / "tenants.json") {
        std::ofstream(file_) << R"({"tenants": [
            {"name": "tenant-a", "base-url": ")"
                             << a_.base_url() << R"(", "client-id": "tenant-a",
             "client-secret-file": ")"
                             << dir / "tenant-a.secret"
                             << R"(", "max-rate": 150},
            {"name": "tenant-b", "base-url": ")"
                             << b_.base_url() << R"(", "client-id": "tenant-b",
             "client-secret-env": "TENANT_B_SECRET", "max-rate": 50}]})";
    }

    /// Both datasets over the tests' range: what the jobs table must hold.
    std::vector<job> expected() const {
        auto jobs = a_.expected(range_start(), range_finish());
        const auto more = b_.expected(range_start(), range_finish());
        jobs.insert(jobs.end(), more.begin(), more.end());
        return jobs;
    }
    const sim_process& a() const { return a_; }
    const sim_process& b() const { return b_; }
    tenant_organizations organizations() const {
        return {{"tenant-a", organizations_of(a_)}, {"tenant-b", organizations_of(b_)}};
    }

    std::vector<std::string> worker_args(const std::string& schema) const {
        std::vector<std::string> args{
            binary(),   "backfill",  "--output", cluster().uri(), "--pg-schema",
            schema,     "--tenants", file_,      "--ca-file",     a_.ca_file(),
            "--worker", "--lease",   "2"};
        for (auto& o : fetch_options())
            args.push_back(std::move(o));
        for (auto& o : range_options())
            args.push_back(std::move(o));
        return args;
    }
    std::map<std::string, std::string> env() const {
        auto e = env_with_password();
        e.erase("DYNJOBS_CLIENT_SECRET"); // the tenants file says where each secret is
        e["TENANT_B_SECRET"] = b_secret_;
        return e;
    }
    std::unique_ptr<child> start_worker(const std::string& schema, const scratch_dir& dir,
                                        int index, int generation) const {
        const auto name = "worker-" + std::to_string(index) + "-" + std::to_string(generation);
        return std::make_unique<child>(worker_args(schema), env(), dir.path() / (name + ".stdout"),
                                       dir.path() / (name + ".stderr"));
    }

private:
    static sim_options tenant_sim(const scratch_dir& dir, const std::string& name,
                                  std::uint64_t seed, std::size_t organizations, std::size_t jobs,
                                  const std::string& rate_limit,
                                  const std::vector<std::string>& more = {}) {
        std::ofstream(dir / (name + ".secret")) << name << "-secret\n";
        sim_options options{.organizations = organizations,
                            .jobs = jobs,
                            .seed = seed,
                            .extra = {"--latency-ms", "50", "--client-id", name,
                                      "--client-secret-file", dir / (name + ".secret"),
                                      "--rate-limit", rate_limit},
                            .name = name};
        options.extra.insert(options.extra.end(), more.begin(), more.end());
        return options;
    }

    static std::vector<std::string> organizations_of(const sim_process& sim) {
        sim::dataset_config config;
        config.seed = sim.options().seed;
        config.organizations = sim.options().organizations;
        config.jobs = 0; // the organizations come first from the seed
        const sim::dataset data(config);
        std::vector<std::string> out;
        for (const auto& org : data.organizations())
            out.push_back(org.id.to_string());
        return out;
    }

    sim_process a_;
    sim_process b_;
    std::string b_secret_;
    std::string file_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(workers)

// The issue's scale-out test: 4 workers, 2 tenants (their own credentials and rate limits), one
// database; two workers killed at random moments and started again, in rounds of new seeds.
BOOST_AUTO_TEST_CASE(four_workers_two_tenants_two_killed_at_random_land_both_datasets_once) {
    scratch_dir dir;
    const two_tenants tenants(dir);
    const auto expected = tenants.expected();
    const auto segments = 2 * windows_of(std::chrono::days(14));
    for (int round = 0; round < 2; ++round) {
        const auto schema = "e2e_workers_tenants_" + std::to_string(round);
        const auto seed = std::random_device{}();
        BOOST_TEST_MESSAGE(schema << ": seed " << seed);
        std::mt19937 rng(seed);
        run_with_two_killed(dir, rng, 3000, [&](int index, int generation) {
            return tenants.start_worker(schema, dir, index, generation);
        });
        require_exactly(read_jobs(schema, dir), expected);
        require_every_segment_done_once(schema, segments, tenants.organizations());
        // Each tenant's segments, each fetched from its own endpoint.
        BOOST_TEST(scalar("SELECT string_agg(tenant || ':' || n, ',' ORDER BY tenant) FROM "
                          "(SELECT tenant, count(*) AS n FROM " +
                          schema + ".work GROUP BY tenant) t") ==
                   "tenant-a:" + std::to_string(segments / 2) +
                       ",tenant-b:" + std::to_string(segments / 2));
        // Each job names the tenant it came from.
        BOOST_TEST(scalar("SELECT string_agg(tenant || ':' || n, ',' ORDER BY tenant) FROM "
                          "(SELECT tenant, count(*) AS n FROM " +
                          schema + ".jobs GROUP BY tenant) t") ==
                   "tenant-a:" +
                       std::to_string(tenants.a().expected(range_start(), range_finish()).size()) +
                       ",tenant-b:" +
                       std::to_string(tenants.b().expected(range_start(), range_finish()).size()));
    }
}

// Credentials refused for one tenant fail that tenant alone: the other's jobs all land, the
// workers end with status 2 naming the tenant, and db status shows its segments failed.
BOOST_AUTO_TEST_CASE(a_tenant_whose_credentials_are_refused_fails_alone) {
    scratch_dir dir;
    const two_tenants tenants(dir, "not-the-secret");
    const std::string schema = "e2e_workers_tenant_refused";
    std::vector<std::unique_ptr<child>> workers;
    for (int i = 0; i < 2; ++i)
        workers.push_back(tenants.start_worker(schema, dir, i, 0));
    for (int i = 0; i < 2; ++i) {
        const auto how = workers[i]->wait(std::chrono::seconds(180));
        const auto said = stderr_of(dir, i, 0);
        BOOST_TEST(how.exit_status == 2, said);
        BOOST_TEST(said.find("tenant tenant-b") != std::string::npos, said);
        BOOST_TEST(said.find("tenant tenant-a") == std::string::npos, said);
        BOOST_TEST(said.find("not-the-secret") == std::string::npos, said);
    }
    require_exactly(read_jobs(schema, dir), tenants.a().expected(range_start(), range_finish()));
    const auto windows = std::to_string(windows_of(std::chrono::days(14)));
    BOOST_TEST(scalar("SELECT count(*) FROM " + schema +
                      ".work WHERE tenant = 'tenant-a' AND done_at IS NOT NULL") == windows);
    BOOST_TEST(scalar("SELECT count(*) FROM " + schema +
                      ".work WHERE tenant = 'tenant-b' AND done_at IS NULL") == windows);
    const auto status = run({"db", "status", "--output", cluster().uri(), "--pg-schema", schema},
                            env_with_password(), dir.path());
    BOOST_TEST(status.out.find("    tenant tenant-b: 0 done, 0 leased, 0 pending, " + windows +
                               " failed of " + windows) != std::string::npos,
               status.out);
}

// A worker's --verbose names the tenant on each request it reports (a retry here), so that an
// operator reading one pod's log of many tenants knows whose endpoint answered what.
BOOST_AUTO_TEST_CASE(a_verbose_worker_names_the_tenant_of_each_request_it_reports) {
    scratch_dir dir;
    // Tenant B answers the first request for each segment's first page with a 503.
    const two_tenants tenants(dir, "tenant-b-secret", {"--fault", "page=1,nth=1:503"});
    const std::string schema = "e2e_workers_verbose";
    auto args = tenants.worker_args(schema);
    args.erase(args.begin()); // the binary: run() adds it
    args.push_back("--verbose");
    const auto result = run(args, tenants.env(), dir.path());
    BOOST_TEST(result.how.exit_status == 0, result.err);
    require_exactly(read_jobs(schema, dir), tenants.expected());
    const std::string retried =
        "dynjobs: tenant tenant-b: GET " + tenants.b().base_url() + "/dynamicsbackup/jobs?";
    const auto at = result.err.find(retried);
    BOOST_TEST_REQUIRE(at != std::string::npos, result.err);
    const auto line = result.err.substr(at, result.err.find('\n', at) - at);
    BOOST_TEST(line.find("-> HTTP 503, retry 1 (") != std::string::npos, line);
    // Every request line names its tenant; no secret is in the log.
    std::istringstream lines(result.err);
    for (std::string l; std::getline(lines, l);)
        if (l.find(" GET ") != std::string::npos)
            BOOST_TEST((l.starts_with("dynjobs: tenant tenant-a: GET ") ||
                        l.starts_with("dynjobs: tenant tenant-b: GET ")),
                       l);
    BOOST_TEST(result.err.find("tenant-b-secret") == std::string::npos);
    BOOST_TEST(result.err.find("tenant-a-secret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(four_workers_two_killed_at_random_and_restarted_land_exactly_the_dataset) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim(100));
    const auto expected = sim.expected(range_start(), range_finish());
    const auto segments = windows_of(std::chrono::days(14));
    for (int round = 0; round < 2; ++round) {
        const auto schema = "e2e_workers_" + std::to_string(round);
        const auto seed = std::random_device{}();
        BOOST_TEST_MESSAGE(schema << ": seed " << seed);
        std::mt19937 rng(seed);
        run_with_two_killed(dir, rng, 2500, [&](int index, int generation) {
            return start_worker(sim, schema, dir, index, generation);
        });
        require_exactly(read_jobs(schema, dir), expected);
        require_every_segment_done_once(schema, segments);
        BOOST_TEST_MESSAGE(
            schema << ": claimed again "
                   << scalar("SELECT coalesce(sum(claims - 1), 0) FROM " + schema + ".work")
                   << " times");
    }
}

BOOST_AUTO_TEST_CASE(db_status_shows_the_work_and_a_late_worker_has_nothing_to_do) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim(10));
    const std::string schema = "e2e_workers_status";
    {
        std::vector<std::unique_ptr<child>> workers;
        for (int i = 0; i < 2; ++i)
            workers.push_back(start_worker(sim, schema, dir, i, 0));
        for (int i = 0; i < 2; ++i)
            BOOST_TEST(workers[i]->wait().exit_status == 0, stderr_of(dir, i, 0));
    }
    const auto segments = windows_of(std::chrono::days(14));
    require_every_segment_done_once(schema, segments);
    // Both took part: SKIP LOCKED handed them different segments.
    BOOST_TEST(scalar("SELECT count(DISTINCT done_by) FROM " + schema + ".work") == "2");

    const auto status = run({"db", "status", "--output", cluster().uri(), "--pg-schema", schema},
                            env_with_password(), dir.path());
    BOOST_TEST_REQUIRE(status.how.exit_status == 0, status.err);
    const auto n = std::to_string(segments);
    BOOST_TEST(status.out.find("work: " + n + " done, 0 leased, 0 pending, 0 failed of " + n) !=
                   std::string::npos,
               status.out);
    BOOST_TEST(status.out.find("    worker ") != std::string::npos, status.out);

    auto late_args = worker_args(sim, schema);
    late_args.erase(late_args.begin()); // run() names the binary itself
    const auto late = run(late_args, env_with_password(), dir.path());
    BOOST_TEST(late.how.exit_status == 0, late.err);
    BOOST_TEST(late.err.find("nothing to do") != std::string::npos, late.err);
}

// Segments whose first page counts more jobs than --split-above are cut into shorter windows
// that either worker claims (a piece still too big is cut again): more work rows than planned,
// each done once and none holding more than the bound, and the jobs exactly the dataset.
BOOST_AUTO_TEST_CASE(segments_too_big_at_their_first_page_are_split_and_land_exactly_once) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim(10));
    const std::string schema = "e2e_workers_split";
    std::vector<std::unique_ptr<child>> workers;
    for (int i = 0; i < 2; ++i)
        workers.push_back(start_worker(sim, schema, dir, i, 0, {"--split-above", "100"}));
    for (int i = 0; i < 2; ++i)
        BOOST_TEST(workers[i]->wait().exit_status == 0, stderr_of(dir, i, 0));
    require_exactly(read_jobs(schema, dir), sim.expected(range_start(), range_finish()));
    const auto planned = windows_of(std::chrono::days(14));
    const auto rows = std::stoul(scalar("SELECT count(*) FROM " + schema + ".work"));
    BOOST_TEST(rows > planned);
    require_every_segment_done_once(schema, rows);
    BOOST_TEST(std::stoul(scalar("SELECT max(jobs) FROM " + schema + ".segments")) <= 100u);
    // The pieces tile the run's range: no gap, no overlap.
    BOOST_TEST(scalar("SELECT count(*) FROM (SELECT window_start, lag(window_finish) OVER (ORDER "
                      "BY window_start) AS previous FROM " +
                      schema +
                      ".work) w WHERE previous IS NOT NULL AND previous <> "
                      "window_start") == "0");
    const auto said = stderr_of(dir, 0, 0) + stderr_of(dir, 1, 0);
    BOOST_TEST(said.find(" split into ") != std::string::npos, said);
}

// A plain run that continues an unfinished worker run counts a window done only when that very
// window is: a finished piece of a split window shares the window's start, not the window. The
// state is made exact: a split window's later piece undone (its jobs, segments row and done_at
// gone), its first piece done.
BOOST_AUTO_TEST_CASE(a_plain_run_after_split_workers_fetches_windows_done_only_in_pieces) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim(5));
    const std::string schema = "e2e_workers_split_then_plain";
    auto worker = start_worker(sim, schema, dir, 0, 0, {"--split-above", "100"});
    BOOST_TEST_REQUIRE(worker->wait().exit_status == 0, stderr_of(dir, 0, 0));

    // A piece that does not start a 14-day window of the plan.
    const auto grid = "mod(extract(epoch FROM window_start - '" + format_iso8601(range_start()) +
                      "'::timestamptz)::bigint, 1209600)";
    const auto piece = scalar("SELECT window_start || '|' || window_finish FROM " + schema +
                              ".work WHERE " + grid + " <> 0 ORDER BY window_start LIMIT 1");
    BOOST_TEST_REQUIRE(!piece.empty(), "no window was split");
    const auto from = "'" + piece.substr(0, piece.find('|')) + "'::timestamptz";
    const auto to = "'" + piece.substr(piece.find('|') + 1) + "'::timestamptz";
    const auto undone =
        std::stoul(scalar("SELECT count(*) FROM " + schema + ".jobs WHERE start_time >= " + from +
                          " AND start_time < " + to));
    BOOST_TEST_REQUIRE(undone > 0u);
    cluster().sql("DELETE FROM " + schema + ".jobs WHERE start_time >= " + from +
                  " AND start_time < " + to + "; DELETE FROM " + schema +
                  ".segments WHERE window_start = " + from + "; UPDATE " + schema +
                  ".work SET done_at = NULL, done_by = NULL WHERE window_start = " + from +
                  "; UPDATE " + schema + ".runs SET completed_at = NULL");

    const auto plain =
        run(backfill_args(sim, schema, fetch_options()), env_with_password(), dir.path());
    BOOST_TEST_REQUIRE(plain.how.exit_status == 0, plain.err);
    require_exactly(read_jobs(schema, dir), sim.expected(range_start(), range_finish()));
}

// A worker run left unfinished by a dynjobs of schema version 3 (no tenant column) is continued
// by this one: the migration keeps its work and segments rows (tenant ''), and the worker
// fetches only the segment left.
BOOST_AUTO_TEST_CASE(a_version_3_worker_run_is_migrated_and_finished) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim(5));
    const std::string schema = "e2e_workers_v3";
    auto worker = start_worker(sim, schema, dir, 0, 0);
    BOOST_TEST_REQUIRE(worker->wait().exit_status == 0, stderr_of(dir, 0, 0));
    // Back to version 3's shape, one segment undone.
    std::string to_v3;
    for (const std::string table : {"work", "segments"})
        to_v3 += "ALTER TABLE " + schema + "." + table + " DROP CONSTRAINT " + table +
                 "_pkey, DROP COLUMN tenant, ADD PRIMARY KEY (selection_hash, organization_id, "
                 "window_start); ";
    to_v3 += "ALTER TABLE " + schema + ".jobs DROP COLUMN tenant; ";
    const auto undone = scalar("SELECT max(window_start) FROM " + schema + ".work");
    cluster().sql(to_v3 + "DELETE FROM " + schema + ".schema_version WHERE version > 3; " +
                  "DELETE FROM " + schema + ".jobs WHERE start_time >= '" + undone +
                  "'; DELETE FROM " + schema + ".segments WHERE window_start = '" + undone +
                  "'; UPDATE " + schema + ".work SET done_at = NULL, done_by = NULL WHERE " +
                  "window_start = '" + undone + "'; UPDATE " + schema +
                  ".runs SET completed_at = NULL");

    worker = start_worker(sim, schema, dir, 0, 1);
    BOOST_TEST_REQUIRE(worker->wait().exit_status == 0, stderr_of(dir, 0, 1));
    BOOST_TEST(scalar("SELECT max(version) FROM " + schema + ".schema_version") ==
               std::to_string(sink::pg::schema_version));
    require_exactly(read_jobs(schema, dir), sim.expected(range_start(), range_finish()));
    require_every_segment_done_once(schema, windows_of(std::chrono::days(14)));
    BOOST_TEST(scalar("SELECT count(*) FROM " + schema + ".work WHERE tenant <> ''") == "0");
    BOOST_TEST(scalar("SELECT count(*) FROM " + schema + ".jobs WHERE tenant <> ''") == "0");
    // Only the undone segment was fetched again.
    BOOST_TEST(stderr_of(dir, 0, 1).find(": 1 segments (") != std::string::npos,
               stderr_of(dir, 0, 1));
}

BOOST_AUTO_TEST_CASE(workers_sharing_one_max_rate_land_the_dataset_and_say_what_they_sent) {
    scratch_dir dir;
    auto options = slow_sim(5);
    options.extra.insert(options.extra.end(), {"--rate-limit", "100"});
    sim_process sim(dir, options);
    const std::string schema = "e2e_workers_rate";
    std::vector<std::unique_ptr<child>> workers;
    // The tenant's 100/s, below its limit, divided between the two while both fetch.
    for (int i = 0; i < 2; ++i)
        workers.push_back(start_worker(sim, schema, dir, i, 0, {"--max-rate", "90"}));
    for (int i = 0; i < 2; ++i)
        BOOST_TEST(workers[i]->wait().exit_status == 0, stderr_of(dir, i, 0));
    require_exactly(read_jobs(schema, dir), sim.expected(range_start(), range_finish()));
    require_every_segment_done_once(schema, windows_of(std::chrono::days(14)));
    for (int i = 0; i < 2; ++i)
        BOOST_TEST(stderr_of(dir, i, 0).find(" requests (429s ") != std::string::npos,
                   stderr_of(dir, i, 0));
}

BOOST_AUTO_TEST_CASE(an_interrupted_worker_gives_its_segments_back_at_once) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim(200));
    const std::string schema = "e2e_workers_sigterm";
    auto worker = start_worker(sim, schema, dir, 0, 0);
    wait_until(
        [&] { return scalar("SELECT to_regclass('" + schema + ".work') IS NOT NULL") == "t"; });
    wait_until([&] {
        return scalar("SELECT EXISTS (SELECT 1 FROM " + schema +
                      ".work WHERE leased_by IS NOT NULL)") == "t";
    });
    worker->signal(SIGTERM);
    const auto how = worker->wait();
    BOOST_TEST(how.exit_status == 130, stderr_of(dir, 0, 0));
    // Given back: claimable now by another worker, not after the 2 s lease.
    BOOST_TEST(scalar("SELECT count(*) FROM " + schema +
                      ".work WHERE done_at IS NULL AND leased_by IS NOT NULL") == "0");
    require_whole_segments(schema);
}

// A worker whose leases another worker claimed (its renewals failed for a whole lease: played
// here by taking the leases over in SQL) stops fetching those segments at its next renewal
// instead of fetching a copy, and claims them again once the other's lease has run out.
BOOST_AUTO_TEST_CASE(a_worker_stops_fetching_segments_whose_lease_another_took) {
    scratch_dir dir;
    // A page takes a second; 180-day windows: a few segments of a few pages each.
    sim_process sim(
        dir, {.organizations = 2, .jobs = 1'000, .seed = 21, .extra = {"--latency-ms", "1000"}});
    const std::string schema = "e2e_workers_lease_lost";
    auto worker = start_worker(sim, schema, dir, 0, 0, {"--window", "180d"});
    wait_until(
        [&] { return scalar("SELECT to_regclass('" + schema + ".work') IS NOT NULL") == "t"; });
    wait_until([&] {
        return scalar("SELECT count(*) FROM " + schema + ".work WHERE leased_by IS NOT NULL") ==
               "2";
    });
    cluster().sql("UPDATE " + schema +
                  ".work SET leased_by = 'another-worker', lease_expires = now() + interval '3 "
                  "seconds', claims = claims + 1 WHERE leased_by IS NOT NULL AND done_at IS NULL");
    const auto how = worker->wait(std::chrono::seconds(120));
    const auto said = stderr_of(dir, 0, 0);
    BOOST_TEST(how.exit_status == 0, said);
    BOOST_TEST(said.find("its lease is another worker's now") != std::string::npos, said);
    BOOST_TEST(said.find(" 0 leases lost)") == std::string::npos, said);
    require_exactly(read_jobs(schema, dir), sim.expected(range_start(), range_finish()));
    require_every_segment_done_once(schema, windows_of(std::chrono::days(180)));
}

BOOST_AUTO_TEST_CASE(a_worker_refuses_a_selection_that_a_plain_run_is_writing) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim(200));
    const std::string schema = "e2e_workers_plain";
    // The same selection: --worker and --lease choose how, not what.
    std::vector<std::string> plain{binary()};
    for (auto& a :
         backfill_args(sim, schema, {"--window", "14d", "--page-size", "50", "--concurrency", "4"}))
        plain.push_back(std::move(a));
    child c(plain, env_with_password(), dir.path() / "plain.stdout", dir.path() / "plain.stderr");
    wait_until(
        [&] { return scalar("SELECT to_regclass('" + schema + ".runs') IS NOT NULL") == "t"; });
    wait_until([&] { return scalar("SELECT count(*) FROM " + schema + ".runs") == "1"; });
    auto args = worker_args(sim, schema);
    args.erase(args.begin());
    const auto refused = run(args, env_with_password(), dir.path());
    BOOST_TEST(refused.how.exit_status == 1, refused.err);
    BOOST_TEST(refused.err.find("without --worker is in progress") != std::string::npos,
               refused.err);
    BOOST_TEST(scalar("SELECT count(*) FROM " + schema + ".work") == "0");
    c.signal(SIGTERM);
    BOOST_TEST(c.wait().exit_status == 130, read_text(dir.path() / "plain.stderr"));
}

BOOST_AUTO_TEST_SUITE_END()
