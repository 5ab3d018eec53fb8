// `dynjobs backfill --shard`: N processes started with one command line (as a Kubernetes Indexed
// Job starts them, each with its JOB_COMPLETION_INDEX) split a run between them; together their
// files are exactly the dataset, each shard about 1/N of the pages, and a shard killed midway
// finishes alone with --resume.
#include "e2e_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <memory>
#include <thread>

using namespace dynjobs;
using namespace dynjobs::e2e;

namespace {

constexpr int shard_count = 3;

std::vector<std::string> shard_args(const sim_process& sim, const scratch_dir& dir) {
    return against(sim, {"backfill", "--shard", "auto/" + std::to_string(shard_count), "--output",
                         dir / "jobs-{shard}.jsonl", "--stats-json", dir / "stats-{shard}.json",
                         "--window", "7d", "--page-size", "20"});
}

std::map<std::string, std::string> env_of_shard(int index) {
    auto env = sim_process::secret_env();
    env["JOB_COMPLETION_INDEX"] = std::to_string(index);
    return env;
}

std::string shard_file(const scratch_dir& dir, const std::string& stem, int index,
                       const std::string& ext) {
    return dir / (stem + "-" + std::to_string(index) + ext);
}

} // namespace

BOOST_AUTO_TEST_SUITE(shards)

BOOST_AUTO_TEST_CASE(three_shards_of_one_command_line_are_the_dataset_in_balanced_parts) {
    scratch_dir dir;
    sim_process sim(dir, {.organizations = 5, .jobs = 6'000, .seed = 31, .extra = {}});
    std::vector<std::unique_ptr<child>> shards;
    std::vector<std::string> args{binary()};
    for (auto& a : shard_args(sim, dir))
        args.push_back(std::move(a));
    for (int i = 0; i < shard_count; ++i)
        shards.push_back(std::make_unique<child>(args, env_of_shard(i),
                                                 shard_file(dir, "shard", i, ".stdout"),
                                                 shard_file(dir, "shard", i, ".stderr")));
    std::vector<job> all;
    std::vector<double> pages;
    for (int i = 0; i < shard_count; ++i) {
        BOOST_TEST_REQUIRE(shards[i]->wait().exit_status == 0,
                           read_text(shard_file(dir, "shard", i, ".stderr")));
        const auto written = read_jsonl(shard_file(dir, "jobs", i, ".jsonl"));
        BOOST_TEST(!written.empty());
        all.insert(all.end(), written.begin(), written.end());
        const auto stats =
            boost::json::parse(read_text(shard_file(dir, "stats", i, ".json"))).as_object();
        pages.push_back(static_cast<double>(stats.at("pagesDone").as_int64()));
    }
    // No job in two shards, none missing.
    require_exactly(all, sim.expected(range_start(), range_finish()));
    const auto [fewest, most] = std::minmax_element(pages.begin(), pages.end());
    BOOST_TEST_MESSAGE("pages per shard: " << pages[0] << ", " << pages[1] << ", " << pages[2]);
    BOOST_TEST(*most <= *fewest * 1.10, "shards unbalanced: " << *fewest << " .. " << *most);
}

BOOST_AUTO_TEST_CASE(a_shard_killed_midway_finishes_alone_with_resume) {
    scratch_dir dir;
    sim_process sim(
        dir, {.organizations = 5, .jobs = 6'000, .seed = 31, .extra = {"--latency-ms", "40"}});
    std::vector<std::string> args{binary()};
    for (auto& a : shard_args(sim, dir))
        args.push_back(std::move(a));
    args.insert(args.end(), {"--concurrency", "2", "--checkpoint-interval", "0.05"});
    {
        child c(args, env_of_shard(1), dir.path() / "killed.stdout", dir.path() / "killed.stderr");
        std::this_thread::sleep_for(std::chrono::milliseconds(800));
        c.signal(SIGKILL);
        BOOST_TEST_REQUIRE(c.wait().signal == SIGKILL, read_text(dir.path() / "killed.stderr"));
    }
    args.erase(args.begin());
    args.push_back("--resume");
    const auto resumed = run(args, env_of_shard(1), dir.path());
    BOOST_TEST_REQUIRE(resumed.how.exit_status == 0, resumed.err);
    BOOST_TEST(resumed.err.find("resuming") != std::string::npos, resumed.err);
    // The other shards, without resume.
    args.pop_back();
    for (int i : {0, 2}) {
        const auto r = run(args, env_of_shard(i), dir.path());
        BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    }
    std::vector<job> all;
    for (int i = 0; i < shard_count; ++i) {
        const auto written = read_jsonl(shard_file(dir, "jobs", i, ".jsonl"));
        all.insert(all.end(), written.begin(), written.end());
    }
    require_exactly(all, sim.expected(range_start(), range_finish()));
}

BOOST_AUTO_TEST_SUITE_END()
