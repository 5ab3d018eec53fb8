// The server itself: TLS versions and names, keep-alive, plain HTTP, concurrency, certificates
// on disk, counters and the request log, stop().
#include "sim_fixture.hpp"

#include <dynjobs/sim/certificates.hpp>

#include <boost/test/unit_test.hpp>

#include <openssl/ssl.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <latch>
#include <sstream>
#include <thread>

namespace {

using namespace dynjobs;
using namespace dynjobs::testkit;

std::filesystem::path scratch_dir(std::string_view name) {
    auto dir = std::filesystem::temp_directory_path() /
               ("dynjobs-simsrv-test-" + std::to_string(::getpid()) + "-" + std::string(name));
    std::filesystem::remove_all(dir);
    return dir;
}

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

BOOST_AUTO_TEST_SUITE(server)

BOOST_AUTO_TEST_CASE(keep_alive_serves_many_requests_on_one_connection) {
    sim_fixture fx;
    auto client = fx.https_client();
    const std::string token = fx.token();
    fx.sim().clear_request_log();
    for (int i = 1; i <= 5; ++i)
        BOOST_TEST(client.get(jobs_target("type=0", i, 10), token).status == 200u);
    BOOST_TEST(client.connections_opened() == 1u);
    const auto log = fx.sim().request_log();
    BOOST_TEST_REQUIRE(log.size() == 5u);
    for (const auto& e : log)
        BOOST_TEST(e.connection_id == log.front().connection_id);
}

BOOST_AUTO_TEST_CASE(request_log_and_counters_reflect_requests) {
    sim_fixture fx;
    auto client = fx.https_client();
    const std::string token = fx.token();
    client.get(jobs_target("type=1", 3, 10), token);
    client.get(jobs_target("type=1", 4, 10));
    client.get("/elsewhere?x=1");

    const auto counters = fx.sim().counters();
    BOOST_TEST(counters.requests == 4u);
    BOOST_TEST(counters.token_requests == 1u);
    BOOST_TEST(counters.jobs_requests == 2u);
    BOOST_TEST(counters.tokens_issued == 1u);
    BOOST_TEST(counters.by_status.at(200) == 2u);
    BOOST_TEST(counters.by_status.at(401) == 1u);
    BOOST_TEST(counters.by_status.at(404) == 1u);
    BOOST_TEST(counters.connections_accepted >= 2u); // fx.token() uses its own connection

    const auto log = fx.sim().request_log();
    BOOST_TEST_REQUIRE(log.size() == 4u);
    BOOST_TEST(log[0].method == "POST");
    BOOST_TEST(log[0].path == "/connect/token");
    BOOST_TEST(log[0].client_id == sim::default_client_id);
    BOOST_TEST(log[1].method == "GET");
    BOOST_TEST(log[1].path == "/dynamicsbackup/jobs");
    BOOST_TEST(log[1].query.starts_with("pageIndex=3&pageSize=10&"));
    BOOST_TEST(log[1].status == 200u);
    BOOST_TEST(log[1].client_id == sim::default_client_id);
    BOOST_TEST(log[2].status == 401u);
    BOOST_TEST(log[2].client_id.empty());
    BOOST_TEST(log[3].path == "/elsewhere");
    BOOST_TEST(log[3].query == "x=1");
    BOOST_TEST(log[1].connection_id == log[3].connection_id);
    BOOST_TEST(log[0].connection_id != log[1].connection_id);
    BOOST_TEST((log[0].time <= log[1].time && log[1].time <= log[3].time));
}

BOOST_AUTO_TEST_CASE(tls_1_1_is_refused_and_1_2_accepted) {
    sim_fixture fx;
    client_options old_tls;
    old_tls.max_tls_version = TLS1_1_VERSION;
    auto old_client = fx.https_client(old_tls);
    BOOST_TEST(old_client.connect().failed());
    // The refusal is the server's: it counts a failed handshake (it may lag the client a bit).
    for (int i = 0; i < 500 && fx.sim().counters().tls_handshake_failures == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_TEST(fx.sim().counters().tls_handshake_failures >= 1u);

    client_options tls12;
    tls12.max_tls_version = TLS1_2_VERSION;
    auto client = fx.https_client(tls12);
    BOOST_TEST(!client.connect().failed());
    BOOST_TEST(client.get(jobs_target()).status == 401u);
}

BOOST_AUTO_TEST_CASE(certificate_names_localhost_and_127_0_0_1_only) {
    sim_fixture fx;
    client_options by_ip;
    by_ip.host_name = "127.0.0.1";
    BOOST_TEST(!fx.https_client(by_ip).connect().failed());
    client_options wrong;
    wrong.host_name = "example.com";
    BOOST_TEST(fx.https_client(wrong).connect().failed());
    // A client that does not trust the simulator's CA fails verification.
    client_options untrusted;
    sim::server_pki stranger;
    diagnostics diag;
    BOOST_TEST_REQUIRE(!sim::generate_server_pki({}, stranger, diag));
    untrusted.port = fx.sim().https_port();
    untrusted.ca_pem = stranger.ca_cert_pem;
    BOOST_TEST(test_client(untrusted).connect().failed());
}

BOOST_AUTO_TEST_CASE(plain_http_port_serves_the_same_api) {
    auto config = small_sim_config();
    config.http_port = 0;
    config.jobs.link_style = sim::next_link_style::absolute;
    sim_fixture fx(config);
    BOOST_TEST(fx.sim().http_port() != 0);
    BOOST_TEST(fx.sim().http_base_url() ==
               "http://127.0.0.1:" + std::to_string(fx.sim().http_port()));
    auto http = fx.http_client();
    BOOST_TEST(http.get(jobs_target()).status == 401u);
    auto res = http.get(jobs_target("type=0", 1, 10), fx.token());
    BOOST_TEST(res.status == 200u);
    // Absolute next links name the listener the request came in on.
    BOOST_TEST(res.body.find(fx.sim().http_base_url() + "/dynamicsbackup/jobs?") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(two_hundred_concurrent_connections_are_served,
                     *boost::unit_test::label("threads")) {
    sim_fixture fx;
    const std::string token = fx.token();
    // 4 threads x 50 connections, all opened before any is used, so that 200 connections are
    // open at the same time; then each sends a request.
    std::atomic<int> ok{0};
    std::atomic<int> connected{0};
    std::latch all_open(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            std::vector<test_client> clients;
            for (int i = 0; i < 50; ++i) {
                clients.push_back(fx.https_client());
                if (!clients.back().connect())
                    ++connected;
            }
            all_open.arrive_and_wait();
            for (auto& c : clients)
                if (c.is_open() && c.get(jobs_target("type=0", 1, 5), token).status == 200u)
                    ++ok;
        });
    for (auto& t : threads)
        t.join();
    BOOST_TEST(connected.load() == 200);
    BOOST_TEST(ok.load() == 200);
    BOOST_TEST(fx.sim().counters().connections_accepted >= 201u);
}

BOOST_AUTO_TEST_CASE(single_threaded_io_context_works) {
    sim_fixture fx(small_sim_config(), 1);
    auto client = fx.https_client();
    BOOST_TEST(client.get(jobs_target(), fx.token()).status == 200u);
}

BOOST_AUTO_TEST_CASE(stop_closes_listeners_and_open_connections) {
    sim_fixture fx;
    auto client = fx.https_client();
    const std::string token = fx.token();
    BOOST_TEST(client.get(jobs_target(), token).status == 200u);
    fx.sim().stop();
    http_response res;
    BOOST_TEST(
        client.request("GET", jobs_target(), res, {{"Authorization", "Bearer " + token}}).failed());
    BOOST_TEST(fx.https_client().connect().failed());
}

BOOST_AUTO_TEST_CASE(destroying_the_handle_with_open_connections_is_safe) {
    boost::asio::io_context ioc;
    auto sim = std::make_unique<sim::simulator>(ioc.get_executor(), small_sim_config());
    BOOST_TEST_REQUIRE(!sim->start());
    client_options o;
    o.port = sim->https_port();
    o.ca_pem = sim->ca_pem();
    std::thread runner([&] { ioc.run(); });
    test_client client(o);
    BOOST_TEST(client.get(jobs_target()).status == 401u); // connection open and idle
    sim.reset();   // stop() from the destructor; connections finish on their own
    runner.join(); // returns: nothing is left running
    BOOST_TEST(client.raw_get(jobs_target()).bytes.empty());
}

BOOST_AUTO_TEST_CASE(generated_certificates_are_written_and_loadable) {
    const auto dir = scratch_dir("certs");
    auto config = small_sim_config();
    config.cert_dir = dir;
    std::string ca;
    {
        sim_fixture fx(config);
        BOOST_TEST(fx.sim().ca_file() == dir / "ca.pem");
        ca = read_all(dir / "ca.pem");
        BOOST_TEST(ca == fx.sim().ca_pem());
        struct stat st {};
        BOOST_TEST_REQUIRE(::stat((dir / "server-key.pem").c_str(), &st) == 0);
        BOOST_TEST((st.st_mode & 0777) == 0600u);
        client_options o;
        o.port = fx.sim().https_port();
        o.ca_pem = ca;
        BOOST_TEST(test_client(o).get(jobs_target()).status == 401u);
    }
    // A second simulator serves the written files; clients still trust the first CA.
    auto loaded = small_sim_config();
    loaded.cert_file = dir / "server.pem";
    loaded.key_file = dir / "server-key.pem";
    sim_fixture fx(loaded);
    client_options o;
    o.port = fx.sim().https_port();
    o.ca_pem = ca;
    BOOST_TEST(test_client(o).get(jobs_target()).status == 401u);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(simulators_sharing_a_cert_dir_serve_one_pki_and_replace_a_spoilt_one) {
    // Two `dynjobs sim` in one folder (the default <temp>/dynjobs-sim, or one per tenant): the
    // second used to overwrite the first one's files, so clients trusting ca.pem failed TLS
    // against the first.
    const auto dir = scratch_dir("shared-certs");
    auto config = small_sim_config();
    config.cert_dir = dir;
    sim_fixture first(config);
    sim_fixture second(config);
    const std::string ca = read_all(dir / "ca.pem");
    BOOST_TEST(first.sim().ca_pem() == ca);
    BOOST_TEST(second.sim().ca_pem() == ca);
    for (const auto* fx : {&first, &second}) {
        client_options o;
        o.port = fx->sim().https_port();
        o.ca_pem = ca;
        BOOST_TEST(test_client(o).get(jobs_target()).status == 401u);
    }

    // A spoilt set (a leaf that is not PEM) is replaced, not served or refused.
    std::ofstream(dir / "server.pem") << "not a certificate\n";
    sim_fixture third(config);
    const std::string fresh_ca = read_all(dir / "ca.pem");
    BOOST_TEST(fresh_ca != ca);
    client_options o;
    o.port = third.sim().https_port();
    o.ca_pem = fresh_ca;
    BOOST_TEST(test_client(o).get(jobs_target()).status == 401u);

    // A set that expires within a day is replaced too: a run must not outlive its certificate.
    const auto expiring_dir = scratch_dir("expiring-certs");
    auto expiring = small_sim_config();
    expiring.cert_dir = expiring_dir;
    expiring.cert_validity_days = 0;
    std::string short_lived_ca;
    {
        sim_fixture short_lived(expiring);
        short_lived_ca = read_all(expiring_dir / "ca.pem");
    }
    expiring.cert_validity_days = 30;
    sim_fixture renewed(expiring);
    BOOST_TEST(read_all(expiring_dir / "ca.pem") != short_lived_ca);
    BOOST_TEST(renewed.sim().ca_pem() == read_all(expiring_dir / "ca.pem"));
    std::filesystem::remove_all(dir);
    std::filesystem::remove_all(expiring_dir);
}

BOOST_AUTO_TEST_CASE(start_reports_bad_configuration) {
    boost::asio::io_context ioc;
    auto config = small_sim_config();
    config.host = "not-an-address";
    sim::simulator bad_host(ioc.get_executor(), config);
    diagnostics diag;
    BOOST_TEST(bad_host.start(diag).failed());
    BOOST_TEST(diag.field == "host");

    config = small_sim_config();
    config.cert_file = "/nonexistent/server.pem";
    config.key_file = "/nonexistent/server-key.pem";
    sim::simulator bad_cert(ioc.get_executor(), config);
    BOOST_TEST(bad_cert.start(diag).failed());
    BOOST_TEST(diag.message.find("/nonexistent/server.pem") != std::string::npos);

    // A taken port.
    sim_fixture fx;
    config = small_sim_config();
    config.https_port = fx.sim().https_port();
    sim::simulator taken(ioc.get_executor(), config);
    BOOST_TEST(taken.start(diag).failed());
    BOOST_TEST(diag.field == "port");
}

BOOST_AUTO_TEST_CASE(client_certificate_thumbprints_agree) {
    sim::client_certificate cert;
    diagnostics diag;
    BOOST_TEST_REQUIRE(!sim::make_client_certificate("thumbprint", cert, diag));
    BOOST_TEST(cert.x5t == sim::certificate_x5t(cert.cert_pem));
    BOOST_TEST(cert.x5t.size() == 27u); // 20 bytes of SHA-1, base64url without padding
    BOOST_TEST(cert.thumbprint_hex.size() == 40u);
    BOOST_TEST(cert.key_pem.find("BEGIN PRIVATE KEY") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
