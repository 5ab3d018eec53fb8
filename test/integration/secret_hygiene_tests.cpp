// Secrets stay secret in the library: through token renewals, revocations, faults, failed pages
// and a refused grant, nothing it hands to the application (request events, errors,
// diagnostics, failures, stats) holds the client secret, the private key, an access token or
// the proxy's password.
#include "../unit/auth_test_material.hpp"
#include "engine_fixture.hpp"
#include "secret_hygiene.hpp"
#include "tinyproxy.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/unit_test.hpp>

#include <functional>
#include <mutex>
#include <sstream>

using namespace dynjobs;
using namespace dynjobs::testkit;

namespace {

constexpr const char* client_id = "hygiene-app";
constexpr const char* client_secret = "s3cr3t-library-4e7d21c9";

std::string text_of(const diagnostics& d) {
    return d.message + "|" + d.field + "|" + d.value + "|" + d.url + "|" + d.body_excerpt + "|" +
           d.oauth_error + "|" + d.oauth_error_description;
}

struct observed_run {
    std::string emitted; // everything the library gave the application, as text
    std::vector<std::string> tokens;
};

constexpr const char* proxy_user = "hygiene-proxy-user";
constexpr const char* proxy_password = "pr0xy-library-9d3a_51";

/// `adjust` changes the client's configuration before the run (a proxy, ...).
observed_run run_observed(credentials creds, bool refuse_grant = false,
                          const std::function<void(client_config&)>& adjust = {}) {
    std::mutex mutex;
    observed_run out;
    issued_tokens tokens;
    sim_fixture fx(token_churn(small_sim_config(), client_id, client_secret,
                               auth_test::shared_rsa().cert_pem, 2, tokens));
    client_config config = engine_config(fx);
    config.creds = std::move(creds);
    if (refuse_grant)
        config.creds = client_secret_credentials{client_id, "not-the-secret"};
    if (adjust)
        adjust(config);
    config.on_request = [&](const request_event& e) {
        std::lock_guard lock(mutex);
        out.emitted += e.url + "|" + e.error.message() + "|";
    };
    fetch_request request = whole_dataset(fx);
    request.window = std::chrono::days(120);
    request.page_size = 50;
    request.on_failure = failure_policy::go_on;
    const auto result = run_fetch(config, request);
    std::lock_guard lock(mutex);
    out.emitted += text_of(result.diag) + result.ec.message();
    for (const auto& f : result.failures)
        out.emitted += text_of(f.diag) + f.error.message();
    std::ostringstream stats;
    stats << result.stats.requests << result.stats.token_requests;
    out.emitted += stats.str();
    if (!refuse_grant) {
        BOOST_TEST(!result.failures.empty(), "the failing page was not reported");
        BOOST_TEST(result.stats.token_requests >= 3u);
    } else {
        BOOST_TEST(result.diag.oauth_error == "invalid_client");
    }
    out.tokens = tokens.all();
    return out;
}

void require_clean(const observed_run& run) {
    require_no_secret(run.emitted, client_secret, run.tokens, auth_test::shared_rsa().key_pem);
}

} // namespace

BOOST_AUTO_TEST_SUITE(secret_hygiene)

BOOST_AUTO_TEST_CASE(secret_grant_leaks_nothing) {
    require_clean(run_observed(client_secret_credentials{client_id, client_secret}));
}

BOOST_AUTO_TEST_CASE(certificate_grant_leaks_nothing) {
    auth_test::temp_dir dir;
    const auto pem =
        dir.write("app.pem", auth_test::shared_rsa().cert_pem + auth_test::shared_rsa().key_pem);
    require_clean(run_observed(certificate_credentials{client_id, pem, ""}));
}

BOOST_AUTO_TEST_CASE(a_refused_grant_names_the_error_not_the_secret) {
    const auto run = run_observed(client_secret_credentials{client_id, client_secret}, true);
    BOOST_TEST(run.emitted.find("not-the-secret") == std::string::npos);
    require_clean(run);
}

BOOST_AUTO_TEST_CASE(proxy_credentials_leak_nothing) {
    testkit::tinyproxy proxy({.user = proxy_user, .password = proxy_password, .connect_ports = {}});
    const auto run = run_observed(
        client_secret_credentials{client_id, client_secret}, false, [&](client_config& config) {
            config.proxy.url =
                "http://" + std::string(proxy_user) + "@127.0.0.1:" + std::to_string(proxy.port());
            config.proxy.password = proxy_password;
        });
    BOOST_TEST(!proxy.connects().empty());
    require_clean(run);
    require_no_proxy_secret(run.emitted, proxy_user, proxy_password);
}

BOOST_AUTO_TEST_CASE(a_refused_proxy_password_is_not_in_the_error) {
    testkit::tinyproxy proxy({.user = proxy_user, .password = proxy_password, .connect_ports = {}});
    const std::string wrong = "wrong-pr0xy-password";
    sim_fixture fx;
    client_config config = engine_config(fx);
    config.proxy.url = "http://" + std::string(proxy_user) + ":" + wrong +
                       "@127.0.0.1:" + std::to_string(proxy.port());
    std::string emitted;
    config.on_request = [&](const request_event& e) { emitted += e.url + e.error.message(); };
    const auto out = run_fetch(config, whole_dataset(fx));
    BOOST_TEST((out.ec == errc::proxy_auth_required));
    emitted += text_of(out.diag) + out.ec.message();
    require_no_proxy_secret(emitted, proxy_user, wrong);
}

BOOST_AUTO_TEST_SUITE_END()
