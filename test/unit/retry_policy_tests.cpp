#include "policy/retry_policy.hpp"

#include <dynjobs/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <boost/test/unit_test.hpp>
#include <openssl/ssl.h>

using namespace std::chrono;
using namespace dynjobs::policy;
using dynjobs::errc;

namespace {
attempt_result status(unsigned code, std::optional<milliseconds> retry_after = {}) {
    return {code, {}, false, retry_after};
}
attempt_result broken_connection() {
    return {0, boost::asio::error::connection_reset, false, {}};
}
const steady_time t0{};
} // namespace

BOOST_AUTO_TEST_SUITE(retry_policies)

BOOST_AUTO_TEST_CASE(classifies_what_is_safe_to_retry) {
    BOOST_TEST((classify(broken_connection()) == retry_cause::transport));
    BOOST_TEST((classify({0, boost::asio::error::timed_out, true, {}}) == retry_cause::timeout));
    BOOST_TEST((classify(status(408)) == retry_cause::http_408));
    BOOST_TEST((classify(status(429)) == retry_cause::http_429));
    BOOST_TEST((classify(status(500)) == retry_cause::http_500));
    BOOST_TEST((classify(status(502)) == retry_cause::http_502));
    BOOST_TEST((classify(status(503)) == retry_cause::http_503));
    BOOST_TEST((classify(status(504)) == retry_cause::http_504));
    // A certificate the client refuses is not a network accident.
    const boost::system::error_code verify_failed(
        static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_CERTIFICATE_VERIFY_FAILED)),
        boost::asio::error::get_ssl_category());
    BOOST_TEST((classify({0, verify_failed, false, {}}) == retry_cause::none));
    BOOST_TEST((classify({0, boost::asio::ssl::error::stream_truncated, false, {}}) ==
                retry_cause::transport));
    for (unsigned code : {400u, 401u, 403u, 404u, 405u, 409u, 501u, 505u})
        BOOST_TEST((classify(status(code)) == retry_cause::none), code);
}

BOOST_AUTO_TEST_CASE(a_401_is_retried_only_after_the_replay_with_a_fresh_token) {
    retry_policy policy;
    auto first = status(401);
    auto d = policy.on_failure(first, 1, t0, {});
    BOOST_TEST(!d.retry);
    BOOST_TEST((d.error == errc::unauthorized));
    auto again = status(401);
    again.unauthorized_retryable = true;
    d = policy.on_failure(again, 1, t0, {});
    BOOST_TEST(d.retry);
    BOOST_TEST((d.cause == retry_cause::http_401));
    again.same_cause_streak = 2; // once only: a fresh token refused twice is final
    d = policy.on_failure(again, 2, t0, {});
    BOOST_TEST(!d.retry);
    BOOST_TEST((d.error == errc::unauthorized));
}

BOOST_AUTO_TEST_CASE(a_body_that_does_not_decode_is_retried_once) {
    for (const errc e :
         {errc::json_syntax, errc::missing_field, errc::unexpected_type, errc::bad_content_encoding,
          errc::unexpected_content_type, errc::limit_exceeded}) {
        retry_policy policy;
        attempt_result result{0, e, false, {}};
        BOOST_TEST((classify(result) == retry_cause::decode));
        // After transport failures a first decode failure still gets its second chance.
        auto d = policy.on_failure(result, 3, t0, {});
        BOOST_TEST(d.retry);
        BOOST_TEST((d.cause == retry_cause::decode));
        result.same_cause_streak = 2;
        d = policy.on_failure(result, 4, t0, {});
        BOOST_TEST(!d.retry);
        BOOST_TEST((d.error == errc::retries_exhausted));
    }
    // A body cut short by the connection is the network's doing: retried as transport.
    BOOST_TEST((classify({0, errc::connection_closed, false, {}}) == retry_cause::transport));
    BOOST_TEST((classify({0, errc::truncated_body, false, {}}) == retry_cause::transport));
}

BOOST_AUTO_TEST_CASE(does_not_retry_client_errors) {
    retry_policy policy;
    const auto d = policy.on_failure(status(400), 1, t0, {});
    BOOST_TEST(!d.retry);
    BOOST_TEST((d.error == errc::http_status));
    BOOST_TEST(policy.budget() == policy.config().budget_capacity);
}

BOOST_AUTO_TEST_CASE(backoff_is_full_jitter_under_an_exponential_cap) {
    retry_config config;
    config.initial_backoff = milliseconds{100};
    config.max_backoff = milliseconds{1'000};
    retry_policy policy(config, 7);
    for (unsigned retry = 1; retry <= 8; ++retry) {
        const auto cap = std::min<milliseconds::rep>(1'000, 100 << (retry - 1));
        milliseconds lowest{cap}, highest{0};
        for (int i = 0; i < 2'000; ++i) {
            const auto wait = policy.backoff(retry);
            BOOST_TEST_REQUIRE(wait.count() >= 0);
            BOOST_TEST_REQUIRE(wait.count() <= cap);
            lowest = std::min(lowest, wait);
            highest = std::max(highest, wait);
        }
        // Spread over the whole range, not clustered at the cap.
        BOOST_TEST(lowest.count() <= cap / 20);
        BOOST_TEST(highest.count() >= cap * 19 / 20);
    }
}

BOOST_AUTO_TEST_CASE(same_seed_same_waits) {
    retry_policy a({}, 42), b({}, 42), c({}, 43);
    bool differs = false;
    for (unsigned i = 1; i < 20; ++i) {
        const auto wa = a.backoff(i % 6 + 1);
        BOOST_TEST((wa == b.backoff(i % 6 + 1)));
        differs |= wa != c.backoff(i % 6 + 1);
    }
    BOOST_TEST(differs);
}

BOOST_AUTO_TEST_CASE(honours_retry_after_and_pauses_the_host_for_429_and_503) {
    retry_policy policy;
    auto d = policy.on_failure(status(429, milliseconds{1'500}), 1, t0, {});
    BOOST_TEST(d.retry);
    BOOST_TEST(d.wait.count() == 1'500);
    BOOST_TEST(d.pause_host);
    BOOST_TEST((d.cause == retry_cause::http_429));

    d = policy.on_failure(status(503, milliseconds{2'000}), 1, t0, {});
    BOOST_TEST(d.pause_host);

    // A 500 with Retry-After waits as asked but is this request's problem only.
    d = policy.on_failure(status(500, milliseconds{700}), 1, t0, {});
    BOOST_TEST(d.wait.count() == 700);
    BOOST_TEST(!d.pause_host);

    // A 429 without Retry-After falls back to backoff.
    d = policy.on_failure(status(429), 1, t0, {});
    BOOST_TEST(d.retry);
    BOOST_TEST(!d.pause_host);
    BOOST_TEST(d.wait <= policy.config().initial_backoff);
}

BOOST_AUTO_TEST_CASE(caps_server_requested_waits) {
    retry_policy policy;
    const auto d = policy.on_failure(status(429, hours{10}), 1, t0, {});
    BOOST_TEST(d.retry);
    BOOST_TEST((d.wait == policy.config().max_retry_after));
}

BOOST_AUTO_TEST_CASE(fails_at_once_when_the_wait_would_pass_the_deadline) {
    retry_policy policy;
    const auto d = policy.on_failure(status(429, seconds{30}), 1, t0, t0 + seconds{10});
    BOOST_TEST(!d.retry);
    BOOST_TEST((d.error == errc::deadline_exceeded));
    BOOST_TEST(!d.pause_host);
    // Within the deadline it waits.
    BOOST_TEST(policy.on_failure(status(429, seconds{5}), 1, t0, t0 + seconds{10}).retry);
}

BOOST_AUTO_TEST_CASE(gives_up_after_the_attempt_limit) {
    retry_config config;
    config.max_attempts = 3;
    retry_policy policy(config);
    BOOST_TEST(policy.on_failure(broken_connection(), 1, t0, {}).retry);
    BOOST_TEST(policy.on_failure(broken_connection(), 2, t0, {}).retry);
    const auto d = policy.on_failure(broken_connection(), 3, t0, {});
    BOOST_TEST(!d.retry);
    BOOST_TEST((d.error == errc::retries_exhausted));
}

BOOST_AUTO_TEST_CASE(the_budget_stops_retry_storms_and_successes_refill_it) {
    retry_config config;
    config.budget_capacity = 3;
    config.budget_refund = 0.5;
    retry_policy policy(config);
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(policy.on_failure(status(503), 1, t0, {}).retry);
    auto d = policy.on_failure(status(503), 1, t0, {});
    BOOST_TEST(!d.retry);
    BOOST_TEST((d.error == errc::retry_budget_exhausted));
    policy.on_success();
    BOOST_TEST(!policy.on_failure(status(503), 1, t0, {}).retry); // half a token is not enough
    policy.on_success();
    BOOST_TEST(policy.on_failure(status(503), 1, t0, {}).retry);
    for (int i = 0; i < 100; ++i)
        policy.on_success();
    BOOST_TEST(policy.budget() == 3.0); // never above capacity
}

BOOST_AUTO_TEST_CASE(throttling_with_retry_after_is_paced_not_charged_to_the_budget) {
    retry_config config;
    config.budget_capacity = 2;
    retry_policy policy(config);
    for (unsigned status_code : {429u, 503u}) {
        auto throttled = status(status_code);
        throttled.retry_after = std::chrono::seconds(1);
        for (int i = 0; i < 50; ++i) { // a long backfill under a rate limit
            const auto d = policy.on_failure(throttled, 1, t0, {});
            BOOST_TEST(d.retry);
            BOOST_TEST(d.pause_host);
            BOOST_TEST((d.wait == std::chrono::seconds(1)));
        }
    }
    BOOST_TEST(policy.budget() == 2.0);
    // Without Retry-After a 429 is an ordinary retry, and the attempt limit holds either way.
    BOOST_TEST(policy.on_failure(status(429), 1, t0, {}).retry);
    BOOST_TEST(policy.budget() == 1.0);
    auto throttled = status(429);
    throttled.retry_after = std::chrono::seconds(1);
    BOOST_TEST((policy.on_failure(throttled, config.max_attempts, t0, {}).error ==
                errc::retries_exhausted));
}

BOOST_AUTO_TEST_SUITE_END()
