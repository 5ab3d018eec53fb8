// The token manager against the simulator's token endpoint over loopback TLS: both grants,
// single flight, permanent OAuth errors, renewal before expiry, invalidation, transient failures
// retried, and no secret in any diagnostic.
#include "auth_fixture.hpp"

#include <boost/asio/steady_timer.hpp>

#include <thread>

namespace dynjobs::auth_test {
namespace {

void check_oauth_error(const get_result& r, std::string_view error,
                       std::string_view description_part) {
    BOOST_TEST(r.ec == make_error_code(errc::oauth_error), r.ec.message());
    BOOST_TEST(r.diag.oauth_error == error);
    BOOST_TEST(r.diag.oauth_error_description.find(description_part) != std::string::npos,
               r.diag.oauth_error_description);
    BOOST_TEST(r.diag.message.find(description_part) != std::string::npos, r.diag.message);
    BOOST_TEST(r.diag.http_status >= 400);
    BOOST_TEST(r.diag.url.find("/connect/token") != std::string::npos);
    BOOST_TEST(r.token.empty());
}

} // namespace

BOOST_AUTO_TEST_SUITE(auth_token_manager)

BOOST_AUTO_TEST_CASE(client_secret_grant) {
    auth_env env;
    auto m = env.manager(env.secret_config());
    diagnostics diag;
    BOOST_TEST(!m->validate(diag), diag.message);

    const auto first = get_now(env.ioc, *m);
    BOOST_TEST(!first.ec, first.diag.message);
    BOOST_TEST(!first.token.empty());
    // Cached: the second call sends nothing.
    const auto second = get_now(env.ioc, *m);
    BOOST_TEST(second.token == first.token);
    BOOST_TEST(env.sim_token_requests() == 1u);
    BOOST_TEST(m->stats().token_requests == 1u);
    BOOST_TEST(m->stats().token_failures == 0u);
    // The simulator accepts the token on the API.
    BOOST_TEST(env.server->counters().tokens_issued == 1u);
}

BOOST_AUTO_TEST_CASE(certificate_grant_end_to_end) {
    auth_env env;
    const auto& cert = auth_env::certificate();
    const auto pem = env.write_file("client.pem", cert.cert_pem + cert.key_pem);
    auto m = env.manager(env.certificate_config(pem));
    diagnostics diag;
    BOOST_TEST(!m->validate(diag), diag.message);

    const auto r = get_now(env.ioc, *m);
    BOOST_TEST(!r.ec, r.diag.message);
    BOOST_TEST(!r.token.empty());
    BOOST_TEST(env.server->counters().tokens_issued == 1u);
    const auto log = env.server->request_log();
    BOOST_REQUIRE(!log.empty());
    BOOST_TEST(log.back().client_id == cert_client);
    BOOST_TEST(log.back().status == 200u);

    // A renewal signs a new assertion (fresh jti): the simulator refuses a replayed jti.
    m->invalidate(r.token);
    const auto again = get_now(env.ioc, *m);
    BOOST_TEST(!again.ec, again.diag.message);
    BOOST_TEST(again.token != r.token);
}

BOOST_AUTO_TEST_CASE(certificate_of_another_client_is_refused) {
    auth_env env;
    sim::client_certificate other;
    diagnostics diag;
    BOOST_REQUIRE(!sim::make_client_certificate("someone else", other, diag));
    const auto pem = env.write_file("other.pem", other.cert_pem + other.key_pem);
    auto m = env.manager(env.certificate_config(pem));
    const auto r = get_now(env.ioc, *m);
    check_oauth_error(r, "invalid_client", "x5t");
    BOOST_TEST(env.sim_token_requests() == 1u);
}

BOOST_AUTO_TEST_CASE(bad_certificate_file_fails_before_any_request) {
    auth_env env;
    auto m = env.manager(env.certificate_config("/nonexistent/dynjobs/client.pem", "pw"));
    diagnostics diag;
    BOOST_TEST(m->validate(diag) == make_error_code(errc::credential_error));
    BOOST_TEST(diag.message.find("/nonexistent/dynjobs/client.pem") != std::string::npos);
    const auto r = get_now(env.ioc, *m);
    BOOST_TEST(r.ec == make_error_code(errc::credential_error));
    BOOST_TEST(env.sim_token_requests() == 0u);
}

BOOST_AUTO_TEST_CASE(single_flight_for_100_concurrent_callers) {
    auth_env env;
    auto m = env.manager(env.secret_config());
    std::vector<get_result> results(100);
    for (auto& r : results)
        spawn_get(env.ioc, *m, r);
    env.ioc.restart();
    env.ioc.run();
    for (const auto& r : results) {
        BOOST_TEST(r.done);
        BOOST_TEST(!r.ec, r.diag.message);
        BOOST_TEST(r.token == results.front().token);
    }
    BOOST_TEST(!results.front().token.empty());
    BOOST_TEST(env.sim_token_requests() == 1u);
    BOOST_TEST(m->stats().token_requests == 1u);
}

BOOST_AUTO_TEST_CASE(permanent_errors_surface_at_once) {
    auth_env env;
    {
        auto m = env.manager(env.secret_config(secret_client, "wrong-secret"));
        // Several waiters: all get the same error from the one request.
        std::vector<get_result> results(5);
        for (auto& r : results)
            spawn_get(env.ioc, *m, r);
        env.ioc.restart();
        env.ioc.run();
        for (const auto& r : results)
            check_oauth_error(r, "invalid_client", "Invalid client secret");
        BOOST_TEST(env.sim_token_requests() == 1u); // no retry
        BOOST_TEST(m->stats().token_failures == 1u);
    }
    {
        auto m = env.manager(env.secret_config("no-such-client", "x"));
        check_oauth_error(get_now(env.ioc, *m), "invalid_client", "Unknown client");
        BOOST_TEST(env.sim_token_requests() == 2u);
    }
    {
        auto config = env.secret_config();
        config.scope = "dynamics.readwrite.all other.scope";
        auto m = env.manager(config);
        check_oauth_error(get_now(env.ioc, *m), "invalid_scope", "dynamics.readwrite.all");
        BOOST_TEST(env.sim_token_requests() == 3u);
    }
}

BOOST_AUTO_TEST_CASE(renewal_before_expiry_keeps_the_current_token_in_use) {
    // Tokens live 4 s; renewal from 1 s on (margin 3 s), no jitter, no safety margin: a call
    // at about 1.5 s is inside the renewal window with 2.5 s of slack either side.
    auth_env env(auth_env::make_config(std::chrono::seconds(4)));
    auto config = env.secret_config();
    config.refresh.refresh_before = std::chrono::seconds(3);
    config.refresh.refresh_fraction = 0.75;
    config.refresh.jitter_fraction = 0;
    config.refresh.expiry_safety = std::chrono::seconds(0);
    auto m = env.manager(config);

    const auto first = get_now(env.ioc, *m);
    BOOST_REQUIRE(!first.ec);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));

    // Returned at once with the old token, while a renewal starts in the background.
    get_result during;
    spawn_get(env.ioc, *m, during);
    env.ioc.restart();
    env.ioc.poll(); // runs the caller, not the renewal's network exchange to completion
    BOOST_TEST(during.done);
    BOOST_TEST(during.token == first.token);

    // Let the background renewal finish (the pool keeps no timers while idle: run() returns).
    env.ioc.restart();
    env.ioc.run();
    BOOST_TEST(m->stats().token_requests == 2u);
    const auto after = get_now(env.ioc, *m);
    BOOST_TEST(!after.ec, after.diag.message);
    BOOST_TEST(after.token != first.token);
    BOOST_TEST(env.sim_token_requests() == 2u);
}

BOOST_AUTO_TEST_CASE(failed_renewal_keeps_the_current_token_without_hammering) {
    // Same timeline as above; the renewal fails (500, no retries).
    auth_env env(auth_env::make_config(std::chrono::seconds(4)));
    auto config = env.secret_config();
    config.refresh.refresh_before = std::chrono::seconds(3);
    config.refresh.refresh_fraction = 0.75;
    config.refresh.jitter_fraction = 0;
    config.refresh.expiry_safety = std::chrono::seconds(0);
    config.retry = fast_retry(1);
    auto m = env.manager(config);

    const auto first = get_now(env.ioc, *m);
    BOOST_REQUIRE(!first.ec);
    sim::fault_rule broken;
    broken.kind = sim::fault_kind::error_500;
    broken.path = "/connect/token";
    broken.times = 0;
    env.server->add_fault_rule(broken);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));

    const auto during = get_now(env.ioc, *m); // starts the renewal, which fails
    BOOST_TEST(!during.ec);
    BOOST_TEST(during.token == first.token);
    BOOST_TEST(env.sim_token_requests() == 2u);
    BOOST_TEST(m->stats().token_failures == 1u);
    // The failure is not retried on every call: the token is still good for a while.
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(get_now(env.ioc, *m).token == first.token);
    BOOST_TEST(env.sim_token_requests() == 2u);
}

BOOST_AUTO_TEST_CASE(expired_tokens_are_replaced) {
    // The simulator issues tokens that are already expired (expires_in 0): each call needs a
    // new one, and still gets one (never a loop, never an error).
    auth_env env(auth_env::make_config(std::chrono::seconds(0)));
    auto m = env.manager(env.secret_config());
    const auto a = get_now(env.ioc, *m);
    const auto b = get_now(env.ioc, *m);
    BOOST_TEST(!a.ec);
    BOOST_TEST(!b.ec);
    BOOST_TEST(a.token != b.token);
    BOOST_TEST(env.sim_token_requests() == 2u);
}

BOOST_AUTO_TEST_CASE(invalidate_only_drops_the_current_token) {
    auth_env env;
    auto m = env.manager(env.secret_config());
    const auto t1 = get_now(env.ioc, *m).token;

    m->invalidate("some-other-token");
    BOOST_TEST(m->stats().invalidations == 0u);
    BOOST_TEST(get_now(env.ioc, *m).token == t1);

    m->invalidate(t1);
    BOOST_TEST(m->stats().invalidations == 1u);
    const auto t2 = get_now(env.ioc, *m).token;
    BOOST_TEST(t2 != t1);
    BOOST_TEST(env.sim_token_requests() == 2u);

    // A late 401 for the old token (a request that was in flight) changes nothing.
    m->invalidate(t1);
    BOOST_TEST(m->stats().invalidations == 1u);
    BOOST_TEST(get_now(env.ioc, *m).token == t2);
    BOOST_TEST(env.sim_token_requests() == 2u);
}

BOOST_AUTO_TEST_CASE(burst_of_401s_causes_one_renewal) {
    auth_env env;
    auto m = env.manager(env.secret_config());
    const auto t1 = get_now(env.ioc, *m).token;
    // 20 requests got 401 with t1 and each invalidates it, then asks again.
    std::vector<get_result> results(20);
    for (auto& r : results) {
        m->invalidate(t1);
        spawn_get(env.ioc, *m, r);
    }
    env.ioc.restart();
    env.ioc.run();
    for (const auto& r : results)
        BOOST_TEST(r.token == results.front().token);
    BOOST_TEST(results.front().token != t1);
    BOOST_TEST(env.sim_token_requests() == 2u);
    BOOST_TEST(m->stats().invalidations == 1u);
}

BOOST_AUTO_TEST_CASE(transient_failures_are_retried) {
    auth_env env;
    sim::fault_rule unavailable;
    unavailable.kind = sim::fault_kind::error_503; // with Retry-After: 1
    unavailable.path = "/connect/token";
    unavailable.nth = 1;
    env.server->add_fault_rule(unavailable);
    sim::fault_rule broken = unavailable;
    broken.kind = sim::fault_kind::error_500;
    broken.nth = 2;
    env.server->add_fault_rule(broken);

    auto m = env.manager(env.secret_config());
    const auto start = std::chrono::steady_clock::now();
    const auto r = get_now(env.ioc, *m);
    BOOST_TEST(!r.ec, r.diag.message);
    BOOST_TEST(!r.token.empty());
    BOOST_TEST(env.sim_token_requests() == 3u);
    BOOST_TEST(m->stats().token_requests == 3u);
    BOOST_TEST(m->stats().token_failures == 2u);
    // Retry-After: 1 was honoured (a lower bound: it cannot pass faster when honoured).
    BOOST_TEST((std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(950)));
}

BOOST_AUTO_TEST_CASE(transient_failures_exhaust_the_attempts) {
    auth_env env;
    sim::fault_rule broken;
    broken.kind = sim::fault_kind::error_500;
    broken.path = "/connect/token";
    broken.times = 0; // every request
    env.server->add_fault_rule(broken);

    auto config = env.secret_config();
    config.retry = fast_retry(3);
    auto m = env.manager(config);
    const auto r = get_now(env.ioc, *m);
    BOOST_TEST(r.ec == make_error_code(errc::retries_exhausted), r.ec.message());
    BOOST_TEST(r.diag.http_status == 500);
    BOOST_TEST(r.diag.message.find("3 attempts") != std::string::npos, r.diag.message);
    BOOST_TEST(env.sim_token_requests() == 3u);
}

BOOST_AUTO_TEST_CASE(no_secret_in_any_diagnostic) {
    auth_env env;
    const auto& cert = auth_env::certificate();
    std::vector<diagnostics> seen;
    std::vector<std::string> tokens;
    auto record = [&](const get_result& r) {
        seen.push_back(r.diag);
        if (!r.token.empty())
            tokens.push_back(r.token);
    };

    auto ok = env.manager(env.secret_config());
    record(get_now(env.ioc, *ok));
    record(get_now(env.ioc, *env.manager(env.secret_config(secret_client, "wrong-secret"))));
    auto wrong_scope = env.secret_config();
    wrong_scope.scope = "x";
    record(get_now(env.ioc, *env.manager(wrong_scope)));

    const auto pem = env.write_file("client.pem", cert.cert_pem + cert.key_pem);
    record(get_now(env.ioc, *env.manager(env.certificate_config(pem))));
    diagnostics d;
    auto bad_password = env.manager(env.certificate_config(pem + ".missing", "pfx-password-123"));
    (void)bad_password->validate(d);
    seen.push_back(d);

    sim::fault_rule broken;
    broken.kind = sim::fault_kind::error_503;
    broken.path = "/connect/token";
    broken.times = 0;
    env.server->add_fault_rule(broken);
    auto cfg = env.secret_config();
    cfg.retry = fast_retry(1);
    record(get_now(env.ioc, *env.manager(cfg)));

    BOOST_REQUIRE(tokens.size() == 2u);
    // The base64 body of the private key, in chunks: none may appear anywhere.
    std::vector<std::string> secrets = {client_secret, "wrong-secret", "pfx-password-123"};
    secrets.insert(secrets.end(), tokens.begin(), tokens.end());
    for (std::size_t i = 100; i + 40 < cert.key_pem.size(); i += 200)
        secrets.push_back(cert.key_pem.substr(i, 40));
    BOOST_TEST(seen.size() == 6u);
    for (const auto& diag : seen) {
        for (const std::string* s :
             {&diag.message, &diag.field, &diag.value, &diag.url, &diag.body_excerpt,
              &diag.oauth_error, &diag.oauth_error_description})
            for (const auto& secret : secrets)
                BOOST_TEST(s->find(secret) == std::string::npos, "leak in: " << *s);
    }
    // The failures did say something useful.
    BOOST_TEST(seen[1].oauth_error == "invalid_client");
    BOOST_TEST(seen[2].oauth_error == "invalid_scope");
    BOOST_TEST(seen[5].http_status == 503);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace dynjobs::auth_test
