// Every numeric rule of client_config: each broken alone names its field and value.
#include "engine/client_state.hpp"

#include <dynjobs/error.hpp>

#include <boost/test/unit_test.hpp>

#include <functional>
#include <limits>

using namespace dynjobs;
using namespace std::chrono_literals;

namespace {

struct rule {
    std::string field;
    std::function<void(client_config&)> breaks;
    std::string value; ///< as diagnostics::value reports it
};

const std::vector<rule>& rules() {
    static const std::vector<rule> all = {
        {"max_in_flight_per_organization", [](auto& c) { c.max_in_flight_per_organization = 0; },
         "0"},
        {"channel_capacity", [](auto& c) { c.channel_capacity = 0; }, "0"},
        {"pool.max_connections", [](auto& c) { c.pool.max_connections = 0; }, "0"},
        {"pool.max_inflated_body", [](auto& c) { c.pool.max_inflated_body = 0; }, "0"},
        {"pool.acquire_timeout", [](auto& c) { c.pool.acquire_timeout = 0ms; }, "0ms"},
        {"pool.idle_timeout", [](auto& c) { c.pool.idle_timeout = -1ms; }, "-1ms"},
        {"pool.max_requests_per_connection",
         [](auto& c) { c.pool.max_requests_per_connection = 0; }, "0"},
        {"pool.timeouts.resolve", [](auto& c) { c.pool.timeouts.resolve = 0ms; }, "0ms"},
        {"pool.timeouts.connect", [](auto& c) { c.pool.timeouts.connect = 0ms; }, "0ms"},
        {"pool.timeouts.tls_handshake", [](auto& c) { c.pool.timeouts.tls_handshake = 0ms; },
         "0ms"},
        {"pool.timeouts.write", [](auto& c) { c.pool.timeouts.write = 0ms; }, "0ms"},
        {"pool.timeouts.first_byte", [](auto& c) { c.pool.timeouts.first_byte = 0ms; }, "0ms"},
        {"pool.timeouts.body", [](auto& c) { c.pool.timeouts.body = -5ms; }, "-5ms"},
        {"retry.max_attempts", [](auto& c) { c.retry.max_attempts = 0; }, "0"},
        {"retry.initial_backoff", [](auto& c) { c.retry.initial_backoff = -1ms; }, "-1ms"},
        {"retry.max_backoff", [](auto& c) { c.retry.max_backoff = 100ms; }, "100ms"},
        {"retry.max_retry_after", [](auto& c) { c.retry.max_retry_after = -1ms; }, "-1ms"},
        {"retry.budget_capacity", [](auto& c) { c.retry.budget_capacity = -1; }, "-1"},
        {"retry.budget_refund",
         [](auto& c) { c.retry.budget_refund = std::numeric_limits<double>::quiet_NaN(); }, "nan"},
        {"retry.max_decode_attempts", [](auto& c) { c.retry.max_decode_attempts = 0; }, "0"},
        {"retry.max_unauthorized_attempts", [](auto& c) { c.retry.max_unauthorized_attempts = 0; },
         "0"},
        {"rate.max_in_flight", [](auto& c) { c.rate.max_in_flight = 0; }, "0"},
        {"rate.min_in_flight", [](auto& c) { c.rate.min_in_flight = 0; }, "0"},
        {"rate.min_in_flight", [](auto& c) { c.rate.min_in_flight = 33; }, "33"},
        {"rate.max_requests_per_second", [](auto& c) { c.rate.max_requests_per_second = -2; },
         "-2"},
        {"rate.decrease_factor", [](auto& c) { c.rate.decrease_factor = 1; }, "1"},
        {"rate.decrease_interval", [](auto& c) { c.rate.decrease_interval = -1ms; }, "-1ms"},
        {"rate.rate_window", [](auto& c) { c.rate.rate_window = 0ms; }, "0ms"},
        {"rate.min_rate_span", [](auto& c) { c.rate.min_rate_span = 0ms; }, "0ms"},
        {"rate.rate_decrease_factor", [](auto& c) { c.rate.rate_decrease_factor = 0; }, "0"},
        {"rate.overshoot_decrease_factor", [](auto& c) { c.rate.overshoot_decrease_factor = 1.5; },
         "1.5"},
        {"rate.probe_increase_per_success", [](auto& c) { c.rate.probe_increase_per_success = -1; },
         "-1"},
        {"rate.rate_increase_per_success",
         [](auto& c) {
             c.rate.rate_increase_per_success = std::numeric_limits<double>::infinity();
         },
         "inf"},
        {"rate.climb_doubling", [](auto& c) { c.rate.climb_doubling = 0ms; }, "0ms"},
        {"rate.random_share_ceiling", [](auto& c) { c.rate.random_share_ceiling = 0; }, "0"},
        {"rate.rate_floor_fraction", [](auto& c) { c.rate.rate_floor_fraction = 1.25; }, "1.25"},
        {"token_refresh.refresh_before", [](auto& c) { c.token_refresh.refresh_before = -1s; },
         "-1s"},
        {"token_refresh.refresh_fraction", [](auto& c) { c.token_refresh.refresh_fraction = 1; },
         "1"},
        {"token_refresh.jitter_fraction", [](auto& c) { c.token_refresh.jitter_fraction = -0.1; },
         "-0.1"},
        {"token_refresh.expiry_safety", [](auto& c) { c.token_refresh.expiry_safety = -1s; },
         "-1s"},
    };
    return all;
}

} // namespace

BOOST_AUTO_TEST_SUITE(config_check)

BOOST_AUTO_TEST_CASE(the_defaults_pass) {
    diagnostics diag;
    BOOST_TEST(!detail::check_numbers(client_config{}, diag), diag.message);
}

BOOST_AUTO_TEST_CASE(each_rule_names_its_field_and_value) {
    for (const auto& r : rules()) {
        BOOST_TEST_CONTEXT(r.field << " = " << r.value) {
            client_config config;
            r.breaks(config);
            diagnostics diag;
            BOOST_TEST((detail::check_numbers(config, diag) == errc::invalid_argument));
            BOOST_TEST(diag.field == r.field);
            BOOST_TEST(diag.value == r.value);
            BOOST_TEST(diag.message.find(r.field) != std::string::npos, diag.message);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_edges_of_each_range_pass) {
    client_config config;
    config.max_in_flight_per_organization = 1;
    config.channel_capacity = 1;
    config.retry.initial_backoff = 0ms;
    config.retry.max_backoff = 0ms;
    config.rate.max_in_flight = 1;
    config.rate.min_in_flight = 1;
    config.rate.rate_decrease_factor = 1;
    config.rate.rate_floor_fraction = 0;
    config.token_refresh.refresh_fraction = 0;
    config.token_refresh.jitter_fraction = 1;
    diagnostics diag;
    BOOST_TEST(!detail::check_numbers(config, diag), diag.message);
}

BOOST_AUTO_TEST_SUITE_END()
