// The pages of write_static_pages() served by a real nginx (Debian 12's, /usr/sbin/nginx) with
// the written nginx.conf: over TLS, the client's own request targets get byte for byte what the
// simulator answers, anything else a JSON 404, and nginx closes connections after
// keepalive_requests. And the engine against it: a server we did not write, exactly once.
#include "engine_fixture.hpp"
#include "sim/static_pages.hpp"
#include "sim_fixture.hpp"

#include <dynjobs/jobs_query.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace {

using namespace dynjobs;
using namespace dynjobs::testkit;
using namespace std::chrono;

constexpr const char* nginx_binary = "/usr/sbin/nginx";

sim::dataset_config small_data() {
    sim::dataset_config c;
    c.seed = 4;
    c.organizations = 3;
    c.jobs = 4000;
    c.begin = c.end - days{60};
    return c;
}

/// A port that was free a moment ago (nginx needs a fixed one).
std::uint16_t free_port() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(
        ioc, {boost::asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(0)});
    return a.local_endpoint().port();
}

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The pages written into a scratch folder and nginx serving them in the foreground, as a child
/// of this process; stopped (by its pid) and the folder removed at the end.
class nginx_server {
public:
    explicit nginx_server(const sim::dataset& data, sim::static_pages_config config) {
        config.dir = std::filesystem::temp_directory_path() /
                     ("dynjobs-nginx-" + std::to_string(::getpid()) + "-" +
                      std::to_string(config.endpoint.window == sim::window_match::ignored));
        std::filesystem::remove_all(config.dir);
        config.port = free_port();
        config.foreground = true; // a child we can wait for
        diagnostics diag;
        if (auto ec = sim::write_static_pages(data, config, summary_, diag))
            throw std::runtime_error("write_static_pages: " + diag.message);
        port_ = config.port;
        const std::string dir = summary_.dir.string(), conf = summary_.config_file.string(),
                          log = dir + "/error.log";
        const char* argv[] = {nginx_binary, "-p", dir.c_str(), "-c",
                              conf.c_str(), "-e", log.c_str(), nullptr};
        if (::posix_spawn(&pid_, nginx_binary, nullptr, nullptr, const_cast<char**>(argv),
                          environ) != 0)
            throw std::runtime_error("cannot start nginx");
        // Ready when it accepts connections.
        for (int i = 0; i < 500; ++i) {
            boost::asio::io_context ioc;
            boost::asio::ip::tcp::socket s(ioc);
            boost::system::error_code ec;
            s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
            if (!ec)
                return;
            std::this_thread::sleep_for(10ms);
        }
        stop();
        throw std::runtime_error("nginx did not start: " + read_all(log));
    }
    ~nginx_server() {
        stop();
        std::filesystem::remove_all(summary_.dir);
    }
    nginx_server(const nginx_server&) = delete;
    nginx_server& operator=(const nginx_server&) = delete;

    test_client client() const {
        client_options o;
        o.port = port_;
        o.ca_pem = read_all(summary_.ca_file);
        return test_client(o);
    }
    std::uint16_t port() const { return port_; }

    /// A client configuration for this nginx: its CA, any secret (its token endpoint answers
    /// everyone).
    client_config engine_config() const {
        client_config config;
        config.base_url = "https://127.0.0.1:" + std::to_string(port_);
        config.tls.ca_file = summary_.ca_file.string();
        config.creds = client_secret_credentials{"dynjobs-static-pages", "any"};
        config.rate.max_in_flight = 32;
        config.max_in_flight_per_organization = 8;
        config.pool.max_connections = 32;
        return config;
    }

private:
    void stop() {
        if (pid_ <= 0)
            return;
        ::kill(pid_, SIGTERM); // nginx's fast shutdown; the master takes its worker along
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = 0;
    }

    sim::static_pages_summary summary_;
    std::uint16_t port_ = 0;
    pid_t pid_ = 0;
};

std::string client_target(timestamp from, timestamp to, std::optional<organization_id> org,
                          std::int64_t page, std::int64_t size = 100) {
    jobs_query q;
    q.type = job_type::all;
    q.start_time = from;
    q.finish_time = to;
    q.organization = org;
    q.page_index = page;
    q.page_size = size;
    return q.target();
}

/// Page 1 of the first 30-day window, every organization: a page nginx always has.
std::string first_page(const sim::dataset& data) {
    return client_target(data.config().begin, data.config().begin + days{30}, std::nullopt, 1);
}

bool have_nginx() {
    // scripts/setup installs it: its absence is a broken set-up, not a reason to pass.
    BOOST_TEST_REQUIRE(::access(nginx_binary, X_OK) == 0,
                       nginx_binary << " is not installed (scripts/setup installs nginx-light)");
    return true;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_static_pages_nginx)

BOOST_AUTO_TEST_CASE(nginx_answers_the_client_as_the_simulator_does) {
    if (!have_nginx())
        return;
    sim::jobs_endpoint endpoint{sim::dataset{small_data()}};
    sim::static_pages_config config;
    config.keepalive_requests = 3;
    nginx_server nginx(endpoint.data(), config);
    const auto& c = endpoint.data().config();
    auto client = nginx.client();

    // The second window of one organization, page by page, and the first page past its end.
    const organization_id org = endpoint.data().organizations()[2].id;
    const timestamp from = c.begin + days{30}, to = c.end;
    sim::filter f;
    f.start = from;
    f.finish = to;
    f.organization = org;
    const std::size_t pages = (endpoint.data().count(f) + 99) / 100;
    BOOST_TEST_REQUIRE(pages >= 2u);
    std::size_t served = 0;
    for (std::size_t page = 1; page <= pages + 1; ++page) {
        const std::string target = client_target(from, to, org, static_cast<std::int64_t>(page));
        const auto res = client.get(target, "any-token");
        BOOST_TEST_REQUIRE(res.status == 200u, target);
        BOOST_TEST(res.header("Content-Type").value_or("") == "application/json; charset=utf-8");
        BOOST_TEST(res.body == endpoint.handle(target, nullptr, "").body);
        served += boost::json::parse(res.body).at("jobs").as_array().size();
    }
    BOOST_TEST(served == endpoint.data().count(f));

    // Without organizationId, the times percent-encoded: the same page.
    std::string encoded = client_target(c.begin, c.begin + days{30}, std::nullopt, 2);
    for (auto at = encoded.find(':'); at != std::string::npos; at = encoded.find(':'))
        encoded.replace(at, 1, "%3A");
    const auto all = client.get(encoded);
    BOOST_TEST(all.status == 200u);
    BOOST_TEST(
        all.body ==
        endpoint.handle(client_target(c.begin, c.begin + days{30}, std::nullopt, 2), nullptr, "")
            .body);

    // Queries no page was written for: a JSON 404.
    for (const std::string& target :
         {client_target(from, to, org, 1, 50), client_target(from + days{1}, to, org, 1),
          client_target(from, to, org, pages + 2), client_target(from, to, org, 1) + "&status=3",
          std::string{"/dynamicsbackup/jobs?type=1&pageSize=100&startTime=2025-11-02T00:00:00Z&"
                      "finishTime=2025-12-02T00:00:00Z"},
          std::string{"/elsewhere"}}) {
        const auto res = client.get(target);
        BOOST_TEST(res.status == 404u, target);
        BOOST_TEST(boost::json::parse(res.body).at("statusCode").as_int64() == 404);
    }

    // A token for anyone.
    const auto token = client.post_form("/connect/token", secret_grant_form("x", "y"));
    BOOST_TEST(token.status == 200u);
    BOOST_TEST(boost::json::parse(token.body).at("token_type").as_string() == "Bearer");
}

BOOST_AUTO_TEST_CASE(nginx_refuses_past_its_rate_limit_as_the_simulator_does) {
    if (!have_nginx())
        return;
    const sim::dataset data{small_data()};
    sim::static_pages_config config;
    config.rate_limit = 1;
    config.rate_burst = 2;
    nginx_server nginx(data, config);
    auto client = nginx.client();
    const auto target = first_page(data);
    BOOST_TEST(client.get(target).status == 200u);
    BOOST_TEST(client.get(target).status == 200u); // the burst
    const auto refused = client.get(target);
    BOOST_TEST(refused.status == 429u);
    BOOST_TEST(refused.header("Retry-After").value_or("") == "1");
    BOOST_TEST(refused.header("Content-Type").value_or("") == "application/json; charset=utf-8");
    BOOST_TEST(boost::json::parse(refused.body).at("statusCode").as_int64() == 429);
    // The token endpoint is not limited.
    BOOST_TEST(client.post_form("/connect/token", secret_grant_form("x", "y")).status == 200u);
}

BOOST_AUTO_TEST_CASE(nginx_waits_its_latency_before_every_answer) {
    if (!have_nginx())
        return;
    sim::jobs_endpoint endpoint{sim::dataset{small_data()}};
    sim::static_pages_config config;
    config.latency = 300ms;
    config.rate_limit = 1;
    config.rate_burst = 1;
    nginx_server nginx(endpoint.data(), config);
    auto client = nginx.client();
    // A lower bound only: nginx may take longer, never less (echo_sleep's timer).
    const auto waited = [](auto answer, unsigned status, const char* what) {
        const auto from = steady_clock::now();
        const auto res = answer();
        BOOST_TEST(res.status == status, what);
        const auto ms = duration_cast<milliseconds>(steady_clock::now() - from).count();
        BOOST_TEST(ms >= 300, what);
        return res;
    };
    const auto target = first_page(endpoint.data());
    const auto page = waited([&] { return client.get(target); }, 200u, "a page");
    BOOST_TEST(page.body == endpoint.handle(target, nullptr, "").body);
    const auto refused = waited([&] { return client.get(target); }, 429u, "a refusal");
    BOOST_TEST(refused.header("Retry-After").value_or("") == "1");
    waited([&] { return client.get("/elsewhere"); }, 404u, "another path");
    const auto token =
        waited([&] { return client.post_form("/connect/token", secret_grant_form("x", "y")); },
               200u, "a token");
    BOOST_TEST(boost::json::parse(token.body).at("token_type").as_string() == "Bearer");
    // Last: a refused request does not count in limit_req, and by now a second has passed since
    // the page was let through (both counted after their wait).
    waited([&] { return client.get(target + "&status=3"); }, 404u, "a page never written");
}

BOOST_AUTO_TEST_CASE(nginx_closes_after_keepalive_requests) {
    if (!have_nginx())
        return;
    const sim::dataset data{small_data()};
    sim::static_pages_config config;
    config.keepalive_requests = 3;
    nginx_server nginx(data, config);
    auto client = nginx.client();
    const auto target = first_page(data);
    BOOST_TEST(client.get(target).keep_alive);
    BOOST_TEST(client.get(target).keep_alive);
    const auto third = client.get(target);
    BOOST_TEST(third.status == 200u);
    BOOST_TEST(!third.keep_alive); // Connection: close
    BOOST_TEST(client.connections_opened() == 1u);
    BOOST_TEST(client.get(target).status == 200u);
    BOOST_TEST(client.connections_opened() == 2u);
}

BOOST_AUTO_TEST_CASE(nginx_ignoring_the_time_filter_serves_any_window) {
    if (!have_nginx())
        return;
    sim::jobs_endpoint_config endpoint_config;
    endpoint_config.window = sim::window_match::ignored;
    sim::jobs_endpoint endpoint{sim::dataset{small_data()}, endpoint_config};
    sim::static_pages_config config;
    config.endpoint = endpoint_config;
    nginx_server nginx(endpoint.data(), config);
    auto client = nginx.client();
    const auto& c = endpoint.data().config();
    const organization_id org = endpoint.data().organizations()[0].id;
    // Whatever the window, the organization's second page, as the simulator serves it.
    const auto expected = boost::json::parse(
        endpoint.handle(client_target(c.begin, c.end, org, 2), nullptr, "").body);
    for (const auto& [from, to] : {std::pair{c.begin, c.end}, std::pair{c.end - days{1}, c.end},
                                   std::pair{timestamp{sys_days{year{2020} / 1 / 1}},
                                             timestamp{sys_days{year{2020} / 1 / 2}}}}) {
        const auto res = client.get(client_target(from, to, org, 2));
        BOOST_TEST_REQUIRE(res.status == 200u);
        const auto got = boost::json::parse(res.body);
        BOOST_TEST(got.at("jobs") == expected.at("jobs"));
        BOOST_TEST(got.at("totalCount") == expected.at("totalCount"));
    }
    // Times are still checked for shape.
    BOOST_TEST(client
                   .get("/dynamicsbackup/jobs?type=0&pageSize=100&startTime=yesterday&"
                        "finishTime=2026-01-01T00:00:00Z")
                   .status == 404u);
}

// Every organization's whole range in the written 30-day windows, as the matching backfill asks.
fetch_request whole_range(const sim::dataset& data) {
    fetch_request request;
    request.start = data.config().begin;
    request.finish = data.config().end;
    request.window = duration_cast<milliseconds>(days{30});
    for (const auto& org : data.organizations())
        request.organizations.push_back(org.id);
    return request;
}

std::vector<job> every_job_in(const sim::dataset& data, const fetch_request& request) {
    std::vector<job> jobs;
    for (const auto& org : request.organizations) {
        sim::filter f;
        f.start = request.start;
        f.finish = request.finish;
        f.organization = org;
        for (auto& j : data.select(f))
            jobs.push_back(std::move(j));
    }
    return jobs;
}

BOOST_AUTO_TEST_CASE(the_engine_gets_exactly_the_dataset_from_nginx_closing_every_3_requests) {
    have_nginx();
    const sim::dataset data{small_data()};
    sim::static_pages_config config;
    config.keepalive_requests = 3;
    nginx_server nginx(data, config);
    const auto request = whole_range(data);
    auto client = nginx.engine_config();
    client.rate.max_in_flight = 4; // connections live long enough to meet nginx's limit
    client.pool.max_connections = 4;
    const auto out = run_fetch(client, request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, every_job_in(data, request));
    BOOST_TEST((out.stats.server_time_filter == time_filter::start));
    BOOST_TEST(out.stats.reconnects_server_close >= out.stats.requests / 4);
    BOOST_TEST(out.stats.tls_sessions_resumed > 0u);
}

BOOST_AUTO_TEST_CASE(the_engine_learns_nginx_rate_limit_and_gets_every_job_once) {
    // nginx's limit_req, not the simulator's token bucket: a leaky bucket counted in
    // milliseconds, 429 with `Retry-After: 1` (nginx cannot say less). 16 in flight against 50
    // pages/s with a burst of 5: the first wave is mostly refused. Without a learnt rate every wave
    // after each pause is too (84 429s of 286 requests, 29%, 40 s); learnt, the 429s are the
    // first wave's and a few overshoots (19 of 221, 10 s).
    have_nginx();
    const sim::dataset data{small_data()};
    sim::static_pages_config config;
    config.page_size = 20;
    config.rate_limit = 50;
    config.rate_burst = 5;
    nginx_server nginx(data, config);
    auto request = whole_range(data);
    request.page_size = 20;
    auto client = nginx.engine_config();
    client.rate.max_in_flight = 16;
    const auto out = run_fetch(client, request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, every_job_in(data, request));
    BOOST_TEST_MESSAGE("nginx limit_req: " << out.stats.requests << " requests, "
                                           << out.stats.throttled << " 429s");
    BOOST_TEST(out.stats.throttled >= 5u); // nginx refused: the limit is real
    BOOST_TEST(out.stats.throttled * 100 <= out.stats.requests * 15);
}

BOOST_AUTO_TEST_CASE(the_engine_learns_that_nginx_ignores_the_time_filter) {
    have_nginx();
    const sim::dataset data{small_data()};
    sim::static_pages_config config;
    config.endpoint.window = sim::window_match::ignored;
    config.keepalive_requests = 10;
    config.page_size = 20;
    nginx_server nginx(data, config);
    auto request = whole_range(data);
    // A range inside the data: the server sends everything, the engine keeps the range.
    request.start += days{3};
    request.finish -= days{5};
    request.window = duration_cast<milliseconds>(days{7});
    request.page_size = 20;
    auto client = nginx.engine_config();
    client.rate.max_in_flight = 8;
    const auto out = run_fetch(client, request);
    BOOST_TEST_REQUIRE(!out.ec, out.diag.message);
    require_exactly(out.jobs, every_job_in(data, request));
    BOOST_TEST((out.stats.server_time_filter == time_filter::ignored));
    BOOST_TEST(out.stats.jobs_out_of_range > 0u);
    // A single window pages each organization's whole set once; learning that the filter is
    // ignored costs the pages in flight meanwhile.
    std::size_t single_window_pages = 0;
    for (const auto& org : request.organizations) {
        sim::filter f;
        f.organization = org;
        f.window = sim::window_match::ignored;
        single_window_pages += (data.count(f) + 19) / 20;
    }
    BOOST_TEST_MESSAGE("nginx ignoring the filter: " << out.stats.requests << " requests for "
                                                     << single_window_pages
                                                     << " pages of a single window");
    BOOST_TEST(out.stats.requests <= single_window_pages * 11 / 10);
}

BOOST_AUTO_TEST_SUITE_END()
