// write_static_pages(): the files a static server (nginx) serves are, query for query, what the
// simulator answers to the targets the client sends; the nginx configuration maps those targets
// onto the files.
#include "sim/static_pages.hpp"

#include <dynjobs/jobs_query.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace json = boost::json;
using namespace dynjobs;
using namespace dynjobs::sim;
using namespace std::chrono;

namespace {

dataset_config small_config() {
    dataset_config c;
    c.seed = 21;
    c.organizations = 3;
    c.jobs = 3000;
    c.begin = c.end - days{75}; // two full 30-day windows and a short last one
    return c;
}

/// A fresh folder, removed at the end of the test.
struct scratch {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() /
        ("dynjobs-static-pages-" + std::to_string(::getpid()) + "-" +
         std::string{boost::unit_test::framework::current_test_case().p_name.get()});
    scratch() { std::filesystem::remove_all(dir); }
    ~scratch() { std::filesystem::remove_all(dir); }
};

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The target the client sends for one page of one window.
std::string client_target(timestamp from, timestamp to, std::optional<organization_id> org,
                          std::int64_t page, std::int64_t size) {
    jobs_query q;
    q.type = job_type::all;
    q.start_time = from;
    q.finish_time = to;
    q.organization = org;
    q.page_index = page;
    q.page_size = size;
    return q.target();
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_static_pages)

BOOST_AUTO_TEST_CASE(every_page_of_a_window_is_the_simulators_answer) {
    scratch s;
    const dataset_config c = small_config();
    jobs_endpoint ep{dataset{c}};
    static_pages_config cfg;
    cfg.dir = s.dir;
    cfg.page_size = 40;
    cfg.port = 9443;
    static_pages_summary summary;
    diagnostics diag;
    BOOST_TEST_REQUIRE(!write_static_pages(ep.data(), cfg, summary, diag), diag.message);
    BOOST_TEST(summary.dir == s.dir);
    BOOST_TEST(summary.windows == 3u);
    BOOST_TEST(summary.organization_filters == 4u);
    BOOST_TEST(summary.ca_file == s.dir / "ca.pem");

    // The second window of the second organization: every page, and nothing more.
    const organization_id org = ep.data().organizations()[1].id;
    const timestamp from = c.begin + days{30}, to = c.begin + days{60};
    filter f;
    f.start = from;
    f.finish = to;
    f.organization = org;
    const std::size_t total = ep.data().count(f);
    BOOST_TEST_REQUIRE(total > 80u); // at least three pages
    BOOST_TEST(format_iso8601(from) == "2025-11-17T00:00:00Z");
    BOOST_TEST(format_iso8601(to) == "2025-12-17T00:00:00Z");
    const auto folder =
        s.dir / "pages/0/40" / org.to_string() / "20251117T000000Z_20251217T000000Z";
    std::size_t pages = 0, jobs = 0;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        (void)entry;
        ++pages;
    }
    BOOST_TEST(pages == (total + 39) / 40 + 1); // and the first past the end, empty
    for (std::size_t page = 1; page <= pages; ++page) {
        const std::string body = read_all(folder / (std::to_string(page) + ".json"));
        const http_reply live =
            ep.handle(client_target(from, to, org, static_cast<std::int64_t>(page), 40), nullptr,
                      "https://127.0.0.1:9443");
        BOOST_TEST_REQUIRE(live.status == 200u);
        BOOST_TEST(body == live.body);
        jobs += json::parse(body).at("jobs").as_array().size();
    }
    BOOST_TEST(jobs == total);

    // Without organizationId: the "all" folder, page 1.
    const timestamp last_from = c.begin + days{60};
    const std::string all_page =
        read_all(s.dir / "pages/0/40/all/20251217T000000Z_20260101T000000Z/1.json");
    BOOST_TEST(format_iso8601(last_from) == "2025-12-17T00:00:00Z");
    BOOST_TEST(all_page ==
               ep.handle(client_target(last_from, c.end, std::nullopt, 1, 40), nullptr, "").body);
    BOOST_TEST(summary.page_files > 3000u / 40u * 2u);

    // The 404 body is the simulator's JSON error.
    const auto not_found = json::parse(read_all(s.dir / "errors/404.json"));
    BOOST_TEST(not_found.at("statusCode").as_int64() == 404);
}

BOOST_AUTO_TEST_CASE(nginx_conf_and_certificates) {
    scratch s;
    const dataset d{small_config()};
    static_pages_config cfg;
    cfg.dir = s.dir / "sub/../out/"; // made absolute and normal
    cfg.port = 9555;
    cfg.keepalive_requests = 7;
    cfg.foreground = true;
    static_pages_summary summary;
    diagnostics diag;
    BOOST_TEST_REQUIRE(!write_static_pages(d, cfg, summary, diag), diag.message);
    const std::string dir = (s.dir / "out").string();
    BOOST_TEST(summary.dir.string() == dir);
    const std::string conf = read_all(summary.config_file);
    for (const std::string& expected : std::vector<std::string>{
             "worker_processes 1;\n", "daemon off;\n", "pid " + dir + "/nginx.pid;\n",
             "error_log " + dir + "/error.log notice;\n", "access_log " + dir + "/access.log;\n",
             "client_body_temp_path " + dir + "/temp/client_body;\n",
             "default_type application/json;\n", "keepalive_requests 7;\n",
             "listen 127.0.0.1:9555 ssl;\n", "ssl_certificate " + dir + "/server.pem;\n",
             "ssl_certificate_key " + dir + "/server-key.pem;\n", "root " + dir + ";\n",
             "location = /dynamicsbackup/jobs {\n", "location = /connect/token {\n",
             "/pages/${dynjobs_no_status}${dynjobs_type}/${dynjobs_page_size}/${dynjobs_org}/"
             "${dynjobs_startTime}_${dynjobs_finishTime}/${dynjobs_page_index}.json =404;"}) {
        BOOST_TEST(conf.find(expected) != std::string::npos, expected);
    }
    // No rate limit and no latency unless asked for.
    BOOST_TEST(conf.find("limit_req") == std::string::npos);
    BOOST_TEST(conf.find("load_module") == std::string::npos);
    BOOST_TEST(conf.find("echo_") == std::string::npos);
    BOOST_TEST(!std::filesystem::exists(summary.dir / "errors" / "429.json"));
    BOOST_TEST(read_all(summary.ca_file).starts_with("-----BEGIN CERTIFICATE-----"));
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat((summary.dir / "server-key.pem").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
        BOOST_TEST(std::filesystem::is_directory(summary.dir / "temp" / temp), temp);
    }

    const std::vector<std::string> expected_args{"--base-url",  "https://127.0.0.1:9555",
                                                 "--ca-file",   dir + "/ca.pem",
                                                 "--client-id", "dynjobs-static-pages",
                                                 "--since",     "2025-10-18T00:00:00Z",
                                                 "--until",     "2026-01-01T00:00:00Z",
                                                 "--window",    "30d",
                                                 "--page-size", "100"};
    BOOST_TEST(matching_backfill_arguments(d, cfg) == expected_args,
               boost::test_tools::per_element());
    cfg.window = hours{36};
    BOOST_TEST(matching_backfill_arguments(d, cfg)[11] == "36h");
    cfg.window = std::nullopt;
    BOOST_TEST(matching_backfill_arguments(d, cfg)[11] == "none");

    // A burst of one is nginx's default; it refuses "burst=0".
    cfg.rate_limit = 5;
    cfg.rate_burst = 1;
    BOOST_TEST_REQUIRE(!write_static_pages(d, cfg, summary, diag), diag.message);
    BOOST_TEST(read_all(summary.config_file).find("limit_req zone=dynjobs nodelay;\n") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_latency_delays_every_location_through_the_echo_module) {
    scratch s;
    const dataset d{small_config()};
    static_pages_config cfg;
    cfg.dir = s.dir;
    cfg.latency = milliseconds{50};
    cfg.rate_limit = 200;
    cfg.rate_burst = 1; // nginx's default burst: no burst= (nginx refuses burst=0)
    // Any file will do for the module here: only nginx loads it (sim_static_pages_tests).
    cfg.echo_module = s.dir / "echo.so";
    std::filesystem::create_directories(s.dir);
    std::ofstream{cfg.echo_module} << "";
    static_pages_summary summary;
    diagnostics diag;
    BOOST_TEST_REQUIRE(!write_static_pages(d, cfg, summary, diag), diag.message);
    const std::string conf = read_all(summary.config_file);
    BOOST_TEST(conf.starts_with("load_module " + cfg.echo_module.string() + ";\n"));
    for (const char* name : {"token", "jobs", "elsewhere"}) {
        BOOST_TEST(conf.find(std::string{"echo_sleep 0.050;\n            echo_exec @"} + name +
                             ";\n") != std::string::npos,
                   name);
        BOOST_TEST(conf.find(std::string{"location @"} + name + " {\n") != std::string::npos, name);
    }
    // The limit is counted after the wait, in the named location, so a 429 waits too.
    const auto jobs = conf.find("location @jobs {\n");
    BOOST_TEST(conf.find("limit_req zone=dynjobs nodelay;") > jobs);
}

BOOST_AUTO_TEST_CASE(ignored_time_writes_one_set_per_organization) {
    scratch s;
    jobs_endpoint_config endpoint;
    endpoint.window = window_match::ignored;
    jobs_endpoint ep{dataset{small_config()}, endpoint};
    static_pages_config cfg;
    cfg.dir = s.dir;
    cfg.endpoint = endpoint;
    static_pages_summary summary;
    diagnostics diag;
    BOOST_TEST_REQUIRE(!write_static_pages(ep.data(), cfg, summary, diag), diag.message);
    BOOST_TEST(summary.windows == 1u);
    const organization_id org = ep.data().organizations()[0].id;
    filter whole;
    whole.organization = org;
    whole.window = window_match::ignored;
    const std::size_t pages = (ep.data().count(whole) + 99) / 100;
    BOOST_TEST_REQUIRE(pages >= 2u);
    const auto folder = s.dir / "pages/0/100" / org.to_string();
    BOOST_TEST(std::filesystem::exists(folder / (std::to_string(pages + 1) + ".json")));
    BOOST_TEST(!std::filesystem::exists(folder / (std::to_string(pages + 2) + ".json")));
    // Any window gets the organization's pages; the simulator asked for the dataset's range
    // answers them byte for byte (its nextLink echoes that range).
    const auto& c = ep.data().config();
    BOOST_TEST(read_all(folder / "2.json") ==
               ep.handle(client_target(c.begin, c.end, org, 2, 100), nullptr, "").body);
    const auto other = json::parse(
        ep.handle(client_target(c.end - days{1}, c.end, org, 2, 100), nullptr, "").body);
    BOOST_TEST(json::parse(read_all(folder / "2.json")).at("jobs") == other.at("jobs"));
    const std::string conf = read_all(s.dir / "nginx.conf");
    BOOST_TEST(conf.find("${dynjobs_org}/${dynjobs_startTime}${dynjobs_finishTime}${dynjobs_"
                         "page_index}.json =404;") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(refuses_what_static_pages_cannot_serve) {
    scratch s;
    const dataset d{small_config()};
    const auto refused = [&](static_pages_config cfg, std::string_view field) {
        static_pages_summary summary;
        diagnostics diag;
        BOOST_TEST(write_static_pages(d, cfg, summary, diag).failed(), field);
        BOOST_TEST(diag.field == field);
        BOOST_TEST(!std::filesystem::exists(s.dir / "nginx.conf"));
    };
    static_pages_config cfg;
    refused(cfg, "dir");
    cfg.dir = s.dir / "a folder with spaces";
    refused(cfg, "dir");
    cfg.dir = s.dir;
    cfg.page_size = 1001;
    refused(cfg, "page_size");
    cfg.page_size = 100;
    cfg.window = milliseconds{1500};
    refused(cfg, "window");
    cfg.window = days{30};
    cfg.endpoint.unstable_order = true;
    refused(cfg, "unstable_order");
    cfg.endpoint.unstable_order = false;
    cfg.endpoint.huge_total = true;
    refused(cfg, "huge_total");
    cfg.endpoint.huge_total = false;
    cfg.port = 0;
    refused(cfg, "port");
    cfg.port = 8443;
    cfg.rate_limit = 200;
    cfg.rate_burst = 0;
    refused(cfg, "rate_burst");
    cfg.rate_burst = 10;
    cfg.latency = milliseconds{-1};
    refused(cfg, "latency");
    cfg.latency = milliseconds{50};
    cfg.echo_module = s.dir / "no-such-module.so";
    refused(cfg, "echo_module");
}

BOOST_AUTO_TEST_SUITE_END()
