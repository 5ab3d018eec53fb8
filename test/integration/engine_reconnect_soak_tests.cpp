// Reconnect storms: a windowed backfill of many organizations through thousands of reconnects
// (the client's own request cap, a server that ends connections every few requests as nginx's
// keepalive_requests does, and a balancer that drains every connection at once), with TLS
// session resumption on every new connection. Every run must deliver exactly the dataset. Run
// in CI under AddressSanitizer too: this is where a session freed under a pending handshake
// double-freed.
#include "engine_fixture.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

using namespace dynjobs;
using namespace dynjobs::testkit;
namespace bdata = boost::unit_test::data;
using std::chrono::days;

namespace {

// The command's default shape, scaled to fit the sanitizer phase: 20 organizations, three years,
// 30-day windows (740 segments), 32 requests in flight, small pages (about 1,000 requests).
sim::sim_config storm_server(std::uint64_t seed) {
    auto config = small_sim_config();
    config.dataset.seed = seed;
    config.dataset.organizations = 20;
    config.dataset.jobs = 6000;
    config.dataset.begin = config.dataset.end - days{3 * 365};
    // Even seeds: the server ends connections first (nginx's keepalive_requests); odd seeds:
    // the client retires them first (its own request cap, below).
    config.keepalive_requests = seed % 2 == 0 ? 5 + seed % 3 : 1000;
    config.close_all_every = 150 + seed % 3 * 50;
    return config;
}

void storm(std::uint64_t seed) {
    sim_fixture fx(storm_server(seed));
    auto request = whole_dataset(fx);
    for (const auto& org : fx.sim().organizations())
        request.organizations.push_back(org.id);
    request.window = std::chrono::duration_cast<std::chrono::milliseconds>(days{30});
    request.page_size = 8;
    auto config = engine_config(fx);
    config.pool.max_connections = 32;
    config.rate.max_in_flight = 32;
    config.max_in_flight_per_organization = 8;
    config.pool.max_requests_per_connection = seed % 2 == 0 ? 1000 : 5 + seed % 3;
    const auto out = run_fetch(config, request);
    BOOST_TEST_REQUIRE(!out.ec, "seed " << seed << ": " << out.diag.message);
    require_exactly(out.jobs, expected_jobs(fx, request));

    const auto& st = out.stats;
    const auto server = fx.sim().counters();
    BOOST_TEST_MESSAGE(
        "seed " << seed << ": " << st.requests << " requests, " << st.connections_opened
                << " connections (" << st.tls_sessions_resumed
                << " resumed); reconnects: server close " << st.reconnects_server_close << ", idle "
                << st.reconnects_idle << ", stale retry " << st.reconnects_stale_retry << ", cap "
                << st.reconnects_request_cap << "; server drains " << server.close_all_drains);
    // The storm really happened, from every side, and resumption was really used.
    BOOST_TEST(st.requests >= 900u);
    BOOST_TEST(st.connections_opened >= st.requests / 30);
    if (seed % 2 == 0) {
        BOOST_TEST(st.reconnects_server_close > st.requests / 10);
        BOOST_TEST(server.closed_keepalive_limit > 0u);
    } else {
        BOOST_TEST(st.reconnects_request_cap > st.requests / 10);
    }
    BOOST_TEST(server.close_all_drains > 0u);
    BOOST_TEST(st.reconnects_stale_retry + st.reconnects_idle > 0u);
    BOOST_TEST(st.tls_sessions_resumed > st.connections_opened / 10);
}

} // namespace

BOOST_AUTO_TEST_SUITE(engine_reconnect_soak)

BOOST_DATA_TEST_CASE(twenty_backfills_through_reconnect_storms_deliver_exactly_once,
                     bdata::xrange(1, 21), seed) {
    storm(static_cast<std::uint64_t>(seed));
}

BOOST_AUTO_TEST_SUITE_END()
