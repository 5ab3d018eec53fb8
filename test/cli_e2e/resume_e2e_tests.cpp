// Crash and interrupt: after kill -9 at random moments, or Ctrl-C, --resume finishes the
// backfill and the output holds every job exactly once.
#include "e2e_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <functional>
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
    args = against(sim, std::move(args));
    if (resume)
        args.push_back("--resume");
    return args;
}

struct stopped {
    ended how;
    std::string err;
};

// Starts a backfill; when there are `signals`, waits for `moment` and sends them (unless it
// ended first); then waits for its end.
stopped run_backfill(const sim_process& sim, const scratch_dir& dir, const std::string& format,
                     bool resume, const std::function<void()>& moment,
                     const std::vector<int>& signals) {
    child c(backfill_args(sim, dir, format, resume), sim_process::secret_env(),
            dir.path() / "bf.stdout", dir.path() / "bf.stderr");
    stopped out;
    if (!signals.empty()) {
        moment();
        for (int sig : signals)
            c.signal(sig);
    }
    out.how = c.wait();
    out.err = read_text(dir.path() / "bf.stderr");
    return out;
}

// Starts a backfill and, unless it ends first, sends it `signals` after `after`.
stopped run_backfill(const sim_process& sim, const scratch_dir& dir, const std::string& format,
                     bool resume, std::chrono::milliseconds after = {},
                     const std::vector<int>& signals = {}) {
    return run_backfill(
        sim, dir, format, resume, [after] { std::this_thread::sleep_for(after); }, signals);
}

// Starts a backfill and sends it `signals` once it has a checkpoint on disk and has written
// jobs (so its signal handler is in place): mid-run, however slowly the process starts. A fixed
// delay was not enough: an AddressSanitizer build on a busy machine had written nothing 200 ms
// after its start, and the run after it then began afresh instead of being refused.
stopped signal_after_its_first_checkpoint(const sim_process& sim, const scratch_dir& dir,
                                          const std::vector<int>& signals) {
    const auto checkpoint = dir.path() / "jobs.jsonl.checkpoint";
    const auto output = dir.path() / "jobs.jsonl";
    const auto mid_run = [&] {
        std::error_code ec;
        return std::filesystem::exists(checkpoint) && std::filesystem::file_size(output, ec) > 0 &&
               !ec;
    };
    return run_backfill(
        sim, dir, "jsonl", false,
        [&] {
            for (int i = 0; i < 3000 && !mid_run(); ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            BOOST_TEST_REQUIRE(mid_run());
        },
        signals);
}

// An unfinished backfill, killed with SIGKILL, to start again.
void kill_after_its_first_checkpoint(const sim_process& sim, const scratch_dir& dir) {
    const auto killed = signal_after_its_first_checkpoint(sim, dir, {SIGKILL});
    BOOST_TEST_REQUIRE(killed.how.signal == SIGKILL,
                       "the backfill ended before it was killed: " << killed.err);
}

void kill_at_random_moments_then_finish(const std::string& format, int kills, std::uint64_t seed) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim());
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> delay_ms(5, 700);
    for (int i = 0; i < kills; ++i) {
        // The same command every time after the first: --resume, whether or not the killed run
        // lived to write a checkpoint.
        const auto after = std::chrono::milliseconds(delay_ms(rng));
        const auto r = run_backfill(sim, dir, format, i > 0, after, {SIGKILL});
        if (r.how.signal != SIGKILL) { // it finished before the kill: it must have succeeded
            BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
            break;
        }
        BOOST_TEST_MESSAGE(format << " run " << i << " killed after " << after.count() << " ms");
    }
    const auto last = run_backfill(sim, dir, format, true);
    BOOST_TEST_REQUIRE(last.how.exit_status == 0, last.err);
    const auto output = dir.path() / ("jobs." + format);
    const auto written = format == "csv" ? read_csv(output) : read_jsonl(output);
    require_exactly(written, sim.expected(range_start(), range_finish()));
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
    const auto stopped = signal_after_its_first_checkpoint(sim, dir, {SIGINT});
    BOOST_TEST_REQUIRE(stopped.how.exit_status == 130, stopped.err);
    BOOST_TEST(stopped.err.find("backfill interrupted") != std::string::npos, stopped.err);
    BOOST_TEST(stopped.err.find("--resume") != std::string::npos, stopped.err);
    // The interrupted output is valid as it stands: whole lines, no duplicate.
    BOOST_TEST(read_jsonl(dir.path() / "jobs.jsonl").size() < 8'000u);
    const auto resumed = run_backfill(sim, dir, "jsonl", true);
    BOOST_TEST_REQUIRE(resumed.how.exit_status == 0, resumed.err);
    require_exactly(read_jsonl(dir.path() / "jobs.jsonl"),
                    sim.expected(range_start(), range_finish()));
}

BOOST_AUTO_TEST_CASE(a_second_ctrl_c_exits_at_once_and_resume_still_finishes) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim());
    const auto stopped = signal_after_its_first_checkpoint(sim, dir, {SIGINT, SIGINT});
    BOOST_TEST_REQUIRE(stopped.how.exit_status == 130, stopped.err);
    const auto resumed = run_backfill(sim, dir, "jsonl", true);
    BOOST_TEST_REQUIRE(resumed.how.exit_status == 0, resumed.err);
    require_exactly(read_jsonl(dir.path() / "jobs.jsonl"),
                    sim.expected(range_start(), range_finish()));
}

BOOST_AUTO_TEST_CASE(resume_with_another_selection_is_refused) {
    scratch_dir dir;
    sim_process sim(dir, slow_sim());
    kill_after_its_first_checkpoint(sim, dir);
    auto args = backfill_args(sim, dir, "jsonl", true);
    args.erase(args.begin());
    args.insert(args.end(), {"--type", "restore"});
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
    kill_after_its_first_checkpoint(sim, dir);
    auto args = backfill_args(sim, dir, "jsonl", false);
    args.erase(args.begin());
    const auto r = run(args, sim_process::secret_env(), dir.path());
    BOOST_TEST(r.how.exit_status == 1);
    BOOST_TEST(r.err.find("add --resume") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_SUITE_END()
