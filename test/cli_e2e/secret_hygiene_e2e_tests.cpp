// Secrets stay secret: a backfill with verbose logging, token renewals, revoked tokens and
// failing pages writes neither the client secret, nor the private key, nor any access token
// into anything it emits: stderr, stdout, output, checkpoint, stats.
#include "e2e_fixture.hpp"

#include "../unit/auth_test_material.hpp"

#include <dynjobs/sim/simulator.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

using namespace dynjobs;
using namespace dynjobs::e2e;

namespace {

constexpr const char* client_id = "hygiene-client";
constexpr const char* client_secret = "s3cr3t-hygiene-5b0c9e1d7a";

// The simulator in this process, so that the test sees every token it issues.
class observed_simulator {
public:
    explicit observed_simulator(const scratch_dir& dir) {
        sim::sim_config config;
        config.cert_dir = dir.path() / "sim-certs";
        config.dataset.seed = 13;
        config.dataset.organizations = 3;
        config.dataset.jobs = 4'000;
        config.latency = std::chrono::milliseconds(5);
        // Tokens are not sent in their last 10 s (expiry_safety): 12 s tokens are renewed
        // every couple of seconds.
        config.token_lifetime = std::chrono::seconds(12);
        config.clients = {{client_id, client_secret, auth_test::shared_rsa().cert_pem, {}}};
        // Every fault kind, revoked tokens included, on a fifth of the job requests; and one
        // page that always fails, so that failures with URLs and bodies are reported. Not the
        // slow kinds (delay, trickle: a trickled page takes over a minute): they add time, and
        // nothing that could leak.
        std::erase_if(config.faults.kinds, [](sim::fault_kind k) {
            return k == sim::fault_kind::delay_first_byte || k == sim::fault_kind::trickle_body;
        });
        config.faults.rate = 0.2;
        config.faults.seed = 5;
        config.faults.schedule.push_back(*sim::parse_fault_rule("page=3,times=0:500", error_));
        // Revocations at known moments, first in the schedule (the first matching rule wins):
        // new tokens whatever else the request draws.
        for (const char* rule :
             {"path=/dynamicsbackup/jobs,nth=4:revoke", "path=/dynamicsbackup/jobs,nth=12:revoke"})
            config.faults.schedule.insert(config.faults.schedule.begin(),
                                          *sim::parse_fault_rule(rule, error_));
        config.on_token_issued = [this](const std::string& token) {
            std::lock_guard lock(mutex_);
            tokens_.push_back(token);
        };
        sim_.emplace(ioc_.get_executor(), std::move(config));
        BOOST_TEST_REQUIRE(!sim_->start());
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~observed_simulator() {
        sim_->stop();
        work_.reset();
        ioc_.stop();
        thread_.join();
    }
    std::vector<std::string> connection() const {
        return {"--base-url", sim_->base_url(), "--client-id",
                client_id,    "--ca-file",      sim_->ca_file().string()};
    }
    std::vector<std::string> tokens() const {
        std::lock_guard lock(mutex_);
        return tokens_;
    }

private:
    std::string error_;
    boost::asio::io_context ioc_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
        ioc_.get_executor()};
    std::optional<sim::simulator> sim_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<std::string> tokens_;
};

// Everything under `folder` but the given files, as one text.
std::string everything_in(const std::filesystem::path& folder,
                          const std::vector<std::filesystem::path>& except) {
    std::string all;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
        if (!entry.is_regular_file() ||
            std::find(except.begin(), except.end(), entry.path()) != except.end() ||
            entry.path().parent_path().filename() == "sim-certs")
            continue;
        all += read_text(entry.path());
    }
    return all;
}

std::vector<std::string> backfill(const observed_simulator& sim, const scratch_dir& dir,
                                  const std::string& name) {
    std::vector<std::string> args{"backfill", "--output", dir / (name + ".jsonl"), "--stats-json",
                                  dir / (name + "-stats.json"), "--verbose", "--page-size", "50",
                                  "--window", "90d",
                                  // Random 429s walk the learnt rate down: slow, and not what
                                  // this test is about.
                                  "--no-adaptive-rate"};
    for (const auto& a : sim.connection())
        args.push_back(a);
    for (const auto& a : range_options())
        args.push_back(a);
    return args;
}

} // namespace

BOOST_AUTO_TEST_CASE(no_secret_key_or_token_in_anything_the_command_writes) {
    scratch_dir dir;
    observed_simulator sim(dir);
    const auto& material = auth_test::shared_rsa();
    const auto key_file = dir.path() / "client.pem";
    std::ofstream(key_file) << material.cert_pem << material.key_pem;

    const auto with_secret =
        run(backfill(sim, dir, "secret"), {{"DYNJOBS_CLIENT_SECRET", client_secret}}, dir.path());
    std::ofstream(dir.path() / "secret-run.stderr") << with_secret.err;
    BOOST_TEST(with_secret.how.exit_status == 2, with_secret.err); // page 3 keeps failing
    BOOST_TEST(with_secret.err.find("HTTP 500") != std::string::npos);

    auto cert_args = backfill(sim, dir, "certificate");
    cert_args.push_back("--certificate");
    cert_args.push_back(key_file.string());
    const auto with_certificate = run(cert_args, {}, dir.path());
    std::ofstream(dir.path() / "certificate-run.stderr") << with_certificate.err;
    BOOST_TEST(with_certificate.how.exit_status == 2, with_certificate.err);

    const auto tokens = sim.tokens();
    BOOST_TEST(tokens.size() >= 4u, "expected renewals and re-issues after revocation");
    const auto emitted = everything_in(dir.path(), {key_file});
    BOOST_TEST(emitted.size() > 100'000u); // the outputs, logs and stats really are in it
    BOOST_TEST(emitted.find(client_secret) == std::string::npos, "the client secret leaked");
    for (const auto& token : tokens)
        BOOST_TEST(emitted.find(token) == std::string::npos, "an access token leaked");
    // The key's base64 body, line by line (any one line is 48 bytes of the key).
    std::istringstream key_lines(material.key_pem);
    for (std::string line; std::getline(key_lines, line);)
        if (!line.starts_with("-----"))
            BOOST_TEST(emitted.find(line) == std::string::npos, "private key material leaked");
}
