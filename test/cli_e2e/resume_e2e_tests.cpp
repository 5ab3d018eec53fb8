// Crash and interrupt: after kill -9 at random moments, or Ctrl-C, --resume finishes the
// backfill and the output holds every job exactly once.
#include "e2e_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <random>
#include <thread>

using namespace dynjobs;
using namespace dynjobs::e2e;

namespace {

// A simulator slow enough (latency per response) that a backfill takes a few seconds, so that
// signals land in the middle of it.
sim_options slow_sim() {
    return {.organizations = 4, .jobs = 8'000, .seed = 21, .extra = {"--latency-ms", "25"}};
}

std::vector<std::string> backfill_args(const sim_process& sim, const scratch_dir& dir,
                                       const std::string& format, bool resume) {
    std::vector<std::string> args{binary(),
                                  "backfill",
                                  "--format",
                                  format,
                                  "--output",
                                  dir / ("jobs." + format),
                                  "--window",
                                  "30d",
                                  "--page-size",
                                  "50",
                                  "--concurrency",
                                  "4",
                                  "--checkpoint-interval",
                                  "0.02"};
    for (const auto& a : sim.connection())
        args.push_back(a);
    for (const auto& a : range_options())
        args.push_back(a);
    if (resume)
        args.push_back("--resume");
    return args;
}

void kill_at_random_moments_then_finish(const std::string& format, int kills, std::uint64_t seed) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim());
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> delay_ms(5, 700);
    int killed_runs = 0;
    bool finished = false;
    for (int i = 0; i < kills && !finished; ++i) {
        // The same command every time after the first: --resume, whether or not the killed run
        // lived to write a checkpoint.
        child c(backfill_args(sim, dir, format, i > 0), sim_process::secret_env(),
                dir.path() / "bf.stdout", dir.path() / "bf.stderr");
        const auto wait = std::chrono::milliseconds(delay_ms(rng));
        std::this_thread::sleep_for(wait);
        ended how;
        if (c.poll(how)) { // finished before the kill: fine, and it must have succeeded
            BOOST_TEST_REQUIRE(how.exit_status == 0, read_text(dir.path() / "bf.stderr"));
            finished = true;
            break;
        }
        c.signal(SIGKILL);
        how = c.wait();
        BOOST_TEST_MESSAGE("run " << i << " killed after " << wait.count() << " ms");
        ++killed_runs;
    }
    if (!finished) {
        child c(backfill_args(sim, dir, format, true), sim_process::secret_env(),
                dir.path() / "bf.stdout", dir.path() / "bf.stderr");
        const auto how = c.wait();
        BOOST_TEST_REQUIRE(how.exit_status == 0, read_text(dir.path() / "bf.stderr"));
    }
    const auto output = dir.path() / ("jobs." + format);
    const auto written = format == "csv" ? read_csv(output) : read_jsonl(output);
    require_exactly(written, sim.expected(range_start(), range_finish()));
    BOOST_TEST_MESSAGE(format << ": " << killed_runs << " runs killed before the last");
}

} // namespace

BOOST_AUTO_TEST_SUITE(resume_e2e)

BOOST_AUTO_TEST_CASE(jsonl_after_kill_9_at_random_moments) {
    kill_at_random_moments_then_finish("jsonl", 4, std::random_device{}());
}

BOOST_AUTO_TEST_CASE(csv_after_kill_9_at_random_moments) {
    kill_at_random_moments_then_finish("csv", 3, std::random_device{}());
}

BOOST_AUTO_TEST_CASE(ctrl_c_saves_the_checkpoint_exits_130_and_resume_finishes) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim());
    {
        child c(backfill_args(sim, dir, "jsonl", false), sim_process::secret_env(),
                dir.path() / "bf.stdout", dir.path() / "bf.stderr");
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        c.signal(SIGINT);
        const auto how = c.wait();
        const auto err = read_text(dir.path() / "bf.stderr");
        BOOST_TEST_REQUIRE(how.exit_status == 130, err);
        BOOST_TEST(err.find("backfill interrupted") != std::string::npos, err);
        BOOST_TEST(err.find("--resume") != std::string::npos, err);
    }
    // The interrupted output is valid as it stands: whole lines, no duplicate.
    const auto partial = read_jsonl(dir.path() / "jobs.jsonl");
    BOOST_TEST(partial.size() < 8'000u);
    {
        child c(backfill_args(sim, dir, "jsonl", true), sim_process::secret_env(),
                dir.path() / "bf.stdout", dir.path() / "bf.stderr");
        const auto how = c.wait();
        BOOST_TEST_REQUIRE(how.exit_status == 0, read_text(dir.path() / "bf.stderr"));
    }
    require_exactly(read_jsonl(dir.path() / "jobs.jsonl"),
                    sim.expected(range_start(), range_finish()));
}

BOOST_AUTO_TEST_CASE(a_second_ctrl_c_exits_at_once_and_resume_still_finishes) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim());
    {
        child c(backfill_args(sim, dir, "jsonl", false), sim_process::secret_env(),
                dir.path() / "bf.stdout", dir.path() / "bf.stderr");
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        c.signal(SIGINT);
        c.signal(SIGINT);
        const auto how = c.wait();
        BOOST_TEST_REQUIRE(how.exit_status == 130, read_text(dir.path() / "bf.stderr"));
    }
    child c(backfill_args(sim, dir, "jsonl", true), sim_process::secret_env(),
            dir.path() / "bf.stdout", dir.path() / "bf.stderr");
    const auto how = c.wait();
    BOOST_TEST_REQUIRE(how.exit_status == 0, read_text(dir.path() / "bf.stderr"));
    require_exactly(read_jsonl(dir.path() / "jobs.jsonl"),
                    sim.expected(range_start(), range_finish()));
}

BOOST_AUTO_TEST_CASE(resume_with_another_selection_is_refused) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim());
    {
        child c(backfill_args(sim, dir, "jsonl", false), sim_process::secret_env(),
                dir.path() / "bf.stdout", dir.path() / "bf.stderr");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        c.signal(SIGKILL);
        c.wait();
    }
    auto args = backfill_args(sim, dir, "jsonl", true);
    args.erase(args.begin());
    args.push_back("--type");
    args.push_back("restore");
    const auto before = read_text(dir.path() / "jobs.jsonl");
    const auto r = run(args, sim_process::secret_env(), dir.path());
    BOOST_TEST(r.how.exit_status == 1);
    BOOST_TEST(r.err.find("--resume refused") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("--type") != std::string::npos, r.err);
    BOOST_TEST((read_text(dir.path() / "jobs.jsonl") == before), "the output was touched");
}

BOOST_AUTO_TEST_CASE(starting_over_an_unfinished_backfill_needs_resume) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim());
    {
        child c(backfill_args(sim, dir, "jsonl", false), sim_process::secret_env(),
                dir.path() / "bf.stdout", dir.path() / "bf.stderr");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        c.signal(SIGKILL);
        c.wait();
    }
    auto args = backfill_args(sim, dir, "jsonl", false);
    args.erase(args.begin());
    const auto r = run(args, sim_process::secret_env(), dir.path());
    BOOST_TEST(r.how.exit_status == 1);
    BOOST_TEST(r.err.find("add --resume") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_SUITE_END()
