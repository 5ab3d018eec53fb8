// Fetches through a real proxy (tinyproxy): exactly once through the tunnel, credentials taken
// and refused, NO_PROXY from the configuration and the environment, each endpoint choosing its
// own way, a proxy killed mid-fetch and started again, a dead one, one that forbids the port.
// tinyproxy's log shows what really went through it.
#include "engine_fixture.hpp"
#include "tinyproxy.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <map>
#include <thread>

using namespace dynjobs;
using namespace dynjobs::testkit;

namespace {

std::string target_of(sim_fixture& fx) {
    return "127.0.0.1:" + std::to_string(fx.sim().https_port());
}

std::string with_user(const tinyproxy& proxy, const std::string& userinfo) {
    return "http://" + userinfo + "@127.0.0.1:" + std::to_string(proxy.port());
}

/// Sets environment variables for one test, and puts back what was there.
class scoped_environment {
public:
    explicit scoped_environment(const std::map<std::string, std::optional<std::string>>& values) {
        for (const auto& [name, value] : values) {
            const char* before = std::getenv(name.c_str());
            saved_[name] = before ? std::optional<std::string>(before) : std::nullopt;
            set(name, value);
        }
    }
    ~scoped_environment() {
        for (const auto& [name, value] : saved_)
            set(name, value);
    }
    scoped_environment(const scoped_environment&) = delete;
    scoped_environment& operator=(const scoped_environment&) = delete;

private:
    static void set(const std::string& name, const std::optional<std::string>& value) {
        if (value)
            ::setenv(name.c_str(), value->c_str(), 1);
        else
            ::unsetenv(name.c_str());
    }
    std::map<std::string, std::optional<std::string>> saved_;
};

/// Every proxy variable unset, but these.
std::map<std::string, std::optional<std::string>>
proxy_environment(std::map<std::string, std::string> set) {
    std::map<std::string, std::optional<std::string>> all;
    for (const auto* name :
         {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"})
        all[name] = std::nullopt;
    for (auto& [name, value] : set)
        all[name] = std::move(value);
    return all;
}

fetch_request windowed(sim_fixture& fx) {
    auto request = whole_dataset(fx);
    request.window = std::chrono::days(90);
    request.page_size = 50;
    return request;
}

} // namespace

BOOST_AUTO_TEST_SUITE(engine_proxy)

BOOST_AUTO_TEST_CASE(a_fetch_through_tinyproxy_delivers_every_job_once) {
    sim_fixture fx;
    tinyproxy proxy;
    auto config = engine_config(fx);
    config.proxy.url = proxy.url();
    const auto request = windowed(fx);
    const auto out = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, expected_jobs(fx, request));
    // Every connection the client opened was a tunnel through the proxy to the simulator.
    const auto connects = proxy.connects();
    BOOST_TEST(connects.size() == out.stats.connections_opened);
    for (const auto& target : connects)
        BOOST_TEST(target == target_of(fx));
}

BOOST_AUTO_TEST_CASE(credentials_in_the_url_or_the_password_field_are_accepted) {
    sim_fixture fx;
    tinyproxy proxy({.user = "alice", .password = "s3cret-proxy", .connect_ports = {}});
    const auto request = windowed(fx);
    auto config = engine_config(fx);
    config.proxy.url = with_user(proxy, "alice:s3cret%2Dproxy");
    const auto from_url = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!from_url.ec, from_url.diag.message);
    require_exactly(from_url.jobs, expected_jobs(fx, request));

    config.proxy.url = with_user(proxy, "alice");
    config.proxy.password = "s3cret-proxy";
    const auto from_field = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!from_field.ec, from_field.diag.message);
    require_exactly(from_field.jobs, expected_jobs(fx, request));
}

BOOST_AUTO_TEST_CASE(a_proxy_refusing_credentials_stops_the_fetch_at_once) {
    sim_fixture fx;
    tinyproxy proxy({.user = "alice", .password = "right-password", .connect_ports = {}});
    const std::pair<std::string, std::string> cases[] = {
        {proxy.url(), "it wants credentials and none were sent"},
        {with_user(proxy, "alice:wrong-hunter2"), "it refused the credentials sent"},
    };
    std::size_t runs = 0;
    for (const auto& [url, says] : cases) {
        BOOST_TEST_CONTEXT(says) {
            auto config = engine_config(fx);
            config.proxy.url = url;
            const auto out = run_fetch(config, windowed(fx));
            ++runs;
            BOOST_TEST((out.ec == errc::proxy_auth_required), out.ec.message());
            BOOST_TEST(out.diag.message.find("proxy " + proxy.url() + " ") != std::string::npos,
                       out.diag.message);
            BOOST_TEST(out.diag.message.find(says) != std::string::npos, out.diag.message);
            BOOST_TEST(out.diag.url == proxy.url());
            BOOST_TEST(out.diag.message.find("hunter2") == std::string::npos);
            BOOST_TEST(out.jobs.empty());
            // One token request, refused at the proxy, and nothing after it: no retry, no page.
            BOOST_TEST(proxy.connects().size() == runs);
            BOOST_TEST(out.stats.requests == 0u);
        }
    }
    BOOST_TEST(fx.sim().request_log().empty());
}

BOOST_AUTO_TEST_CASE(a_refusal_on_the_api_path_stops_the_fetch_too) {
    // The token endpoint goes direct (NO_PROXY), so the refusal comes to the pages.
    sim_fixture fx;
    tinyproxy proxy({.user = "alice", .password = "right-password", .connect_ports = {}});
    auto config = engine_config(fx);
    config.token_url =
        "https://localhost:" + std::to_string(fx.sim().https_port()) + "/connect/token";
    config.proxy.url = proxy.url();
    config.proxy.no_proxy = "localhost";
    const auto out = run_fetch(config, windowed(fx));
    BOOST_TEST((out.ec == errc::proxy_auth_required), out.ec.message());
    BOOST_TEST(out.diag.message ==
               "proxy " + proxy.url() + " did not open a tunnel to " + target_of(fx) +
                   ": it answered 407 to CONNECT: it wants credentials and none were sent (the "
                   "proxy URL names no user)");
    BOOST_TEST(out.diag.http_status == 407);
    for (const auto& entry : fx.sim().request_log())
        BOOST_TEST(entry.path == "/connect/token");
    BOOST_TEST(fx.sim().counters().jobs_requests == 0u);
    BOOST_TEST(out.failures.empty());
}

BOOST_AUTO_TEST_CASE(configured_no_proxy_goes_direct) {
    sim_fixture fx;
    tinyproxy proxy;
    auto config = engine_config(fx);
    config.proxy.url = proxy.url();
    config.proxy.no_proxy = "example.com, 127.0.0.0/8";
    const auto request = windowed(fx);
    const auto out = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, expected_jobs(fx, request));
    BOOST_TEST(proxy.connects().empty());
}

BOOST_AUTO_TEST_CASE(the_api_and_the_token_endpoint_each_choose_their_way) {
    sim_fixture fx;
    tinyproxy proxy;
    const auto request = windowed(fx);
    const auto port = std::to_string(fx.sim().https_port());
    auto config = engine_config(fx);
    config.proxy.url = proxy.url();
    // The same simulator under two names: two origins, two pools, two choices.
    config.token_url = "https://localhost:" + port + "/connect/token";

    config.proxy.no_proxy = "localhost";
    const auto api_proxied = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!api_proxied.ec, api_proxied.diag.message);
    require_exactly(api_proxied.jobs, expected_jobs(fx, request));
    auto connects = proxy.connects();
    BOOST_TEST_REQUIRE(!connects.empty());
    for (const auto& target : connects)
        BOOST_TEST(target == "127.0.0.1:" + port);

    config.proxy.no_proxy = "127.0.0.1";
    const auto token_proxied = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!token_proxied.ec, token_proxied.diag.message);
    connects = proxy.connects();
    const std::vector<std::string> token_only(
        connects.begin() + api_proxied.stats.connections_opened, connects.end());
    const std::vector<std::string> one_token_tunnel{"localhost:" + port};
    BOOST_TEST(token_only == one_token_tunnel);
}

BOOST_AUTO_TEST_CASE(the_environment_proxies_and_exempts_hosts) {
    sim_fixture fx;
    tinyproxy proxy;
    const auto request = windowed(fx);
    const auto port = std::to_string(fx.sim().https_port());
    auto config = engine_config(fx);
    // The environment never proxies loopback, and the simulator is loopback: 127.1 is
    // 127.0.0.1 to the resolver (inet_aton's short form) but not an address to URL parsers,
    // so the rules see a host name. The certificate does not name it: verification is off
    // here, and is not what this test is about.
    config.base_url = "https://127.1:" + port;
    config.tls.verify_peer = false;
    {
        scoped_environment env(proxy_environment({{"HTTPS_PROXY", proxy.url()}}));
        const auto out = run_fetch(config, request);
        BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
        require_exactly(out.jobs, expected_jobs(fx, request));
        BOOST_TEST_REQUIRE(!proxy.connects().empty());
        for (const auto& target : proxy.connects())
            BOOST_TEST(target == "127.1:" + port);
    }
    const auto proxied = proxy.connects().size();
    {
        scoped_environment env(
            proxy_environment({{"https_proxy", proxy.url()}, {"no_proxy", "example.com,127.1"}}));
        const auto out = run_fetch(config, request);
        BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
        require_exactly(out.jobs, expected_jobs(fx, request));
    }
    {
        // Loopback by address: never through the environment's proxy.
        scoped_environment env(proxy_environment({{"HTTPS_PROXY", proxy.url()}}));
        const auto out = run_fetch(engine_config(fx), request);
        BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    }
    {
        // ... and config.proxy.from_environment = false ignores it.
        scoped_environment env(proxy_environment({{"HTTPS_PROXY", proxy.url()}}));
        config.proxy.from_environment = false;
        const auto out = run_fetch(config, request);
        BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    }
    BOOST_TEST(proxy.connects().size() == proxied);
}

BOOST_AUTO_TEST_CASE(a_proxy_killed_mid_fetch_and_restarted_loses_nothing) {
    auto sim_config = small_sim_config();
    sim_config.latency = std::chrono::milliseconds(20);
    sim_fixture fx(sim_config);
    tinyproxy proxy;
    auto config = engine_config(fx);
    config.proxy.url = proxy.url();
    // Patience for a proxy that is away for a while: retries keep coming until it is back.
    config.retry.max_attempts = 60;
    config.retry.initial_backoff = std::chrono::milliseconds(20);
    config.retry.max_backoff = std::chrono::milliseconds(100);
    config.retry.budget_capacity = 10'000;
    config.rate.max_in_flight = 4;
    auto request = whole_dataset(fx);
    request.page_size = 25;
    std::size_t batches = 0;
    std::thread restart;
    const auto out = run_fetch(config, request, 1, [&](const job_batch&, job_stream&) {
        if (++batches != 5)
            return;
        proxy.kill(); // every tunnel breaks, requests in flight with them
        restart = std::thread([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(400));
            proxy.start();
        });
    });
    restart.join();
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, expected_jobs(fx, request));
    BOOST_TEST(out.stats.retries > 0u);
    BOOST_TEST(!proxy.connects(0).empty());
    BOOST_TEST(!proxy.connects(1).empty(), "nothing went through the restarted proxy");
}

BOOST_AUTO_TEST_CASE(a_dead_proxy_is_a_transport_error_naming_it) {
    sim_fixture fx;
    std::string dead_url;
    {
        tinyproxy gone; // a port that was a proxy's and now refuses connections
        dead_url = gone.url();
    }
    auto config = engine_config(fx);
    config.proxy.url = dead_url;
    config.retry.max_attempts = 2;
    auto out = run_fetch(config, windowed(fx));
    BOOST_TEST((out.ec == errc::retries_exhausted), out.ec.message());
    BOOST_TEST(out.diag.message.find("(via proxy " + dead_url + ")") != std::string::npos,
               out.diag.message);

    // The same for a page, when the token endpoint goes direct.
    config.token_url =
        "https://localhost:" + std::to_string(fx.sim().https_port()) + "/connect/token";
    config.proxy.no_proxy = "localhost";
    out = run_fetch(config, windowed(fx));
    BOOST_TEST((out.ec == errc::retries_exhausted), out.ec.message());
    BOOST_TEST(out.diag.message.find(" via proxy " + dead_url + ")") != std::string::npos,
               out.diag.message);
    BOOST_TEST(fx.sim().counters().jobs_requests == 0u);
    // The failed page says what its last attempt met, and how many were made.
    BOOST_TEST_REQUIRE(!out.failures.empty());
    BOOST_TEST((out.failures[0].error == errc::retries_exhausted));
    BOOST_TEST((out.failures[0].last_error == boost::asio::error::connection_refused),
               out.failures[0].last_error.message());
    BOOST_TEST(out.failures[0].attempts == 2u);
}

BOOST_AUTO_TEST_CASE(a_proxy_refusing_the_port_is_retried_then_reported) {
    sim_fixture fx;
    tinyproxy proxy({.user = "", .password = "", .connect_ports = {443}});
    auto config = engine_config(fx);
    config.proxy.url = proxy.url();
    config.retry.max_attempts = 3;
    const auto out = run_fetch(config, windowed(fx));
    BOOST_TEST((out.ec == errc::retries_exhausted), out.ec.message());
    BOOST_TEST(out.diag.message.find("proxy " + proxy.url() + " did not open a tunnel to " +
                                     target_of(fx) + ": it answered 403 to CONNECT") !=
                   std::string::npos,
               out.diag.message);
    BOOST_TEST(out.diag.http_status == 403);
    BOOST_TEST(proxy.connects().size() == 3u); // retried like any transport error
    BOOST_TEST(fx.sim().request_log().empty());
}

BOOST_AUTO_TEST_SUITE_END()
