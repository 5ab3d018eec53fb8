// `dynjobs backfill --proxy` against `dynjobs sim` through a real proxy (tinyproxy): the output
// is the dataset and every connection was a tunnel through it; a proxy refusing the credentials
// ends the run at once with exit status 1 and one line. And --extra-ca-file, for users behind a
// TLS-inspecting proxy: trusted beside the system's store.
#include "e2e_fixture.hpp"

#include "tinyproxy.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace dynjobs;
using namespace dynjobs::e2e;

namespace {

constexpr const char* proxy_user = "backfill";

// "127.0.0.1:PORT" of the simulator: what the CONNECT requests name.
std::string authority_of(const sim_process& sim) {
    return sim.base_url().substr(std::string_view("https://").size());
}

std::string proxy_with_user(const testkit::tinyproxy& proxy) {
    return "http://" + std::string(proxy_user) + "@127.0.0.1:" + std::to_string(proxy.port());
}

} // namespace

BOOST_AUTO_TEST_SUITE(proxy_e2e)

BOOST_AUTO_TEST_CASE(a_backfill_through_tinyproxy_is_the_dataset) {
    scratch_dir dir;
    sim_process sim(dir, {.organizations = 3, .jobs = 3'000, .seed = 21, .extra = {}});
    const std::string password = "pr0xy-e2e_4f.1";
    testkit::tinyproxy proxy({.user = proxy_user, .password = password, .connect_ports = {}});
    auto env = sim_process::secret_env();
    env["DYNJOBS_PROXY_PASSWORD"] = password;
    const auto r = run(against(sim, {"backfill", "--output", dir / "jobs.jsonl", "--proxy",
                                     proxy_with_user(proxy), "--stats-json", dir / "stats.json"}),
                       env, dir.path());
    BOOST_TEST_REQUIRE(r.how.exit_status == 0, r.err);
    require_exactly(read_jsonl(dir.path() / "jobs.jsonl"),
                    sim.expected(range_start(), range_finish()));
    // Every connection the command opened was a tunnel through the proxy to the simulator.
    const auto connects = proxy.connects();
    BOOST_TEST_REQUIRE(!connects.empty());
    for (const auto& target : connects)
        BOOST_TEST(target == authority_of(sim));
    const auto stats = boost::json::parse(read_text(dir.path() / "stats.json")).as_object();
    BOOST_TEST(stats.at("connectionsOpened").to_number<std::size_t>() == connects.size());
    BOOST_TEST(r.err.find(password) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_proxy_refusing_the_credentials_exits_1_with_one_line) {
    scratch_dir dir;
    sim_process sim(dir, {.organizations = 1, .jobs = 100, .seed = 3, .extra = {}});
    testkit::tinyproxy proxy(
        {.user = proxy_user, .password = "right-pr0xy-pw", .connect_ports = {}});
    auto env = sim_process::secret_env();
    env["DYNJOBS_PROXY_PASSWORD"] = "wrong-pr0xy-pw";
    const auto r = run(against(sim, {"backfill", "--output", dir / "jobs.jsonl", "--proxy",
                                     proxy_with_user(proxy)}),
                       env, dir.path());
    BOOST_TEST(r.how.exit_status == 1, r.err);
    BOOST_TEST(r.err == "dynjobs: token request to " + sim.base_url() +
                            "/connect/token failed: proxy " + proxy.url() +
                            " did not open a tunnel to " + authority_of(sim) +
                            ": it answered 401 to CONNECT: it refused the credentials sent\n");
    BOOST_TEST(proxy.connects().size() == 1u, "the refused request was sent again");
}

BOOST_AUTO_TEST_CASE(extra_ca_file_trusts_the_simulator_beside_the_system_store) {
    scratch_dir dir;
    sim_process sim(dir, {.organizations = 1, .jobs = 300, .seed = 9, .extra = {}});
    const auto backfill = [&](const std::string& output, std::vector<std::string> trust) {
        std::vector<std::string> args{"backfill",          "--output",     dir / output,
                                      "--base-url",        sim.base_url(), "--client-id",
                                      "dynjobs-sim-client"};
        args.insert(args.end(), trust.begin(), trust.end());
        for (const auto& a : range_options())
            args.push_back(a);
        return run(args, sim_process::secret_env(), dir.path());
    };
    const auto trusted = backfill("trusted.jsonl", {"--extra-ca-file", sim.ca_file()});
    BOOST_TEST_REQUIRE(trusted.how.exit_status == 0, trusted.err);
    require_exactly(read_jsonl(dir.path() / "trusted.jsonl"),
                    sim.expected(range_start(), range_finish()));
    // The system's store alone refuses the simulator's certificate: the extra file made it.
    const auto system_only = backfill("system-only.jsonl", {});
    BOOST_TEST(system_only.how.exit_status != 0);
    BOOST_TEST(system_only.err.find("certificate verify failed") != std::string::npos,
               system_only.err);
}

BOOST_AUTO_TEST_SUITE_END()
