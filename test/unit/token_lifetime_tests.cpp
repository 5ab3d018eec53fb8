#include "policy/token_lifetime.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>

using namespace std::chrono;
using dynjobs::policy::token_lifetime;
using dynjobs::policy::token_refresh_config;

namespace {
const token_lifetime::time_point t0 = token_lifetime::time_point{} + hours{100};
}

BOOST_AUTO_TEST_SUITE(token_lifetimes)

BOOST_AUTO_TEST_CASE(an_hour_token_is_renewed_five_minutes_early_with_jitter) {
    const token_refresh_config config; // 300 s, 10 %, 20 % jitter
    bool varied = false;
    std::optional<token_lifetime::time_point> first;
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
        const token_lifetime life(t0, seconds{3600}, config, seed);
        BOOST_TEST_REQUIRE((life.expires_at() == t0 + seconds{3600}));
        BOOST_TEST_REQUIRE((life.refresh_at() <= t0 + seconds{3300}));
        BOOST_TEST_REQUIRE((life.refresh_at() >= t0 + seconds{3240}));
        varied |= first && *first != life.refresh_at();
        first = life.refresh_at();
    }
    BOOST_TEST(varied);
}

BOOST_AUTO_TEST_CASE(a_short_token_uses_the_fractional_margin) {
    token_refresh_config config;
    config.jitter_fraction = 0;
    const token_lifetime life(t0, seconds{60}, config, 1);
    BOOST_TEST((life.refresh_at() == t0 + seconds{54}));
    BOOST_TEST(!life.needs_refresh(t0 + seconds{53}));
    BOOST_TEST(life.needs_refresh(t0 + seconds{54}));
}

BOOST_AUTO_TEST_CASE(a_token_is_not_sent_in_its_last_seconds) {
    const token_lifetime life(t0, seconds{3600}, {}, 1);
    BOOST_TEST(life.usable(t0 + seconds{3589}));
    BOOST_TEST(!life.usable(t0 + seconds{3590}));
    BOOST_TEST(!life.usable(t0 + seconds{4000}));
    // Still usable while being renewed: requests keep flowing.
    BOOST_TEST(life.needs_refresh(t0 + seconds{3400}));
    BOOST_TEST(life.usable(t0 + seconds{3400}));
}

BOOST_AUTO_TEST_CASE(tiny_or_zero_lifetimes_do_not_go_negative) {
    const token_lifetime zero(t0, seconds{0}, {}, 1);
    BOOST_TEST(!zero.usable(t0));
    BOOST_TEST(zero.needs_refresh(t0));
    const token_lifetime tiny(t0, seconds{4}, {}, 1);
    BOOST_TEST(tiny.usable(t0 + seconds{1}));
    BOOST_TEST(!tiny.usable(t0 + seconds{2}));
}

BOOST_AUTO_TEST_SUITE_END()
