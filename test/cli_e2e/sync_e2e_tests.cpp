// `dynjobs sync` against a simulator run by the test itself (so the test can let running jobs
// finish between two cycles) and a real PostgreSQL 15 cluster: two --once cycles leave the
// output equal to the dataset with each changed job updated once (PostgreSQL) or appended once
// more (JSONL); a long-running sync serves metrics that parse and grow, turns ready, and stops
// on SIGTERM within 10 s with status 0.
#include "pg_fixture.hpp"
#include "sink/pg/sql.hpp"

#include <dynjobs/sim/simulator.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace dynjobs;
using namespace dynjobs::e2e;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// A simulator whose dataset ends a minute before the wall clock: its jobs still running at the
// end are running "now", and a sync's range [since, now) covers them all.
class live_simulator {
public:
    explicit live_simulator(const scratch_dir& dir) {
        sim::sim_config config;
        config.cert_dir = dir.path() / "sim-certs";
        config.dataset.seed = 11;
        config.dataset.organizations = 3;
        config.dataset.jobs = 600;
        end_ = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) -
               std::chrono::minutes(1);
        config.dataset.end = end_;
        config.dataset.begin = end_ - std::chrono::hours(24);
        sim_.emplace(io_.get_executor(), config);
        BOOST_TEST_REQUIRE(!sim_->start());
        thread_ = std::thread([this] { io_.run(); });
    }
    ~live_simulator() {
        sim_->stop();
        work_.reset();
        thread_.join();
    }
    live_simulator(const live_simulator&) = delete;
    live_simulator& operator=(const live_simulator&) = delete;

    timestamp end() const { return end_; }
    sim::simulator& server() { return *sim_; }

    /// Every job of the dataset as the API serves it now.
    std::vector<job> jobs() const {
        sim::filter f;
        f.start = sim_->config().dataset.begin;
        f.finish = end_;
        return sim_->select(f);
    }

    /// `dynjobs sync ARGS...` against this simulator, from the dataset's start.
    std::vector<std::string> sync_args(std::vector<std::string> args) const {
        std::vector<std::string> out{"sync",
                                     "--base-url",
                                     sim_->base_url(),
                                     "--client-id",
                                     std::string(sim::default_client_id),
                                     "--ca-file",
                                     sim_->ca_file().string(),
                                     "--since",
                                     format_iso8601(sim_->config().dataset.begin)};
        out.insert(out.end(), args.begin(), args.end());
        return out;
    }

private:
    asio::io_context io_{1};
    asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
    std::optional<sim::simulator> sim_;
    std::thread thread_;
    timestamp end_{};
};

std::size_t running(const std::vector<job>& jobs) {
    return static_cast<std::size_t>(std::ranges::count_if(
        jobs, [](const job& j) { return j.status == job_status::in_progress; }));
}

// job_id -> "xmin|last_changed" of every row.
std::map<std::string, std::string> row_versions(const std::string& schema) {
    std::map<std::string, std::string> out;
    std::istringstream lines(
        cluster().sql("SELECT job_id, xmin::text || '|' || last_changed FROM " + schema + ".jobs"));
    for (std::string line; std::getline(lines, line);) {
        const auto bar = line.find('|');
        out[line.substr(0, bar)] = line.substr(bar + 1);
    }
    return out;
}

// The jobs the simulator's clock moving on finished: running at the first cycle, and finished
// by end + 7 h (most of the dataset's jobs run for less).
std::set<std::string> finish_some(live_simulator& sim) {
    std::set<std::string> ids;
    for (const auto& j : sim.server().finish_running_jobs(sim.end() + std::chrono::hours(7)))
        ids.insert(j.job_id);
    BOOST_TEST_REQUIRE(!ids.empty(), "no running job finished: pick another seed");
    return ids;
}

// A loopback port nothing listens on now (bound, read, closed): for --listen.
unsigned short free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

// GET http://127.0.0.1:PORT/TARGET: the status and the body; status 0 when nothing answers.
std::pair<unsigned, std::string> get(unsigned short port, const std::string& target) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    boost::system::error_code ec;
    stream.socket().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec)
        return {0, {}};
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return {res.result_int(), res.body()};
}

// One scrape, checked against the text exposition format as Prometheus reads it: valid names,
// a # TYPE line before its family's samples, counters named _total. Returns sample -> value,
// and the counter samples in `counters`.
std::map<std::string, double> parse_exposition(const std::string& text,
                                               std::set<std::string>& counters) {
    static const std::regex name("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static const std::regex type_line("# TYPE ([^ ]+) (counter|gauge|histogram|summary|untyped)");
    static const std::regex sample("([^{ ]+)(\\{[^}]*\\})? ([^ ]+)");
    std::map<std::string, std::string> types;
    std::map<std::string, double> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (line.starts_with("# HELP "))
            continue;
        if (line.starts_with("# TYPE ")) {
            BOOST_TEST_REQUIRE(std::regex_match(line, m, type_line), line);
            BOOST_TEST(std::regex_match(m[1].str(), name), line);
            BOOST_TEST(types.emplace(m[1].str(), m[2].str()).second, "two TYPE lines: " << line);
            if (m[2] == "counter")
                BOOST_TEST(m[1].str().ends_with("_total"), line);
            continue;
        }
        BOOST_TEST_REQUIRE(std::regex_match(line, m, sample), line);
        const auto metric = m[1].str();
        BOOST_TEST(std::regex_match(metric, name), line);
        // A histogram's samples are its family's name with a suffix.
        std::string family = metric;
        for (const char* suffix : {"_bucket", "_sum", "_count"})
            if (!types.contains(family) && family.ends_with(suffix))
                family = family.substr(0, family.size() - std::string_view(suffix).size());
        BOOST_TEST_REQUIRE(types.contains(family), "sample before its # TYPE: " << line);
        const auto key = metric + m[2].str();
        out[key] = std::stod(m[3].str());
        if (types.at(family) == "counter")
            counters.insert(key);
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sync_e2e)

BOOST_AUTO_TEST_CASE(two_postgresql_cycles_update_exactly_the_jobs_that_finished) {
    scratch_dir dir;
    live_simulator sim(dir);
    BOOST_TEST_REQUIRE(running(sim.jobs()) > 0u);
    // A schema as version 1 left it (before sync_state and work): the first sync migrates it.
    const auto init = run({"db", "init", "--output", cluster().uri(), "--pg-schema", "e2e_sync"},
                          env_with_password(), dir.path());
    BOOST_TEST_REQUIRE(init.how.exit_status == 0, init.err);
    cluster().sql("DROP TABLE e2e_sync.sync_state; DROP TABLE e2e_sync.work; DELETE FROM "
                  "e2e_sync.schema_version; INSERT INTO e2e_sync.schema_version (version) VALUES "
                  "(1)");
    const auto args =
        sim.sync_args({"--once", "--output", cluster().uri(), "--pg-schema", "e2e_sync"});
    const auto first = run(args, env_with_password(), dir.path());
    BOOST_TEST_REQUIRE(first.how.exit_status == 0, first.err);
    BOOST_TEST(scalar("SELECT max(version) FROM e2e_sync.schema_version") ==
               std::to_string(sink::pg::schema_version));
    BOOST_TEST(scalar("SELECT to_regclass('e2e_sync.work') IS NOT NULL") == "t");
    require_exactly(read_jobs("e2e_sync", dir), sim.jobs());
    const auto before = row_versions("e2e_sync");

    const auto finished = finish_some(sim);
    // The wall clock has moved by seconds: the second cycle's lookback (2 days back of the
    // first cycle's end) covers the whole day of data again.
    const auto second = run(args, env_with_password(), dir.path());
    BOOST_TEST_REQUIRE(second.how.exit_status == 0, second.err);
    require_exactly(read_jobs("e2e_sync", dir), sim.jobs());
    const auto after = row_versions("e2e_sync");
    BOOST_TEST_REQUIRE(after.size() == before.size());
    std::set<std::string> rewritten;
    for (const auto& [id, version] : after)
        if (before.at(id) != version)
            rewritten.insert(id);
    // xmin and last_changed moved on exactly the finished jobs; no other row was written.
    BOOST_TEST((rewritten == finished));
    BOOST_TEST(scalar("SELECT count(*) FROM e2e_sync.jobs WHERE last_changed > first_seen") ==
               std::to_string(finished.size()));
    const auto counts = " upserted " + std::to_string(finished.size()) + " changed " +
                        std::to_string(finished.size()) + " ";
    BOOST_TEST(second.err.find(counts) != std::string::npos, second.err);
    BOOST_TEST(scalar("SELECT count(*) FROM e2e_sync.sync_state") == "1");
    BOOST_TEST(scalar("SELECT count(*) FROM e2e_sync.segments") == "0");
    const auto status =
        run({"db", "status", "--output", cluster().uri(), "--pg-schema", "e2e_sync"},
            env_with_password(), dir.path());
    BOOST_TEST(status.out.find("syncs 1\n") != std::string::npos, status.out);
    BOOST_TEST(second.err.find(testkit::pg_cluster::writer_password) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(two_jsonl_cycles_append_each_finished_job_once_more) {
    scratch_dir dir;
    live_simulator sim(dir);
    const auto args = sim.sync_args({"--once", "--output", dir / "jobs.jsonl"});
    const auto first = run(args, sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(first.how.exit_status == 0, first.err);
    require_exactly(read_jsonl(dir / "jobs.jsonl"), sim.jobs());

    // A crash in the middle of a line (after the state was written): the next start cuts the
    // file back to what the state covers.
    std::ofstream(dir / "jobs.jsonl", std::ios::app) << "{\"jobId\":\"torn";
    const auto finished = finish_some(sim);
    const auto second = run(args, sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(second.how.exit_status == 0, second.err);
    const auto lines = read_jsonl(dir / "jobs.jsonl");
    std::map<std::string, job> last;
    std::map<std::string, int> times;
    for (const auto& j : lines) {
        last.insert_or_assign(j.job_id, j);
        ++times[j.job_id];
    }
    BOOST_TEST(lines.size() == sim.jobs().size() + finished.size());
    for (const auto& [id, n] : times)
        BOOST_TEST(n == (finished.contains(id) ? 2 : 1), id);
    std::vector<job> latest;
    for (auto& [id, j] : last)
        latest.push_back(j);
    require_exactly(latest, sim.jobs());

    // A third cycle with nothing new appends nothing.
    const auto third = run(args, sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(third.how.exit_status == 0, third.err);
    BOOST_TEST(read_jsonl(dir / "jobs.jsonl").size() == lines.size());
}

// The output's file system refuses a write part-way (a file size limit standing in for a full
// disk; a soft limit, so that an unprivileged test can lift it): the cycle fails and the
// service goes on. Once there is room again, the next cycle
// leaves the file whole: no torn line, every job once, none forgotten.
BOOST_AUTO_TEST_CASE(a_write_refused_part_way_fails_the_cycle_and_the_next_leaves_the_file_whole) {
    scratch_dir dir;
    live_simulator sim(dir);
    std::vector<std::string> argv{"/usr/bin/prlimit", "--fsize=40000:unlimited", binary()};
    for (auto& a : sim.sync_args({"--every", "1s", "--output", dir / "jobs.jsonl"}))
        argv.push_back(std::move(a));
    child sync(argv, sim_process::secret_env(), dir / "sync.stdout", dir / "sync.stderr");
    const auto wait_for = [&](const std::string& text) {
        for (int i = 0; i < 300; ++i) {
            if (read_text(dir / "sync.stderr").find(text) != std::string::npos)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    };
    BOOST_TEST_REQUIRE(wait_for(" error cycle failed "), read_text(dir / "sync.stderr"));
    BOOST_TEST(read_text(dir / "sync.stderr").find("File too large") != std::string::npos,
               read_text(dir / "sync.stderr"));
    BOOST_TEST(std::filesystem::file_size(dir / "jobs.jsonl") <= 40'000u);

    child room(
        {"/usr/bin/prlimit", "--pid", std::to_string(sync.pid()), "--fsize=unlimited:unlimited"},
        {}, dir / "prlimit.stdout", dir / "prlimit.stderr");
    BOOST_TEST_REQUIRE(room.wait(std::chrono::seconds(30)).exit_status == 0,
                       read_text(dir / "prlimit.stderr"));
    BOOST_TEST_REQUIRE(wait_for(" info cycle ok "), read_text(dir / "sync.stderr"));
    sync.signal(SIGTERM);
    BOOST_TEST_REQUIRE(sync.wait(std::chrono::seconds(30)).exit_status == 0);
    // Nothing changed between the cycles: each job's one line, exactly the dataset.
    require_exactly(read_jsonl(dir / "jobs.jsonl"), sim.jobs());
}

BOOST_AUTO_TEST_CASE(a_running_sync_serves_growing_metrics_turns_ready_and_stops_on_sigterm) {
    scratch_dir dir;
    live_simulator sim(dir);
    const auto port = free_port();
    const auto args =
        sim.sync_args({"--every", "1s", "--listen", "127.0.0.1:" + std::to_string(port), "--output",
                       dir / "jobs.jsonl", "--log-format", "json"});
    std::vector<std::string> argv{binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    child sync(argv, sim_process::secret_env(), dir / "sync.stdout", dir / "sync.stderr");

    // Ready once a cycle succeeded (bounded: a broken start must fail, not hang).
    unsigned ready = 0;
    for (int i = 0; i < 300 && ready != 200; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ready = get(port, "/readyz").first;
    }
    BOOST_TEST_REQUIRE(ready == 200u, read_text(dir / "sync.stderr"));
    BOOST_TEST(get(port, "/healthz").first == 200u);

    std::set<std::string> counters;
    const auto success = "dynjobs_cycles_total{result=\"success\"}";
    const auto first = parse_exposition(get(port, "/metrics").second, counters);
    BOOST_TEST_REQUIRE(first.contains(success));
    BOOST_TEST(first.at("dynjobs_jobs_upserted_total") == double(sim.jobs().size()));
    BOOST_TEST(first.contains("dynjobs_http_requests_total{code=\"200\"}"));
    BOOST_TEST(first.contains("dynjobs_cycle_duration_seconds_count"));
    BOOST_TEST(first.at("dynjobs_high_water_mark_lag_seconds") >= 0);
    std::map<std::string, double> second;
    for (int i = 0; i < 100; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        second = parse_exposition(get(port, "/metrics").second, counters);
        if (second.at(success) > first.at(success))
            break;
    }
    BOOST_TEST(second.at(success) > first.at(success));
    for (const auto& key : counters)
        if (first.contains(key))
            BOOST_TEST(second.at(key) >= first.at(key), key);

    const auto stop = std::chrono::steady_clock::now();
    sync.signal(SIGTERM);
    const auto how = sync.wait(std::chrono::seconds(30));
    BOOST_TEST(how.exit_status == 0);
    BOOST_TEST((std::chrono::steady_clock::now() - stop < std::chrono::seconds(10)));
    // The log: one JSON object per line, cycles at info.
    const auto log = read_text(dir / "sync.stderr");
    BOOST_TEST(log.find("{\"time\":") == 0u, log);
    BOOST_TEST(log.find("\"result\":\"success\"") != std::string::npos, log);
    BOOST_TEST(log.find(std::string(sim::default_client_secret)) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(refused_credentials_fail_each_cycle_and_the_service_keeps_going) {
    scratch_dir dir;
    live_simulator sim(dir);
    const std::map<std::string, std::string> wrong{{"DYNJOBS_CLIENT_SECRET", "not-the-secret"}};
    // --once: the cycle's failure is the exit status (3: authentication).
    const auto once =
        run(sim.sync_args({"--once", "--output", dir / "once.jsonl"}), wrong, dir.path());
    BOOST_TEST(once.how.exit_status == 3, once.err);
    BOOST_TEST(once.err.find(" error authentication failed: ") != std::string::npos, once.err);
    BOOST_TEST(once.err.find(" error cycle failed ") != std::string::npos, once.err);
    BOOST_TEST(once.err.find("not-the-secret") == std::string::npos, once.err);

    // As a service: cycle after cycle fails, is counted, and the service stays up, not ready.
    const auto port = free_port();
    std::vector<std::string> argv{binary()};
    for (auto& a : sim.sync_args({"--every", "1s", "--listen", "127.0.0.1:" + std::to_string(port),
                                  "--output", dir / "jobs.jsonl"}))
        argv.push_back(std::move(a));
    child sync(argv, wrong, dir / "sync.stdout", dir / "sync.stderr");
    const auto failures = "dynjobs_cycles_total{result=\"failure\"}";
    std::map<std::string, double> metrics;
    std::set<std::string> counters;
    for (int i = 0; i < 100; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const auto [status, body] = get(port, "/metrics");
        if (status != 200)
            continue;
        metrics = parse_exposition(body, counters);
        if (metrics.contains(failures) && metrics.at(failures) >= 2)
            break;
    }
    BOOST_TEST_REQUIRE(metrics.contains(failures), read_text(dir / "sync.stderr"));
    BOOST_TEST(metrics.at(failures) >= 2);
    BOOST_TEST(get(port, "/readyz").first == 503u);
    BOOST_TEST(get(port, "/healthz").first == 200u);
    sync.signal(SIGTERM);
    BOOST_TEST(sync.wait(std::chrono::seconds(30)).exit_status == 0);
}

BOOST_AUTO_TEST_CASE(a_database_away_past_pg_retry_for_fails_cycles_until_it_is_back) {
    scratch_dir dir;
    live_simulator sim(dir);
    std::vector<std::string> argv{binary()};
    for (auto& a : sim.sync_args({"--every", "1s", "--output", cluster().uri(), "--pg-schema",
                                  "e2e_sync_down", "--pg-retry-for", "1"}))
        argv.push_back(std::move(a));
    child sync(argv, env_with_password(), dir / "sync.stdout", dir / "sync.stderr");
    const auto count = [&](const std::string& text) {
        const auto log = read_text(dir / "sync.stderr");
        std::size_t n = 0;
        for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1))
            ++n;
        return n;
    };
    // Waits (bounded) until the log holds `text` `times` times.
    const auto wait_for = [&](const std::string& text, std::size_t times) {
        for (int i = 0; i < 300 && count(text) < times; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return count(text) >= times;
    };
    BOOST_TEST_REQUIRE(wait_for(" info cycle ok ", 1), read_text(dir / "sync.stderr"));
    {
        server_back_up guard;
        cluster().stop();
        BOOST_TEST_REQUIRE(wait_for(" error cycle failed ", 1), read_text(dir / "sync.stderr"));
        ended how;
        BOOST_TEST_REQUIRE(!sync.poll(how), "sync ended while the database was away");
    }
    // Back: the next cycle reconnects and succeeds.
    BOOST_TEST(wait_for(" info cycle ok ", count(" info cycle ok ") + 1),
               read_text(dir / "sync.stderr"));
    const auto log = read_text(dir / "sync.stderr");
    BOOST_TEST(log.find("stayed unreachable") != std::string::npos, log);
    BOOST_TEST(log.find(testkit::pg_cluster::writer_password) == std::string::npos);
    sync.signal(SIGTERM);
    BOOST_TEST(sync.wait(std::chrono::seconds(30)).exit_status == 0);
    require_exactly(read_jobs("e2e_sync_down", dir), sim.jobs());
}

BOOST_AUTO_TEST_SUITE_END()
