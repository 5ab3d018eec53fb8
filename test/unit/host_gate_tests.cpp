#include "policy/host_gate.hpp"

#include <boost/test/unit_test.hpp>

#include <deque>

using namespace std::chrono;
using dynjobs::policy::host_gate;
using dynjobs::policy::rate_config;
using outcome = host_gate::outcome;

namespace {
const host_gate::time_point t0 = host_gate::time_point{} + hours{1};

// Requests started over [from, from + 10 s) on a fake clock, each as early as the gate allows.
int starts_in_ten_seconds(host_gate& gate, host_gate::time_point from) {
    auto now = from;
    int started = 0;
    while (now < from + seconds{10}) {
        const auto start = gate.next_start(now);
        BOOST_TEST_REQUIRE(start.has_value());
        now = *start;
        gate.on_start(now);
        gate.on_finish(outcome::success, now);
        ++started;
    }
    return started;
}
} // namespace

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

BOOST_AUTO_TEST_CASE(a_new_ceiling_applies_to_the_requests_that_start_after_it) {
    rate_config config;
    config.max_requests_per_second = 100;
    config.max_in_flight = 1000;
    host_gate gate(config);
    BOOST_TEST(starts_in_ten_seconds(gate, t0) >= 1000);
    gate.set_max_rate(25); // four workers now share the 100/s
    BOOST_TEST(gate.rate() == 25.0);
    const int shared = starts_in_ten_seconds(gate, t0 + seconds{20});
    BOOST_TEST(shared >= 250);
    BOOST_TEST(shared <= 254); // no burst saved up under the old ceiling beyond the new one's
    gate.set_max_rate(0);
    BOOST_TEST(gate.rate() == 0.0);
    BOOST_TEST((gate.next_start(t0 + seconds{40}) == t0 + seconds{40}));
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
    const int started = starts_in_ten_seconds(gate, t0);
    // 100/s for 10 s, with no burst at the start: nothing was saved up before the first request.
    BOOST_TEST(started >= 1000);
    BOOST_TEST(started <= 1001);
    BOOST_TEST((gate.next_start(t0 + seconds{10}) > t0 + seconds{10}));
}

BOOST_AUTO_TEST_CASE(a_ceiling_starts_without_a_burst_and_saves_one_up_while_idle) {
    // Four workers started together each with a quarter of a 200/s limit: a tenth of a second
    // saved up by each at the start would be 20 requests at once against a server's burst of 10.
    rate_config config;
    config.max_requests_per_second = 50;
    host_gate gate(config);
    gate.on_start(t0);
    gate.on_finish(outcome::success, t0);
    const auto second = gate.next_start(t0);
    BOOST_TEST_REQUIRE(second.has_value());
    BOOST_TEST(
        (*second >= t0 + milliseconds{20} && *second <= t0 + milliseconds{20} + microseconds{1}));
    // After idling, up to a tenth of a second's requests (5) go at once: no stall.
    const auto later = t0 + seconds{5};
    int at_once = 0;
    while (gate.next_start(later) == later) {
        gate.on_start(later);
        gate.on_finish(outcome::success, later);
        ++at_once;
    }
    BOOST_TEST(at_once == 5);
}

BOOST_AUTO_TEST_CASE(an_early_429_under_a_ceiling_keeps_the_ceiling) {
    // The first wave overruns the server's burst before anything could be measured. With a
    // ceiling set (a worker's share of a tenant's limit), that says nothing against it: the rate
    // stays at the ceiling, instead of starting over from the handful of requests accepted.
    rate_config config;
    config.max_requests_per_second = 50;
    config.adaptive_rate = true;
    host_gate gate(config);
    for (int i = 0; i < 3; ++i) {
        gate.on_start(t0);
        gate.on_finish(outcome::success, t0 + milliseconds{5});
    }
    gate.on_finish(outcome::throttled, t0 + milliseconds{10});
    gate.pause_until(t0 + seconds{1});
    BOOST_TEST(gate.rate() == 50.0);
    // Another 429 right after resuming: the ceiling is too high after all, lowered as a probe's
    // overshoot is.
    gate.on_start(t0 + seconds{1});
    gate.on_finish(outcome::throttled, t0 + seconds{1} + milliseconds{20});
    BOOST_TEST(gate.rate() == 35.0, boost::test_tools::tolerance(1e-9));
    // Without a ceiling the rate starts low: what was accepted per rate window (3 in 2 s).
    rate_config open = config;
    open.max_requests_per_second = 0;
    host_gate unbounded(open);
    for (int i = 0; i < 3; ++i) {
        unbounded.on_start(t0);
        unbounded.on_finish(outcome::success, t0 + milliseconds{5});
    }
    unbounded.on_finish(outcome::throttled, t0 + milliseconds{10});
    BOOST_TEST(unbounded.rate() == 1.5);
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

BOOST_AUTO_TEST_CASE(learns_a_server_rate_limit_with_few_429s) {
    // A server allowing 100 requests/s with a burst of 10, answering 429 with Retry-After in
    // whole seconds (as real servers do), against a client that would go far faster.
    const double server_rate = 100;
    const double server_burst = 10;
    double server_tokens = server_burst;
    auto server_refilled = t0;
    rate_config config;
    config.max_in_flight = 64;
    config.adaptive_rate = true;
    host_gate gate(config);
    auto now = t0;
    const auto end = t0 + seconds{120};
    int accepted = 0;
    int throttled = 0;
    while (now < end) {
        const auto start = gate.next_start(now);
        BOOST_TEST_REQUIRE(start.has_value());
        // Each request takes 1 ms on the wire; the client never waits otherwise.
        now = std::max(now, *start);
        gate.on_start(now);
        server_tokens =
            std::min(server_burst,
                     server_tokens + duration<double>(now - server_refilled).count() * server_rate);
        server_refilled = now;
        now += milliseconds{1};
        if (server_tokens >= 1) {
            server_tokens -= 1;
            ++accepted;
            gate.on_finish(outcome::success, now);
        } else {
            ++throttled;
            gate.on_finish(outcome::throttled, now);
            gate.pause_until(now + seconds{1});
        }
    }
    const double goodput = accepted / 120.0 / server_rate;
    const double share_429 = static_cast<double>(throttled) / (accepted + throttled);
    BOOST_TEST_MESSAGE("goodput " << goodput << " of the limit, " << share_429 * 100
                                  << "% answered 429, learnt rate " << gate.rate());
    BOOST_TEST(goodput >= 0.9);
    BOOST_TEST(share_429 <= 0.01);
    BOOST_TEST(gate.rate() <= server_rate * 1.05);
}

BOOST_AUTO_TEST_CASE(learns_a_rate_limit_when_many_requests_are_in_flight) {
    // What a backfill meets: 32 requests in flight of 3 ms each (a fast link), a server allowing
    // 200 requests/s with a burst of 10, answering 429 with Retry-After in whole seconds. The
    // first wave overruns the burst before anything can be measured.
    const double server_rate = 200;
    const double server_burst = 10;
    const auto round_trip = milliseconds{3};
    double server_tokens = server_burst;
    auto server_refilled = t0;
    rate_config config;
    config.adaptive_rate = true;
    host_gate gate(config);
    struct reply {
        host_gate::time_point at;
        bool accepted;
        seconds retry_after;
    };
    std::deque<reply> in_flight; // every request takes as long, so replies come in order
    auto now = t0;
    const auto end = t0 + seconds{100};
    int accepted = 0;
    int throttled = 0;
    while (now < end) {
        for (auto start = gate.next_start(now); start && *start <= now;
             start = gate.next_start(now)) {
            gate.on_start(now);
            server_tokens = std::min(
                server_burst,
                server_tokens + duration<double>(now - server_refilled).count() * server_rate);
            server_refilled = now;
            const bool ok = server_tokens >= 1;
            if (ok)
                server_tokens -= 1;
            const auto wait = duration<double>((1 - server_tokens) / server_rate);
            in_flight.push_back({now + round_trip, ok, std::max(seconds{1}, ceil<seconds>(wait))});
        }
        auto next = end;
        if (!in_flight.empty())
            next = std::min(next, in_flight.front().at);
        if (const auto start = gate.next_start(now))
            next = std::min(next, *start);
        now = std::max(now, next);
        while (!in_flight.empty() && in_flight.front().at <= now) {
            const reply r = in_flight.front();
            in_flight.pop_front();
            if (r.accepted) {
                ++accepted;
                gate.on_finish(outcome::success, r.at);
            } else {
                ++throttled;
                gate.on_finish(outcome::throttled, r.at);
                gate.pause_until(r.at + r.retry_after);
            }
        }
    }
    const double goodput = accepted / 100.0 / server_rate;
    const double share_429 = static_cast<double>(throttled) / (accepted + throttled);
    BOOST_TEST_MESSAGE("in flight: goodput " << goodput << " of the limit, " << share_429 * 100
                                             << "% answered 429, learnt rate " << gate.rate());
    BOOST_TEST(goodput >= 0.9);
    BOOST_TEST(share_429 <= 0.01);
    BOOST_TEST(gate.rate() >= server_rate * 0.9);
    BOOST_TEST(gate.rate() <= server_rate * 1.05);
}

BOOST_AUTO_TEST_CASE(without_429s_the_rate_is_not_limited) {
    host_gate gate;
    for (int i = 0; i < 1000; ++i) {
        gate.on_start(t0);
        gate.on_finish(outcome::success, t0);
    }
    BOOST_TEST(gate.rate() == 0.0);
    BOOST_TEST((gate.next_start(t0) == t0));
}

BOOST_AUTO_TEST_SUITE_END()
