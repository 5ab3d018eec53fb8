#include <dynjobs/policy/host_gate.hpp>

#include <boost/test/unit_test.hpp>

using namespace std::chrono;
using dynjobs::policy::host_gate;
using dynjobs::policy::rate_config;
using outcome = host_gate::outcome;

namespace {
const host_gate::time_point t0 = host_gate::time_point{} + hours{1};
}

BOOST_AUTO_TEST_SUITE(host_gates)

BOOST_AUTO_TEST_CASE(admits_up_to_the_in_flight_limit) {
    rate_config config;
    config.max_in_flight = 3;
    host_gate gate(config);
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST_REQUIRE((gate.next_start(t0) == t0));
        gate.on_start(t0);
    }
    BOOST_TEST(!gate.next_start(t0).has_value());
    gate.on_finish(outcome::success, t0);
    BOOST_TEST((gate.next_start(t0) == t0));
}

BOOST_AUTO_TEST_CASE(a_pause_holds_every_new_request) {
    host_gate gate;
    gate.pause_until(t0 + seconds{5});
    gate.pause_until(t0 + seconds{2}); // an earlier pause does not shorten the current one
    BOOST_TEST((gate.next_start(t0) == t0 + seconds{5}));
    BOOST_TEST((gate.paused_until(t0) == t0 + seconds{5}));
    BOOST_TEST((gate.next_start(t0 + seconds{6}) == t0 + seconds{6}));
    BOOST_TEST(!gate.paused_until(t0 + seconds{6}).has_value());
}

BOOST_AUTO_TEST_CASE(the_ceiling_spaces_requests_evenly) {
    rate_config config;
    config.max_requests_per_second = 100;
    config.max_in_flight = 1000;
    host_gate gate(config);
    auto now = t0;
    int started = 0;
    // Run a fake clock for 10 s, starting each request as early as the gate allows.
    while (now < t0 + seconds{10}) {
        const auto start = gate.next_start(now);
        BOOST_TEST_REQUIRE(start.has_value());
        now = *start;
        gate.on_start(now);
        gate.on_finish(outcome::success, now);
        ++started;
    }
    // 100/s for 10 s, plus the initial burst of a tenth of a second.
    BOOST_TEST(started >= 1000);
    BOOST_TEST(started <= 1011);
}

BOOST_AUTO_TEST_CASE(throttling_halves_the_limit_once_per_interval_and_success_climbs_back) {
    rate_config config;
    config.max_in_flight = 32;
    config.decrease_interval = milliseconds{1000};
    host_gate gate(config);
    BOOST_TEST(gate.limit() == 32u);
    gate.on_finish(outcome::throttled, t0);
    BOOST_TEST(gate.limit() == 16u);
    gate.on_finish(outcome::throttled, t0 + milliseconds{10}); // same burst
    BOOST_TEST(gate.limit() == 16u);
    gate.on_finish(outcome::throttled, t0 + milliseconds{1'100});
    BOOST_TEST(gate.limit() == 8u);
    // Additive increase: about one per `limit` successes.
    for (int i = 0; i < 9; ++i)
        gate.on_finish(outcome::success, t0 + seconds{2});
    BOOST_TEST(gate.limit() == 9u);
    for (int i = 0; i < 10'000; ++i)
        gate.on_finish(outcome::success, t0 + seconds{3});
    BOOST_TEST(gate.limit() == 32u);
}

BOOST_AUTO_TEST_CASE(the_limit_never_drops_below_the_minimum) {
    rate_config config;
    config.max_in_flight = 8;
    config.min_in_flight = 2;
    host_gate gate(config);
    for (int i = 0; i < 10; ++i)
        gate.on_finish(outcome::throttled, t0 + seconds{2 * i});
    BOOST_TEST(gate.limit() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
