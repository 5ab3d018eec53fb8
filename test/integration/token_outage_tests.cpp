// The identity service goes down in the middle of a fetch: the fetch waits for it with its
// retries and recovers when it is back, or ends with a clear error once past its deadline.
#include "engine_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

using namespace dynjobs;
using namespace dynjobs::testkit;

namespace {

// Every token request answered 503 from now on; every token revoked, so that the fetch needs
// a new one at once.
void take_identity_down(sim_fixture& fx) {
    std::string error;
    fx.sim().add_fault_rule(*sim::parse_fault_rule("path=/connect/token,times=0:503", error));
    fx.sim().revoke_all_tokens();
}

} // namespace

BOOST_AUTO_TEST_SUITE(token_outage)

BOOST_AUTO_TEST_CASE(the_fetch_waits_out_an_outage_and_recovers) {
    sim_fixture fx;
    auto config = engine_config(fx);
    config.retry = {}; // production patience: full-jitter backoff from 250 ms
    config.retry.max_attempts = 12;
    auto request = whole_dataset(fx);
    request.window = std::chrono::days(60);
    request.page_size = 50;
    std::atomic<bool> down{false};
    std::thread restore;
    const auto outcome = run_fetch(config, request, 1, [&](const job_batch&, job_stream&) {
        if (down.exchange(true))
            return;
        take_identity_down(fx);
        // Back after 3 s (the property, not the span, is tested: a 30 s outage behaves alike
        // with a retry policy patient enough for it).
        restore = std::thread([&] {
            std::this_thread::sleep_for(std::chrono::seconds(3));
            fx.sim().set_fault_config({});
        });
    });
    restore.join();
    BOOST_TEST_REQUIRE(!outcome.ec, outcome.diag.message);
    require_exactly(outcome.jobs, expected_jobs(fx, request));
    BOOST_TEST(outcome.stats.token_requests >= 3u);
}

BOOST_AUTO_TEST_CASE(past_its_deadline_the_fetch_ends_naming_the_token_endpoint) {
    sim_fixture fx;
    auto config = engine_config(fx);
    auto request = whole_dataset(fx);
    request.window = std::chrono::days(60);
    request.page_size = 50;
    request.deadline = std::chrono::milliseconds(1'500);
    bool down = false;
    const auto outcome = run_fetch(config, request, 1, [&](const job_batch&, job_stream&) {
        if (!std::exchange(down, true))
            take_identity_down(fx);
    });
    BOOST_TEST_MESSAGE(outcome.ec.message() << ": " << outcome.diag.message);
    BOOST_TEST(!!outcome.ec);
    BOOST_TEST(outcome.diag.message.find("/connect/token") != std::string::npos,
               outcome.diag.message);
    BOOST_TEST(outcome.diag.message.find("503") != std::string::npos, outcome.diag.message);
}

BOOST_AUTO_TEST_SUITE_END()
