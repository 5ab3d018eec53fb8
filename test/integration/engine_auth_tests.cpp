// Tokens as the engine meets them: refused credentials end the fetch at once with the server's
// own description; tokens that expire or are revoked mid-fetch are renewed without losing a page.
#include "engine_fixture.hpp"
#include "manual_token_source.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/unit_test.hpp>

#include <optional>

using namespace dynjobs;
using namespace dynjobs::testkit;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(engine_auth)

BOOST_AUTO_TEST_CASE(a_wrong_secret_ends_the_fetch_with_the_oauth_description) {
    sim_fixture fx;
    auto config = engine_config(fx);
    config.creds = client_secret_credentials{std::string(sim::default_client_id), "wrong"};
    const auto out = run_fetch(config, whole_dataset(fx));
    BOOST_TEST((out.ec == errc::oauth_error));
    BOOST_TEST(out.diag.oauth_error == "invalid_client");
    BOOST_TEST(!out.diag.oauth_error_description.empty());
    BOOST_TEST(out.diag.message.find(out.diag.oauth_error_description) != std::string::npos,
               out.diag.message);
    BOOST_TEST(out.diag.message.find("wrong") == std::string::npos); // the secret stays secret
    // Permanent: asked once, and no page was requested.
    BOOST_TEST(fx.sim().counters().token_requests == 1u);
    BOOST_TEST(fx.sim().counters().jobs_requests == 0u);
}

BOOST_AUTO_TEST_CASE(a_wrong_scope_ends_the_fetch_too) {
    sim_fixture fx;
    auto config = engine_config(fx);
    config.scope = "dynamics.read.all";
    const auto out = run_fetch(config, whole_dataset(fx));
    BOOST_TEST((out.ec == errc::oauth_error));
    BOOST_TEST(out.diag.oauth_error == "invalid_scope");
}

BOOST_AUTO_TEST_CASE(a_401_a_fresh_token_does_not_cure_stops_the_whole_fetch) {
    sim_fixture fx;
    sim::fault_rule rule;
    rule.kind = sim::fault_kind::revoke_token; // every jobs request: revoked, then 401
    rule.path = "/dynamicsbackup/jobs";
    rule.times = 0;
    fx.sim().add_fault_rule(rule);
    auto request = whole_dataset(fx);
    request.window = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::days{30});
    request.on_failure = failure_policy::go_on; // even so: no other window is tried
    const auto config = engine_config(fx);
    const auto out = run_fetch(config, request);
    BOOST_TEST((out.ec == errc::unauthorized));
    BOOST_TEST(out.diag.http_status == 401);
    BOOST_TEST(out.diag.message.find("freshly issued token (scope 'dynamics.readwrite.all')") !=
                   std::string::npos,
               out.diag.message);
    // Each page in flight: its request, the replay with a fresh token, one retry; then nothing.
    BOOST_TEST(fx.sim().counters().jobs_requests <= 3u * config.rate.max_in_flight + 3u);
    BOOST_TEST(out.jobs.empty());
}

BOOST_AUTO_TEST_CASE(tokens_expiring_during_the_fetch_are_renewed) {
    auto sim_config = small_sim_config();
    sim_config.token_lifetime = 2s;
    sim_config.latency = 20ms; // the fetch outlives several tokens
    sim_fixture fx(sim_config);
    auto config = engine_config(fx);
    config.rate.max_in_flight = 2;
    config.token_refresh.expiry_safety = 0s;
    auto request = whole_dataset(fx);
    request.page_size = 10; // 200 pages x 20 ms / 2 in flight = about 2 s per token... twice
    const auto out = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, fx.sim().select(filter_of(request)));
    BOOST_TEST(out.stats.token_requests >= 2u);
    BOOST_TEST(fx.sim().counters().tokens_issued == out.stats.token_requests);
}

BOOST_AUTO_TEST_CASE(revoking_every_token_mid_fetch_costs_one_renewal_not_a_page) {
    sim_fixture fx;
    auto config = engine_config(fx);
    auto request = whole_dataset(fx);
    request.page_size = 10;
    bool revoked = false;
    const auto out = run_fetch(config, request, 1, [&](const job_batch&, job_stream&) {
        if (!revoked) {
            fx.sim().revoke_all_tokens();
            revoked = true;
        }
    });
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, fx.sim().select(filter_of(request)));
    BOOST_TEST(out.stats.unauthorized >= 1u);
    // Pages that got 401 together share one renewal (the token is dropped only if current).
    BOOST_TEST(out.stats.token_requests == 2u);
}

BOOST_AUTO_TEST_CASE(tokens_revoked_again_and_again_while_pages_succeed_cost_no_page) {
    // One request in 25 revokes every token: a page can meet three revocations in a row while
    // the other pages go on succeeding. That is churn, not credentials the server refuses, and
    // the fetch must go on.
    auto sim_config = small_sim_config();
    sim_config.faults.kinds = {sim::fault_kind::revoke_token};
    sim_config.faults.rate = 0.04;
    sim_fixture fx(sim_config);
    auto config = engine_config(fx);
    config.rate.max_in_flight = 8;
    auto request = whole_dataset(fx);
    request.page_size = 10;
    const auto out = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, fx.sim().select(filter_of(request)));
    BOOST_TEST(out.stats.unauthorized >= 1u); // revocations did reach pages
    // A page's first 401 is replayed at once, uncounted; a second one in a row is a retry. How
    // often a page meets two depends on the schedule (none in a slow ASan run once).
    BOOST_TEST_MESSAGE("401s " << out.stats.unauthorized << ", pages that met two in a row "
                               << out.stats.retries_for(policy::retry_cause::http_401));
}

// A fetch cancelled while it waits for its first token stops the token source's request, unless
// another fetch of the client still waits for that token; a later fetch asks the source anew.
BOOST_AUTO_TEST_CASE(the_last_fetch_waiting_for_a_token_stops_the_token_source) {
    namespace asio = boost::asio;
    sim_fixture fx;
    manual_token_source source;
    auto config = engine_config(fx);
    config.creds = source.make();
    asio::io_context ioc;
    const auto settle = [&](std::chrono::milliseconds d) {
        ioc.restart();
        ioc.run_for(d);
    };
    client c(ioc.get_executor(), config);
    auto first = c.fetch(whole_dataset(fx));
    auto second = c.fetch(whole_dataset(fx));
    // Both fetches' page tasks park on the token right away; nothing else is there to run.
    settle(200ms);
    BOOST_TEST_REQUIRE(source.calls == 1);

    first.cancel();
    settle(200ms);
    BOOST_TEST(source.stops == 0); // the second fetch still wants the token
    BOOST_TEST(source.pending.has_value());

    second.cancel();
    settle(200ms);
    BOOST_TEST(source.stops == 1);
    BOOST_TEST(!source.pending.has_value());

    auto third = c.fetch(whole_dataset(fx));
    settle(200ms);
    BOOST_TEST_REQUIRE(source.calls == 2);
    source.complete(make_error_code(boost::system::errc::permission_denied), "");
    std::optional<boost::system::error_code> third_ended;
    third.async_next(
        [&](boost::system::error_code ec, std::optional<job_batch>) { third_ended = ec; });
    settle(500ms);
    BOOST_TEST_REQUIRE(third_ended.has_value());
    BOOST_TEST(*third_ended == boost::system::errc::permission_denied);
    BOOST_TEST(fx.sim().counters().jobs_requests == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
