// `dynjobs backfill --output postgresql://...` against `dynjobs sim` and a real PostgreSQL 15
// cluster (testkit::pg_cluster, one for the whole binary; each test its own --pg-schema): the
// jobs table is the dataset row for row after a clean run, after kill -9 at random moments, and
// across a server restart; bad databases get one line and exit 1 before any API request.
#include "pg_fixture.hpp"
#include "sink/pg/connection.hpp"
#include "sink/pg/segment_rows.hpp"
#include "sink/pg/sql.hpp"

#include <dynjobs/fetch_request.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <sstream>
#include <thread>

using namespace dynjobs;
using namespace dynjobs::e2e;
using testkit::pg_cluster;

namespace {

std::vector<std::string> slow_args(const sim_process& sim, const std::string& schema,
                                   std::vector<std::string> extra = {}) {
    std::vector<std::string> args{binary()};
    for (auto& a : backfill_args(sim, schema,
                                 {"--window", "30d", "--page-size", "50", "--concurrency", "2",
                                  "--checkpoint-interval", "0.05"}))
        args.push_back(std::move(a));
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

// Runs `body` on a connection of the sink's own kind (async libpq) as the writer: for the
// sink's statements on the real server with rows the simulator cannot produce.
template <class Body>
void with_connection(Body body, std::string uri = cluster().uri()) {
    boost::asio::io_context ioc(1);
    sink::pg::connection conn(ioc.get_executor());
    sink::pg::connect_params params;
    params.uri = std::move(uri);
    params.password = pg_cluster::writer_password;
    std::exception_ptr failure;
    boost::asio::co_spawn(
        ioc,
        [&]() -> boost::asio::awaitable<void> {
            co_await conn.connect(params);
            co_await body(conn);
        },
        [&](std::exception_ptr e) { failure = e; });
    ioc.run();
    if (failure)
        std::rethrow_exception(failure);
}

job plain_job(const std::string& id) {
    job j;
    j.module = "Exchange";
    j.type = job_type::backup;
    j.job_id = id;
    j.start_time = range_start();
    j.status = job_status::in_progress;
    j.organization = *organization_id::parse("3f2504e0-4f89-41d3-9a0c-0305e82c3301");
    j.organization_name = "Contoso";
    return j;
}

// The sink's commit, statement for statement: stage `rows`, upsert. `rows` must outlive it.
boost::asio::awaitable<void> stage_and_upsert(sink::pg::connection& c, std::string schema,
                                              const sink::pg::held_rows& rows) {
    co_await c.execute(sink::pg::staging_table_sql());
    co_await c.execute("BEGIN");
    co_await sink::pg::upsert_rows(c, schema, std::span(&rows, 1));
    co_await c.execute("COMMIT");
}

void init_schema(const std::string& schema, const scratch_dir& dir) {
    const auto init = run({"db", "init", "--output", cluster().uri(), "--pg-schema", schema},
                          {{"PGPASSWORD", pg_cluster::writer_password}}, dir.path());
    BOOST_TEST_REQUIRE(init.how.exit_status == 0, init.err);
}

// slow_args run in the foreground to its end.
auto run_slow(const sim_process& sim, const std::string& schema, const scratch_dir& dir,
              std::vector<std::string> extra = {}) {
    auto args = slow_args(sim, schema, std::move(extra));
    args.erase(args.begin()); // run() names the binary itself
    return run(args, env_with_password(), dir.path());
}

// slow_args started in the background, its output in bf.stdout and bf.stderr.
child start_slow(const sim_process& sim, const std::string& schema, const scratch_dir& dir) {
    return child(slow_args(sim, schema), env_with_password(), dir.path() / "bf.stdout",
                 dir.path() / "bf.stderr");
}

// A refusal: exit `status` and one line that says `text`.
template <class Ran>
void require_one_line(const Ran& r, int status, const std::string& text) {
    BOOST_TEST(r.how.exit_status == status, r.err);
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
    BOOST_TEST(r.err.find(text) != std::string::npos, r.err);
}

// Waits until `table` exists and holds a row: a run started in the background got that far.
void wait_for_a_row(const std::string& table) {
    wait_until([&] {
        return scalar("SELECT to_regclass('" + table + "') IS NOT NULL") == "t" &&
               scalar("SELECT count(*) > 0 FROM " + table) == "t";
    });
}

// The server restarted (cleanly, or as a crash) while a run commits: the run reconnects and
// finishes exactly once.
void restart_mid_run(const std::string& schema, void (pg_cluster::*restart)()) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim(100));
    auto c = start_slow(sim, schema, dir);
    // Some segments committed, more to come.
    wait_for_a_row(schema + ".segments");
    (cluster().*restart)();
    const auto how = c.wait();
    const auto err = read_text(dir.path() / "bf.stderr");
    BOOST_TEST_REQUIRE(how.exit_status == 0, err);
    // The restart must have hit the run, not followed it.
    BOOST_TEST(err.find("lost the database connection") != std::string::npos, err);
    require_exactly(read_jobs(schema, dir), sim.expected(range_start(), range_finish()));
    require_whole_segments(schema);
}

} // namespace

BOOST_AUTO_TEST_SUITE(pg_e2e)

BOOST_AUTO_TEST_CASE(backfill_is_the_dataset_row_for_row_with_every_segment_recorded_once) {
    scratch_dir dir;
    sim_process sim(dir);
    // The password from a file this time, and nowhere in what the tool writes.
    std::ofstream(dir / "pgpass.txt") << pg_cluster::writer_password << "\n";
    const auto r = run(backfill_args(sim, "e2e_full",
                                     {"--window", "60d", "--pg-password-file", dir / "pgpass.txt",
                                      "--stats-json", dir / "stats.json"}),
                       sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    require_exactly(read_jobs("e2e_full", dir), sim.expected(range_start(), range_finish()));
    BOOST_TEST(scalar("SELECT count(*) FROM e2e_full.segments") ==
               std::to_string(windows_of(std::chrono::days(60))));
    require_whole_segments("e2e_full");
    BOOST_TEST(scalar("SELECT count(*) FROM e2e_full.runs WHERE completed_at IS NOT NULL") == "1");
    BOOST_TEST(r.err.find("backfill complete: 5,000 jobs written") != std::string::npos, r.err);
    for (const auto& text : {r.err, read_text(dir / "stats.json"),
                             scalar("SELECT string_agg(selection, '') FROM e2e_full.runs")})
        BOOST_TEST(text.find(pg_cluster::writer_password) == std::string::npos, text);

    // The README's query runs as printed, with "now" an hour after the dataset's last failure
    // so that its last day holds some; it counts what the dataset says.
    const auto dataset = sim.expected(range_start(), range_finish());
    timestamp last_failure{};
    for (const auto& j : dataset)
        if (j.status == job_status::failed && j.finish_time)
            last_failure = std::max(last_failure, *j.finish_time);
    const auto at = last_failure + std::chrono::hours(1);
    std::ifstream readme(DYNJOBS_README);
    const std::string doc((std::istreambuf_iterator<char>(readme)), {});
    const auto begin = doc.find("```sql\n", doc.find("<!-- pg-query:begin -->"));
    const auto end = doc.find("```", begin + 7);
    BOOST_TEST_REQUIRE((begin != std::string::npos && end != std::string::npos));
    auto query = doc.substr(begin + 7, end - begin - 7);
    const auto replace = [&](const std::string& from, const std::string& to) {
        const auto found = query.find(from);
        BOOST_TEST_REQUIRE(found != std::string::npos, from);
        query.replace(found, from.size(), to);
    };
    replace("dynjobs.jobs", "e2e_full.jobs");
    replace("now()", "'" + format_iso8601(at) + "'::timestamptz");
    std::map<std::string, int> expected_failed;
    for (const auto& j : dataset)
        if (j.status == job_status::failed && j.finish_time &&
            *j.finish_time >= at - std::chrono::hours(24))
            ++expected_failed[j.organization.to_string() + "|" + j.organization_name];
    BOOST_TEST_REQUIRE(!expected_failed.empty());
    std::map<std::string, int> failed;
    std::istringstream lines(cluster().sql(query));
    for (std::string line; std::getline(lines, line);)
        failed[line.substr(0, line.rfind('|'))] = std::stoi(line.substr(line.rfind('|') + 1));
    BOOST_TEST(failed == expected_failed);
    BOOST_TEST_MESSAGE(failed.size() << " organizations with failed jobs in the last day");

    const auto status = run({"db", "status", "--output", cluster().uri(), "--pg-schema", "e2e_full",
                             "--pg-password-file", dir / "pgpass.txt"},
                            {}, dir.path());
    BOOST_TEST_REQUIRE(status.how.exit_status == 0, status.err);
    BOOST_TEST(status.out.find("version " + std::to_string(sink::pg::schema_version)) !=
                   std::string::npos,
               status.out);
    BOOST_TEST(status.out.find("jobs 5,000 (") != std::string::npos, status.out);
    BOOST_TEST(status.out.find("complete ") != std::string::npos, status.out);
}

// A server that ignores the time filter: the fetch merges each organization's windows into one,
// whose jobs come labelled with the first window, also after that window's own pages are done.
// Every job still lands once.
BOOST_AUTO_TEST_CASE(a_server_ignoring_the_time_filter_still_gives_the_dataset_row_for_row) {
    for (const std::uint64_t seed : {5, 6, 7}) {
        BOOST_TEST_CONTEXT("seed " << seed) {
            scratch_dir dir;
            sim_process sim(dir, {.organizations = 5,
                                  .jobs = 2'000,
                                  .seed = seed,
                                  .extra = {"--time-filter", "ignored", "--unstable-order",
                                            // expected() generates the dataset at 1 ms
                                            "--start-time-granularity", "1ms"}});
            const auto schema = "e2e_ignored" + std::to_string(seed);
            const auto r =
                run(backfill_args(sim, schema,
                                  {"--window", "30d", "--page-size", "50", "--concurrency", "2",
                                   "--checkpoint-interval", "0.05"}),
                    env_with_password(), dir.path());
            BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
            require_exactly(read_jobs(schema, dir), sim.expected(range_start(), range_finish()));
        }
    }
}

BOOST_AUTO_TEST_CASE(an_unchanged_refetch_writes_no_row_and_a_changed_job_moves_last_changed) {
    scratch_dir dir;
    sim_process sim(dir, {.organizations = 2, .jobs = 1'000, .seed = 5, .extra = {}});
    const auto args = backfill_args(sim, "e2e_upsert");
    const auto first = run(args, env_with_password(), dir.path());
    BOOST_TEST_REQUIRE(first.how.exit_status == 0, first.err);
    // The stored row of one job goes stale as if the API had changed it since: the next run
    // must put the API's values back and move last_changed, and touch no other row.
    const auto stale = scalar("SELECT min(job_id) FROM e2e_upsert.jobs");
    cluster().sql("UPDATE e2e_upsert.jobs SET status = 99, backup_size = -1, last_changed = "
                  "'2001-01-01Z' WHERE job_id = '" +
                  stale + "'");
    const auto versions = "SELECT md5(string_agg(job_id || ':' || xmin::text, ',' ORDER BY "
                          "job_id)) FROM e2e_upsert.jobs WHERE job_id <> '" +
                          stale + "'";
    const auto before = scalar(versions);

    const auto second = run(args, env_with_password(), dir.path());
    BOOST_TEST_REQUIRE(second.how.exit_status == 0, second.err);
    BOOST_TEST(scalar(versions) == before); // no other row was rewritten
    require_exactly(read_jobs("e2e_upsert", dir), sim.expected(range_start(), range_finish()));
    BOOST_TEST(scalar("SELECT last_changed > '2001-01-01Z' AND first_seen < last_changed FROM "
                      "e2e_upsert.jobs WHERE job_id = '" +
                      stale + "'") == "t");
    require_whole_segments("e2e_upsert");
}

BOOST_AUTO_TEST_CASE(kill_9_at_random_moments_then_a_plain_restart_is_exactly_the_dataset) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim(25));
    const auto seed = std::random_device{}();
    BOOST_TEST_MESSAGE("seed " << seed);
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> delay_ms(20, 1500); // a run takes about 2 s
    bool killed_any = false;
    for (int i = 0; i < 4; ++i) {
        // The same command every time, no --resume: the database says what is done.
        child c(slow_args(sim, "e2e_kill"), env_with_password(), dir.path() / "bf.stdout",
                dir.path() / "bf.stderr");
        const auto after = std::chrono::milliseconds(delay_ms(rng));
        std::this_thread::sleep_for(after);
        c.signal(SIGKILL);
        const auto how = c.wait();
        if (how.signal != SIGKILL) { // it finished before the kill: it must have succeeded
            BOOST_TEST_REQUIRE(how.exit_status == 0, read_text(dir.path() / "bf.stderr"));
            break;
        }
        killed_any = true;
        BOOST_TEST_MESSAGE("run " << i << " killed after " << after.count() << " ms");
        require_whole_segments_after_a_kill("e2e_kill");
    }
    BOOST_TEST(killed_any);
    const auto last = run(backfill_args(sim, "e2e_kill", {"--window", "30d", "--page-size", "50"}),
                          env_with_password(), dir.path());
    BOOST_TEST_REQUIRE(last.how.exit_status == 0, last.err);
    require_exactly(read_jobs("e2e_kill", dir), sim.expected(range_start(), range_finish()));
    // No --org: one unfiltered slot, so one segment per window.
    BOOST_TEST(scalar("SELECT count(*) FROM e2e_kill.segments") ==
               std::to_string(windows_of(std::chrono::days(30))));
    require_whole_segments("e2e_kill");
}

BOOST_AUTO_TEST_CASE(kill_9_inside_a_commit_leaves_the_committed_segments_only) {
    scratch_dir dir;
    init_schema("e2e_kill_commit", dir);
    // Each upsert takes 0.3 s, so that a commit is seen running and the kill lands inside it.
    cluster().sql("CREATE FUNCTION public.e2e_kill_commit_slow() RETURNS trigger LANGUAGE "
                  "plpgsql AS $$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$; CREATE "
                  "TRIGGER slow BEFORE INSERT ON e2e_kill_commit.jobs FOR EACH STATEMENT "
                  "EXECUTE FUNCTION public.e2e_kill_commit_slow()");
    sim_process sim(dir, slow_sim(25));
    const auto total = windows_of(std::chrono::days(30));
    {
        auto c = start_slow(sim, "e2e_kill_commit", dir);
        // A later commit running, an earlier one committed.
        wait_until(
            [] {
                return scalar("SELECT (SELECT count(*) FROM e2e_kill_commit.segments) > 0 AND "
                              "EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = "
                              "'dynjobs' AND state = 'active' AND query LIKE 'INSERT INTO "
                              "\"e2e_kill_commit\".jobs%')") == "t";
            },
            std::chrono::seconds(60));
        c.signal(SIGKILL);
        BOOST_TEST_REQUIRE(c.wait().signal == SIGKILL);
    }
    wait_for_no_dynjobs_backend();
    const auto committed = std::stoul(scalar("SELECT count(*) FROM e2e_kill_commit.segments"));
    BOOST_TEST(committed > 0u);
    BOOST_TEST(committed < total);
    require_whole_segments("e2e_kill_commit");
    const auto last = run_slow(sim, "e2e_kill_commit", dir);
    BOOST_TEST_REQUIRE(last.how.exit_status == 0, last.err);
    require_exactly(read_jobs("e2e_kill_commit", dir), sim.expected(range_start(), range_finish()));
    BOOST_TEST(scalar("SELECT count(*) FROM e2e_kill_commit.segments") == std::to_string(total));
    require_whole_segments("e2e_kill_commit");
}

BOOST_AUTO_TEST_CASE(a_server_restart_mid_run_reconnects_and_finishes_exactly_once) {
    restart_mid_run("e2e_restart", &pg_cluster::restart);
}

BOOST_AUTO_TEST_CASE(a_server_crash_mid_run_reconnects_and_finishes_exactly_once) {
    // No shutdown checkpoint, backends killed, WAL recovery on start.
    restart_mid_run("e2e_crash", &pg_cluster::crash_restart);
}

BOOST_AUTO_TEST_CASE(a_second_run_of_the_same_selection_at_once_is_refused) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim(100));
    auto first = start_slow(sim, "e2e_twin", dir);
    // Started: its runs row is there (written after it took the selection's lock).
    wait_for_a_row("e2e_twin.runs");
    const auto second = run_slow(sim, "e2e_twin", dir);
    require_one_line(second, 1, "another dynjobs run of this selection is in progress");
    const auto how = first.wait();
    BOOST_TEST_REQUIRE(how.exit_status == 0, read_text(dir.path() / "bf.stderr"));
    require_exactly(read_jobs("e2e_twin", dir), sim.expected(range_start(), range_finish()));
    require_whole_segments("e2e_twin");
}

BOOST_AUTO_TEST_CASE(an_unfinished_run_of_another_range_needs_resume) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim(50));
    {
        auto c = start_slow(sim, "e2e_range", dir);
        wait_for_a_row("e2e_range.segments");
        c.signal(SIGKILL);
        BOOST_TEST_REQUIRE(c.wait().signal == SIGKILL);
    }
    // As if its --since were relative and resolved a moment later now: the same selection, a
    // stored range that is not this command's.
    cluster().sql("UPDATE e2e_range.runs SET range_finish = range_finish + interval '1 ms'");
    const auto segments = scalar("SELECT count(*) FROM e2e_range.segments");
    const auto plain = run_slow(sim, "e2e_range", dir);
    require_one_line(plain, 1, "an unfinished run of this selection covers");
    for (const auto* name : {"--resume", "DELETE FROM"})
        BOOST_TEST(plain.err.find(name) != std::string::npos, plain.err);
    BOOST_TEST(scalar("SELECT count(*) FROM e2e_range.segments") == segments);
    // --resume continues the stored range.
    const auto resumed = run_slow(sim, "e2e_range", dir, {"--resume"});
    BOOST_TEST_REQUIRE(resumed.how.exit_status == 0, resumed.err);
    require_exactly(read_jobs("e2e_range", dir), sim.expected(range_start(), range_finish()));
    require_whole_segments("e2e_range");
}

BOOST_AUTO_TEST_CASE(a_serialization_failure_or_deadlock_in_a_commit_is_retried) {
    scratch_dir dir;
    init_schema("e2e_retry", dir);
    // The first two upserts are refused as a serialization failure, then a deadlock would
    // refuse them (nextval is not rolled back, so each attempt counts).
    cluster().sql(
        "CREATE SEQUENCE public.e2e_retry_attempts; CREATE FUNCTION public.e2e_retry_refuse() "
        "RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN CASE "
        "nextval('public.e2e_retry_attempts') WHEN 1 THEN RAISE EXCEPTION 'injected' USING "
        "ERRCODE = '40001'; WHEN 2 THEN RAISE EXCEPTION 'injected' USING ERRCODE = '40P01'; "
        "ELSE END CASE; RETURN NULL; END $$; CREATE TRIGGER refuse BEFORE INSERT ON "
        "e2e_retry.jobs FOR EACH STATEMENT EXECUTE FUNCTION public.e2e_retry_refuse()");
    sim_process sim(dir, {.organizations = 2, .jobs = 1'000, .seed = 5, .extra = {}});
    const auto r = run(backfill_args(sim, "e2e_retry"), env_with_password(), dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    BOOST_TEST(r.err.find("the commit was interrupted") != std::string::npos, r.err);
    BOOST_TEST(std::stoi(scalar("SELECT last_value FROM public.e2e_retry_attempts")) >= 3);
    require_exactly(read_jobs("e2e_retry", dir), sim.expected(range_start(), range_finish()));
    require_whole_segments("e2e_retry");
}

BOOST_AUTO_TEST_CASE(a_commit_refused_for_good_stops_the_run_and_counts_nothing_unwritten) {
    scratch_dir dir;
    init_schema("e2e_refused", dir);
    cluster().sql("CREATE FUNCTION public.e2e_refused_refuse() RETURNS trigger LANGUAGE plpgsql "
                  "AS $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '23514'; END $$; "
                  "CREATE TRIGGER refuse BEFORE INSERT ON e2e_refused.jobs FOR EACH STATEMENT "
                  "EXECUTE FUNCTION public.e2e_refused_refuse()");
    sim_process sim(dir, slow_sim(25));
    const auto stats = dir.path() / "stats.json";
    const auto r = run_slow(sim, "e2e_refused", dir, {"--stats-json", stats.string()});
    BOOST_TEST(r.how.exit_status == 2, r.err);
    BOOST_TEST(r.err.find("refused the commit") != std::string::npos, r.err);
    const auto summary = read_text(stats);
    // Nothing was committed, so nothing is reported written, though segments were fetched.
    BOOST_TEST(summary.find("\"jobsWritten\":0,") != std::string::npos, summary);
    BOOST_TEST(summary.find("\"windowsDone\":0,") != std::string::npos, summary);
    BOOST_TEST(scalar("SELECT count(*) FROM e2e_refused.jobs") == "0");
    BOOST_TEST(scalar("SELECT count(*) FROM e2e_refused.segments") == "0");
}

BOOST_AUTO_TEST_CASE(a_server_down_past_the_deadline_exits_2_leaving_only_whole_segments) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim(100));
    {
        server_back_up guard;
        child c(slow_args(sim, "e2e_down", {"--pg-retry-for", "2"}), env_with_password(),
                dir.path() / "bf.stdout", dir.path() / "bf.stderr");
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        cluster().stop();
        const auto how = c.wait();
        const auto err = read_text(dir.path() / "bf.stderr");
        BOOST_TEST_REQUIRE(how.exit_status == 2, err);
        BOOST_TEST(err.find("stayed unreachable") != std::string::npos, err);
        BOOST_TEST(err.find("--pg-retry-for") != std::string::npos, err);
    }
    require_whole_segments("e2e_down");
    const auto again = run(backfill_args(sim, "e2e_down", {"--window", "30d", "--page-size", "50"}),
                           env_with_password(), dir.path());
    BOOST_TEST_REQUIRE(again.how.exit_status == 0, again.err);
    require_exactly(read_jobs("e2e_down", dir), sim.expected(range_start(), range_finish()));
    require_whole_segments("e2e_down");
}

// One window (--window none) past the sink's memory for held rows (8 MiB, about 25,000 jobs):
// its rows move to a temporary file in $TMPDIR and still land row for row, in one segment.
// With a folder that takes no file, the run says so once and keeps them in memory: nothing lost.
BOOST_AUTO_TEST_CASE(one_window_past_the_memory_for_held_rows_is_held_on_disk_row_for_row) {
    scratch_dir dir;
    sim_process sim(dir, {.organizations = 3, .jobs = 60'000, .seed = 9, .extra = {}});
    const auto expected = sim.expected(range_start(), range_finish());
    std::filesystem::create_directory(dir / "tmp");
    for (const bool folder : {true, false}) {
        BOOST_TEST_CONTEXT((folder ? "with" : "without") << " a temporary folder") {
            const std::string schema = folder ? "e2e_spill" : "e2e_no_spill";
            auto env = env_with_password();
            env["TMPDIR"] = folder ? dir / "tmp" : "/proc"; // /proc: nobody may create a file
            const auto r = run(backfill_args(sim, schema, {"--window", "none"}), env, dir.path());
            BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
            const bool kept_in_memory =
                r.err.find("cannot move held jobs to a temporary file in /proc") !=
                std::string::npos;
            BOOST_TEST(kept_in_memory == !folder, r.err);
            BOOST_TEST(std::filesystem::is_empty(dir / "tmp")); // unnamed files, gone
            require_exactly(read_jobs(schema, dir), expected);
            BOOST_TEST(scalar("SELECT count(*) FROM " + schema + ".segments") == "1");
            require_whole_segments(schema);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_job_staged_twice_in_one_commit_keeps_its_last_version) {
    scratch_dir dir;
    init_schema("e2e_twice", dir);
    // Re-fetched after it finished: the second version is the newer. Many other jobs around
    // it, so that the order the server happens to read them in is not the order written.
    auto running = plain_job("TWICE");
    auto finished = running;
    finished.status = job_status::finished;
    finished.finish_time = running.start_time + std::chrono::hours(1);
    finished.backup_size = 4242;
    // The older version moved to a temporary file, the newer still in memory (a huge window's
    // rows): one COPY sends both, the file's first.
    scratch_dir spill;
    sink::pg::held_rows rows(spill.path().string());
    std::uint64_t seq = 0;
    for (int i = 0; i < 500; ++i)
        rows.append(plain_job("A" + std::to_string(i)), ++seq);
    rows.append(running, ++seq);
    std::error_code spill_error;
    BOOST_TEST_REQUIRE(rows.spill(spill_error), spill_error.message());
    for (int i = 0; i < 500; ++i)
        rows.append(plain_job("B" + std::to_string(i)), ++seq);
    rows.append(finished, ++seq);
    with_connection([&](sink::pg::connection& c) -> boost::asio::awaitable<void> {
        co_await stage_and_upsert(c, "e2e_twice", rows);
    });
    BOOST_TEST(scalar("SELECT status || ',' || backup_size || ',' || (finish_time IS NOT NULL) "
                      "FROM e2e_twice.jobs WHERE job_id = 'TWICE'") == "3,4242,true");
    BOOST_TEST(scalar("SELECT count(*) FROM e2e_twice.jobs") == "1001");
}

BOOST_AUTO_TEST_CASE(a_nul_in_a_string_and_an_int32_type_or_status_are_stored) {
    scratch_dir dir;
    init_schema("e2e_odd_fields", dir);
    auto odd = plain_job("ODD");
    odd.module = std::string("Ex\0change", 9);
    odd.type = static_cast<job_type>(70'000);
    odd.status = static_cast<job_status>(-100'000);
    sink::pg::held_rows rows;
    rows.append(odd, 1);
    rows.append(plain_job("PLAIN"), 2);
    with_connection([&](sink::pg::connection& c) -> boost::asio::awaitable<void> {
        co_await stage_and_upsert(c, "e2e_odd_fields", rows);
    });
    BOOST_TEST(scalar("SELECT module || ',' || type || ',' || status FROM e2e_odd_fields.jobs "
                      "WHERE job_id = 'ODD'") == "Ex\xEF\xBF\xBD"
                                                 "change,70000,-100000");
    BOOST_TEST(scalar("SELECT count(*) FROM e2e_odd_fields.jobs") == "2");
}

BOOST_AUTO_TEST_CASE(a_session_has_server_timeouts_and_a_silent_answer_meets_the_deadline) {
    std::string statement_timeout;
    std::string lock_timeout;
    std::optional<sink::pg::error> late;
    std::chrono::steady_clock::duration waited{};
    bool still_connected = true;
    with_connection([&](sink::pg::connection& c) -> boost::asio::awaitable<void> {
        statement_timeout = (co_await c.execute("SHOW statement_timeout")).rows.at(0).at(0).value();
        lock_timeout = (co_await c.execute("SHOW lock_timeout")).rows.at(0).at(0).value();
        // A server that does not answer in time, as a black-holed network looks from here.
        const auto start = std::chrono::steady_clock::now();
        c.set_deadline(start + std::chrono::milliseconds(300));
        try {
            co_await c.execute("SELECT pg_sleep(5)");
        } catch (const sink::pg::error& e) {
            late = e;
        }
        waited = std::chrono::steady_clock::now() - start;
        still_connected = c.connected();
    });
    BOOST_TEST(statement_timeout == "15min");
    BOOST_TEST(lock_timeout == "1min");
    BOOST_TEST_REQUIRE(late.has_value());
    BOOST_TEST((late->kind == sink::pg::failure::lost), late->what());
    BOOST_TEST(waited < std::chrono::seconds(2));
    BOOST_TEST(!still_connected); // dropped: an unfinished statement is never reused
}

BOOST_AUTO_TEST_CASE(a_precreated_schema_serves_a_role_without_create_and_first_runs_do_not_race) {
    scratch_dir dir;
    // A DBA's setup: the schema exists and is the role's, the role may not create schemas.
    cluster().sql("CREATE ROLE e2e_app LOGIN PASSWORD 'app-Pass-8e4'; CREATE SCHEMA e2e_pre "
                  "AUTHORIZATION e2e_app");
    const auto init =
        run({"db", "init", "--output", cluster().uri("e2e_app"), "--pg-schema", "e2e_pre"},
            {{"PGPASSWORD", "app-Pass-8e4"}}, dir.path());
    BOOST_TEST_REQUIRE(init.how.exit_status == 0, init.err);
    BOOST_TEST(scalar("SELECT max(version) FROM e2e_pre.schema_version") ==
               std::to_string(sink::pg::schema_version));
    // Two first runs at once on a schema neither finds: both succeed, one migration.
    for (int i = 0; i < 3; ++i) {
        const auto schema = "e2e_race" + std::to_string(i);
        const std::vector<std::string> args{binary(),        "db",          "init", "--output",
                                            cluster().uri(), "--pg-schema", schema};
        const std::map<std::string, std::string> env{{"PGPASSWORD", pg_cluster::writer_password}};
        child a(args, env, dir.path() / "a.out", dir.path() / "a.err");
        child b(args, env, dir.path() / "b.out", dir.path() / "b.err");
        BOOST_TEST(a.wait().exit_status == 0, read_text(dir.path() / "a.err"));
        BOOST_TEST(b.wait().exit_status == 0, read_text(dir.path() / "b.err"));
        BOOST_TEST(scalar("SELECT count(*) FROM " + schema + ".schema_version") == "1");
    }
}

// No PGPASSWORD, no --pg-password-file: the password comes from ~/.pgpass, as with every libpq
// tool (libpq reads it only when it is not group- or world-readable). Without it, one line.
BOOST_AUTO_TEST_CASE(the_password_comes_from_pgpass_in_home) {
    scratch_dir dir;
    const std::filesystem::path home = dir.path() / "home";
    std::filesystem::create_directories(home);
    std::ofstream(home / ".pgpass")
        << "*:*:*:" << pg_cluster::writer << ':' << pg_cluster::writer_password << '\n';
    std::filesystem::permissions(
        home / ".pgpass", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
        std::filesystem::perm_options::replace);
    const std::vector<std::string> init{"db",          "init",      "--output", cluster().uri(),
                                        "--pg-schema", "e2e_pgpass"};
    const auto r = run(init, {{"HOME", home.string()}}, dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    BOOST_TEST(scalar("SELECT max(version) FROM e2e_pgpass.schema_version") ==
               std::to_string(sink::pg::schema_version));
    BOOST_TEST((r.out + r.err).find(pg_cluster::writer_password) == std::string::npos);

    std::filesystem::remove(home / ".pgpass");
    const auto refused = run(init, {{"HOME", home.string()}}, dir.path());
    BOOST_TEST(refused.how.exit_status == 1, refused.err);
    BOOST_TEST(std::count(refused.err.begin(), refused.err.end(), '\n') == 1, refused.err);
    BOOST_TEST(refused.err.find("password") != std::string::npos, refused.err);
}

// A host name is looked up by dynjobs (libpq's own lookup would block the event loop) and given
// to libpq as addresses with the name kept: the ~/.pgpass line written for the name still
// matches, which it would not if libpq saw only the address.
BOOST_AUTO_TEST_CASE(a_host_name_is_looked_up_and_its_pgpass_line_still_matches) {
    scratch_dir dir;
    sim_process sim(dir);
    const std::filesystem::path home = dir.path() / "home";
    std::filesystem::create_directories(home);
    std::ofstream(home / ".pgpass")
        << "localhost:" << cluster().port() << ":*:" << pg_cluster::writer << ':'
        << pg_cluster::writer_password << '\n';
    std::filesystem::permissions(
        home / ".pgpass", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
        std::filesystem::perm_options::replace);
    auto args = backfill_args(sim, "e2e_named", {"--window", "60d"});
    const auto output = std::find(args.begin(), args.end(), "--output");
    BOOST_TEST_REQUIRE((output != args.end()));
    *std::next(output) = "postgresql://" + std::string(pg_cluster::writer) +
                         "@localhost:" + std::to_string(cluster().port()) + "/" +
                         std::string(pg_cluster::database);
    auto env = sim_process::secret_env();
    env["HOME"] = home.string();
    const auto r = run(args, env, dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    require_exactly(read_jobs("e2e_named", dir), sim.expected(range_start(), range_finish()));
    require_whole_segments("e2e_named");
}

BOOST_AUTO_TEST_CASE(the_uri_cannot_change_the_client_encoding_or_search_path) {
    std::string encoding;
    std::string search_path;
    with_connection(
        [&](sink::pg::connection& c) -> boost::asio::awaitable<void> {
            encoding = (co_await c.execute("SHOW client_encoding")).rows.at(0).at(0).value();
            search_path = (co_await c.execute("SHOW search_path")).rows.at(0).at(0).value();
        },
        cluster().uri() + "?client_encoding=LATIN1&options=-csearch_path%3Dpublic");
    BOOST_TEST(encoding == "UTF8");
    BOOST_TEST(search_path == "pg_catalog, pg_temp");
}

BOOST_AUTO_TEST_CASE(a_database_down_at_start_is_transient_exit_2_before_any_request) {
    scratch_dir dir;
    server_back_up guard;
    cluster().stop();
    const auto out = run(
        {"backfill", "--output", cluster().uri(), "--pg-schema", "e2e_down_start", "--base-url",
         "https://127.0.0.1:1", "--client-id", "x", "--since", "2025-01-01"},
        {{"DYNJOBS_CLIENT_SECRET", "s"}, {"PGPASSWORD", pg_cluster::writer_password}}, dir.path());
    require_one_line(out, 2, "not available now");
    BOOST_TEST(out.err.find("127.0.0.1:1") == std::string::npos, out.err);
}

BOOST_AUTO_TEST_CASE(a_database_that_cannot_work_gets_one_line_and_exit_1_before_any_request) {
    scratch_dir dir;
    auto& pg = cluster();
    const auto port = std::to_string(pg.port());
    // A read-only role on an initialized schema; a schema whose jobs table is someone else's.
    const auto init = run({"db", "init", "--output", pg.uri(), "--pg-schema", "e2e_ro"},
                          {{"PGPASSWORD", pg_cluster::writer_password}}, dir.path());
    BOOST_TEST_REQUIRE(init.how.exit_status == 0, init.err);
    pg.sql(std::string("GRANT USAGE ON SCHEMA e2e_ro TO ") + pg_cluster::reader +
           "; GRANT SELECT ON ALL TABLES IN SCHEMA e2e_ro TO " + pg_cluster::reader +
           "; CREATE ROLE e2e_inserter LOGIN PASSWORD 'inserter-Pass-5d1'; GRANT USAGE ON "
           "SCHEMA e2e_ro TO e2e_inserter; GRANT INSERT ON ALL TABLES IN SCHEMA e2e_ro TO "
           "e2e_inserter; GRANT SELECT ON e2e_ro.schema_version TO e2e_inserter"
           "; CREATE SCHEMA e2e_odd AUTHORIZATION " +
           pg_cluster::writer +
           "; CREATE TABLE e2e_odd.jobs (job_id integer PRIMARY KEY, note text); ALTER TABLE "
           "e2e_odd.jobs OWNER TO " +
           pg_cluster::writer);
    struct row {
        std::string name;
        std::string uri;
        std::string password;
        std::string schema;
        std::string expected;
    };
    const std::string writer = pg_cluster::writer;
    const std::string good = pg_cluster::writer_password;
    const std::vector<row> rows{
        {"malformed URI", pg.uri() + "?bogus=1", good, "e2e_bad", "bogus"},
        {"password in the URI",
         "postgresql://" + writer + ":" + good + "@127.0.0.1:" + port + "/" + pg_cluster::database,
         good, "e2e_bad", "password in the URI"},
        {"unknown host", "postgresql://" + writer + "@no-such-host.invalid/db", good, "e2e_bad",
         "no-such-host.invalid"},
        {"refused password", pg.uri(), "not-the-password", "e2e_bad",
         "password authentication failed"},
        {"missing database", pg.uri(writer, "no_such_db"), good, "e2e_bad",
         "\"no_such_db\" does not exist"},
        {"read-only role", pg.uri(pg_cluster::reader), pg_cluster::reader_password, "e2e_ro",
         "read-only"},
        // INSERT alone passed the old check (any of INSERT, UPDATE); the upsert needs all.
        {"INSERT-only role", pg.uri("e2e_inserter"), "inserter-Pass-5d1", "e2e_ro",
         "may not SELECT, UPDATE on \"e2e_ro\".jobs"},
        {"incompatible jobs table", pg.uri(), good, "e2e_odd",
         "\"e2e_odd\".jobs has no column module"},
    };
    for (const auto& r : rows) {
        // An API nobody listens on: had the command gone past the database, it would fail
        // there, later and otherwise.
        const auto out =
            run({"backfill", "--output", r.uri, "--pg-schema", r.schema, "--base-url",
                 "https://127.0.0.1:1", "--client-id", "x", "--since", "2025-01-01"},
                {{"DYNJOBS_CLIENT_SECRET", "s"}, {"PGPASSWORD", r.password}}, dir.path());
        BOOST_TEST(out.how.exit_status == 1, r.name << ": " << out.err);
        BOOST_TEST(std::count(out.err.begin(), out.err.end(), '\n') == 1,
                   r.name << ": " << out.err);
        BOOST_TEST(out.err.find(r.expected) != std::string::npos, r.name << ": " << out.err);
        BOOST_TEST(out.err.find(good) == std::string::npos, r.name << ": " << out.err);
        BOOST_TEST(out.err.find("127.0.0.1:1") == std::string::npos, r.name << ": " << out.err);
    }
    // Nothing was created for the refused runs.
    BOOST_TEST(scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'e2e_bad'") == "0");

    // What a plain run needs, not the work queue: a worker is refused before it plans.
    pg.sql("CREATE ROLE e2e_plain LOGIN PASSWORD 'plain-Pass-3c7'; GRANT USAGE ON SCHEMA e2e_ro "
           "TO e2e_plain; GRANT SELECT, INSERT, UPDATE, DELETE ON e2e_ro.jobs, e2e_ro.runs, "
           "e2e_ro.segments TO e2e_plain; GRANT SELECT ON e2e_ro.schema_version TO e2e_plain");
    const auto worker =
        run({"backfill", "--output", pg.uri("e2e_plain"), "--pg-schema", "e2e_ro", "--worker",
             "--base-url", "https://127.0.0.1:1", "--client-id", "x", "--since", "2025-01-01"},
            {{"DYNJOBS_CLIENT_SECRET", "s"}, {"PGPASSWORD", "plain-Pass-3c7"}}, dir.path());
    BOOST_TEST(worker.how.exit_status == 1, worker.err);
    BOOST_TEST(worker.err.find("may not SELECT, INSERT, UPDATE, DELETE on \"e2e_ro\".work: "
                               "grant it") != std::string::npos,
               worker.err);
    BOOST_TEST(scalar("SELECT count(*) FROM e2e_ro.work") == "0");
}

BOOST_AUTO_TEST_SUITE_END()
