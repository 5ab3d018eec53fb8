// Tests of dynjobs::sim::rate_limiter with a fake clock (time passed in, no sleeps).
#include "sim/rate_limiter.hpp"

#include <boost/test/unit_test.hpp>

using namespace dynjobs::sim;
using namespace std::chrono;

namespace {
const rate_limiter::clock::time_point t0{hours{1}};

// The wait in ms, or -1 when admitted (printable by BOOST_TEST, unlike the optional).
long long wait(rate_limiter& rl, std::string_view client, rate_limiter::clock::time_point now) {
    const auto w = rl.try_acquire(client, now);
    return w ? static_cast<long long>(w->count()) : -1;
}
} // namespace

BOOST_AUTO_TEST_SUITE(sim_rate_limiter)

BOOST_AUTO_TEST_CASE(off_by_default) {
    rate_limiter rl;
    for (int i = 0; i < 1000; ++i) {
        BOOST_TEST(!rl.try_acquire("app", t0).has_value());
    }
}

BOOST_AUTO_TEST_CASE(burst_then_exact_waits) {
    rate_limiter rl{{2.0, 3.0}}; // 2 per second, bursts of 3
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(!rl.try_acquire("app", t0).has_value());
    }
    BOOST_TEST(wait(rl, "app", t0) == 500);
    BOOST_TEST(wait(rl, "app", t0 + milliseconds{200}) == 300);
    BOOST_TEST(!rl.try_acquire("app", t0 + milliseconds{500}).has_value());
    BOOST_TEST(wait(rl, "app", t0 + milliseconds{500}) == 500);
    // Idle for long: the bucket refills to the burst, not beyond.
    const auto later = t0 + seconds{60};
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(!rl.try_acquire("app", later).has_value());
    }
    BOOST_TEST(rl.try_acquire("app", later).has_value());
}

BOOST_AUTO_TEST_CASE(sustained_rate_is_enforced) {
    rate_limiter rl{{10.0, 1.0}};
    int admitted = 0;
    // 10 s of a client hammering every millisecond: 1 (burst) + 10/s * 10 s.
    for (int ms = 0; ms < 10'000; ++ms) {
        admitted += !rl.try_acquire("app", t0 + milliseconds{ms}).has_value();
    }
    BOOST_TEST(admitted == 100);
}

BOOST_AUTO_TEST_CASE(clients_are_independent_and_reset_refills) {
    rate_limiter rl{{1.0, 1.0}};
    BOOST_TEST(!rl.try_acquire("a", t0).has_value());
    BOOST_TEST(wait(rl, "a", t0) == 1000);
    BOOST_TEST(!rl.try_acquire("b", t0).has_value());
    BOOST_TEST(rl.try_acquire("b", t0).has_value());
    rl.reset();
    BOOST_TEST(!rl.try_acquire("a", t0).has_value());
}

BOOST_AUTO_TEST_CASE(time_going_backwards_adds_nothing) {
    rate_limiter rl{{1.0, 1.0}};
    BOOST_TEST(!rl.try_acquire("a", t0).has_value());
    BOOST_TEST(wait(rl, "a", t0 - seconds{5}) == 1000);
    BOOST_TEST(wait(rl, "a", t0 + milliseconds{999}) == 1);
    BOOST_TEST(!rl.try_acquire("a", t0 + milliseconds{1000}).has_value());
}

BOOST_AUTO_TEST_CASE(fractional_burst_counts_as_one) {
    rate_limiter rl{{4.0, 0.2}};
    BOOST_TEST(!rl.try_acquire("a", t0).has_value());
    BOOST_TEST(wait(rl, "a", t0) == 250);
}

BOOST_AUTO_TEST_CASE(a_quota_refuses_everything_until_its_window_renews) {
    rate_limit_config config;
    config.quota = 3;
    config.quota_window = seconds{10};
    rate_limiter rl{config};
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(!rl.try_acquire("a", t0 + seconds{i}).has_value());
    // Used up 2 s into the window: refused to its end, whenever asked; refusals count nothing.
    BOOST_TEST(wait(rl, "a", t0 + seconds{2}) == 8000);
    BOOST_TEST(wait(rl, "a", t0 + milliseconds{9'750}) == 250);
    BOOST_TEST(!rl.try_acquire("b", t0 + seconds{5}).has_value()); // a window of its own
    // Windows follow each other from the first request, whether used or not.
    BOOST_TEST(!rl.try_acquire("a", t0 + seconds{25}).has_value());
    BOOST_TEST(!rl.try_acquire("a", t0 + seconds{26}).has_value());
    BOOST_TEST(!rl.try_acquire("a", t0 + seconds{27}).has_value());
    BOOST_TEST(wait(rl, "a", t0 + seconds{28}) == 2000);
}

BOOST_AUTO_TEST_CASE(a_quota_and_a_bucket_both_hold) {
    rate_limit_config config{1.0, 1.0};
    config.quota = 2;
    config.quota_window = seconds{60};
    rate_limiter rl{config};
    BOOST_TEST(!rl.try_acquire("a", t0).has_value());
    BOOST_TEST(wait(rl, "a", t0) == 1000); // the bucket
    BOOST_TEST(!rl.try_acquire("a", t0 + seconds{1}).has_value());
    BOOST_TEST(wait(rl, "a", t0 + seconds{2}) == 58'000); // the quota, though the bucket is full
}

BOOST_AUTO_TEST_SUITE_END()
