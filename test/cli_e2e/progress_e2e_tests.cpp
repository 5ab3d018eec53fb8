// What the operator sees: an updating progress line on a terminal, nothing extra otherwise.
#include "e2e_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <fcntl.h>
#include <pty.h>
#include <unistd.h>

using namespace dynjobs;
using namespace dynjobs::e2e;

namespace {

// A pseudo-terminal whose slave side the child gets as stderr.
class pseudo_terminal {
public:
    pseudo_terminal() {
        char name[256] = {};
        BOOST_TEST_REQUIRE(::openpty(&master_, &slave_, name, nullptr, nullptr) == 0);
        name_ = name;
        ::fcntl(master_, F_SETFL, O_NONBLOCK);
    }
    ~pseudo_terminal() {
        ::close(master_);
        ::close(slave_);
    }
    const std::string& slave_name() const { return name_; }
    std::string drain() {
        std::string out;
        char buffer[4096];
        for (;;) {
            const auto n = ::read(master_, buffer, sizeof buffer);
            if (n <= 0)
                return out;
            out.append(buffer, static_cast<std::size_t>(n));
        }
    }

private:
    int master_ = -1;
    int slave_ = -1;
    std::string name_;
};

std::vector<std::string> slow_backfill(const sim_process& sim, const scratch_dir& dir) {
    return against(sim,
                   {binary(), "backfill", "--output", dir / "jobs.jsonl", "--concurrency", "2"});
}

} // namespace

BOOST_AUTO_TEST_SUITE(progress_e2e)

BOOST_AUTO_TEST_CASE(a_terminal_gets_one_line_redrawn_in_place) {
    scratch_dir dir;
    sim_process sim(
        dir, {.organizations = 2, .jobs = 3'000, .seed = 9, .extra = {"--latency-ms", "20"}});
    pseudo_terminal tty;
    std::string seen;
    {
        child c(slow_backfill(sim, dir), sim_process::secret_env(), dir.path() / "bf.stdout",
                tty.slave_name());
        ended how;
        while (!c.poll(how)) // keep the terminal drained so the child never blocks on it
            seen += tty.drain();
        BOOST_TEST_REQUIRE(how.exit_status == 0, seen);
    }
    seen += tty.drain();
    BOOST_TEST(seen.find("\rpages ") != std::string::npos, seen);
    BOOST_TEST(seen.find("jobs/s") != std::string::npos, seen);
    BOOST_TEST(seen.find("\x1b[K") != std::string::npos, "the line is not cleared as redrawn");
    BOOST_TEST(seen.find("backfill complete") != std::string::npos, seen);
}

BOOST_AUTO_TEST_CASE(not_a_terminal_gets_the_summary_only_and_quiet_gets_nothing) {
    scratch_dir dir;
    sim_process sim(dir, {.organizations = 2, .jobs = 1'000, .seed = 9, .extra = {}});
    auto args = slow_backfill(sim, dir);
    args.erase(args.begin());
    const auto normal = run(args, sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(normal.how.exit_status == 0, normal.err);
    BOOST_TEST(normal.err.find("pages ") != std::string::npos); // in the summary
    BOOST_TEST(normal.err.find('\r') == std::string::npos, "progress redrawn on a non-terminal");
    args.push_back("--quiet");
    std::filesystem::remove(dir.path() / "jobs.jsonl");
    const auto quiet = run(args, sim_process::secret_env(), dir.path());
    BOOST_TEST_REQUIRE(quiet.how.exit_status == 0, quiet.err);
    BOOST_TEST(quiet.err.empty(), "--quiet printed: " << quiet.err);
}

BOOST_AUTO_TEST_SUITE_END()
