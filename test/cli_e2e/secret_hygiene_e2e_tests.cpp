// Secrets stay secret: a backfill with verbose logging, token renewals, revoked tokens and
// failing pages, through a proxy that wants a password, writes neither the client secret, nor
// the private key, nor any access token, nor the proxy's password into anything it emits:
// stderr, stdout, output, checkpoint, stats.
#include "e2e_fixture.hpp"

#include "../unit/auth_test_material.hpp"

#include "secret_hygiene.hpp"
#include "sim_fixture.hpp"
#include "tinyproxy.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>

using namespace dynjobs;
using namespace dynjobs::e2e;

namespace {

constexpr const char* client_id = "hygiene-client";
constexpr const char* client_secret = "s3cr3t-hygiene-5b0c9e1d7a";
constexpr const char* proxy_user = "hygiene-proxy";
constexpr const char* proxy_password = "pr0xy-hygiene_7c.41";

// The simulator in this process, so that the test sees every token it issues.
sim::sim_config observed_config(const scratch_dir& dir, testkit::issued_tokens& tokens) {
    sim::sim_config config;
    config.cert_dir = dir.path() / "sim-certs";
    config.dataset.seed = 13;
    config.dataset.organizations = 3;
    config.dataset.jobs = 4'000;
    config.latency = std::chrono::milliseconds(5);
    return testkit::token_churn(std::move(config), client_id, client_secret,
                                auth_test::shared_rsa().cert_pem, 3, tokens);
}

std::vector<std::string> connection(const testkit::sim_fixture& fx) {
    return {"--base-url", fx.sim().base_url(), "--client-id",
            client_id,    "--ca-file",         fx.sim().ca_file().string()};
}

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

std::vector<std::string> backfill(const testkit::sim_fixture& sim, const scratch_dir& dir,
                                  const std::string& name) {
    std::vector<std::string> args{"backfill", "--output", dir / (name + ".jsonl"), "--stats-json",
                                  dir / (name + "-stats.json"), "--verbose", "--page-size", "50",
                                  "--window", "90d",
                                  // Random 429s walk the learnt rate down: slow, and not what
                                  // this test is about.
                                  "--no-adaptive-rate"};
    for (const auto& a : connection(sim))
        args.push_back(a);
    for (const auto& a : range_options())
        args.push_back(a);
    return args;
}

} // namespace

BOOST_AUTO_TEST_CASE(no_secret_key_or_token_in_anything_the_command_writes) {
    scratch_dir dir;
    testkit::issued_tokens issued;
    testkit::sim_fixture sim(observed_config(dir, issued), 1);
    const auto& material = auth_test::shared_rsa();
    const auto key_file = dir.path() / "client.pem";
    std::ofstream(key_file) << material.cert_pem << material.key_pem;

    testkit::tinyproxy proxy({.user = proxy_user, .password = proxy_password, .connect_ports = {}});
    auto secret_args = backfill(sim, dir, "secret");
    secret_args.push_back("--proxy");
    secret_args.push_back("http://" + std::string(proxy_user) +
                          "@127.0.0.1:" + std::to_string(proxy.port()));
    const auto with_secret =
        run(secret_args,
            {{"DYNJOBS_CLIENT_SECRET", client_secret}, {"DYNJOBS_PROXY_PASSWORD", proxy_password}},
            dir.path());
    std::ofstream(dir.path() / "secret-run.stderr") << with_secret.err;
    BOOST_TEST(with_secret.how.exit_status == 2, with_secret.err); // page 3 keeps failing
    BOOST_TEST(with_secret.err.find("HTTP 500") != std::string::npos);

    auto cert_args = backfill(sim, dir, "certificate");
    cert_args.push_back("--certificate");
    cert_args.push_back(key_file.string());
    const auto with_certificate = run(cert_args, {}, dir.path());
    std::ofstream(dir.path() / "certificate-run.stderr") << with_certificate.err;
    BOOST_TEST(with_certificate.how.exit_status == 2, with_certificate.err);

    const auto tokens = issued.all();
    BOOST_TEST(tokens.size() >= 4u, "expected renewals and re-issues after revocation");
    const auto emitted = everything_in(dir.path(), {key_file});
    BOOST_TEST(emitted.size() > 100'000u); // the outputs, logs and stats really are in it
    testkit::require_no_secret(emitted, client_secret, tokens, material.key_pem);
    BOOST_TEST(!proxy.connects().empty(), "the run did not go through the proxy");
    testkit::require_no_proxy_secret(emitted, proxy_user, proxy_password);
}
