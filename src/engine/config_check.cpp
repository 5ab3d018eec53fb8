// Every numeric setting of client_config checked before any request: a zero in-flight limit or
// pool size would otherwise park every page forever, a negative timeout fire at once. Also the
// dedupe spill folder, which would otherwise fail only once a window outgrew memory.
#include "engine/client_state.hpp"

#include "common/bad_input.hpp"

#include <cmath>
#include <filesystem>
#include <string>

namespace dynjobs::detail {

using boost::system::error_code;

namespace {

std::string text(double v) {
    std::string s = std::to_string(v);
    // 0.500000 -> 0.5: the value as the user would have written it.
    while (s.find('.') != std::string::npos && (s.back() == '0' || s.back() == '.')) {
        const bool dot = s.back() == '.';
        s.pop_back();
        if (dot)
            break;
    }
    return s;
}
std::string text(std::uint64_t v) {
    return std::to_string(v);
}
std::string text(std::chrono::milliseconds v) {
    return std::to_string(v.count()) + "ms";
}
std::string text(std::chrono::seconds v) {
    return std::to_string(v.count()) + "s";
}

// The rules, checked in order; the first broken one is reported.
class checker {
public:
    explicit checker(diagnostics& diag)
        : diag_(diag) {}

    error_code result() const { return ec_; }

    void at_least(std::string_view field, std::uint64_t value, std::uint64_t min) {
        if (value < min)
            fail(field, text(value), "must be at least " + text(min));
    }
    template <class Duration>
    void positive(std::string_view field, Duration value) {
        if (value.count() <= 0)
            fail(field, text(value), "must be positive");
    }
    template <class Duration>
    void not_negative(std::string_view field, Duration value) {
        if (value.count() < 0)
            fail(field, text(value), "must not be negative");
    }
    void not_negative(std::string_view field, double value) {
        if (!std::isfinite(value) || value < 0)
            fail(field, text(value), "must be a finite number, 0 or more");
    }
    /// `value` in [lo, hi], or (lo, hi] / [lo, hi) / (lo, hi) when a bound is open.
    void between(std::string_view field, double value, double lo, bool lo_open, double hi,
                 bool hi_open) {
        const bool ok = std::isfinite(value) && (lo_open ? value > lo : value >= lo) &&
                        (hi_open ? value < hi : value <= hi);
        if (!ok)
            fail(field, text(value),
                 std::string("must be in ") + (lo_open ? "(" : "[") + text(lo) + ", " + text(hi) +
                     (hi_open ? ")" : "]"));
    }
    void fail(std::string_view field, std::string value, const std::string& problem) {
        if (!ec_)
            ec_ = bad_input(diag_, field, std::move(value), problem);
    }

private:
    diagnostics& diag_;
    error_code ec_;
};

} // namespace

error_code check_numbers(const client_config& config, diagnostics& diag) {
    diag.clear();
    checker c(diag);
    c.at_least("max_in_flight_per_organization", config.max_in_flight_per_organization, 1);
    c.at_least("channel_capacity", config.channel_capacity, 1);

    const auto& pool = config.pool;
    c.at_least("pool.max_connections", pool.max_connections, 1);
    c.at_least("pool.max_inflated_body", pool.max_inflated_body, 1);
    c.positive("pool.acquire_timeout", pool.acquire_timeout);
    c.positive("pool.idle_timeout", pool.idle_timeout);
    c.at_least("pool.max_requests_per_connection", pool.max_requests_per_connection, 1);
    c.positive("pool.timeouts.resolve", pool.timeouts.resolve);
    c.positive("pool.timeouts.connect", pool.timeouts.connect);
    c.positive("pool.timeouts.tls_handshake", pool.timeouts.tls_handshake);
    c.positive("pool.timeouts.write", pool.timeouts.write);
    c.positive("pool.timeouts.first_byte", pool.timeouts.first_byte);
    c.positive("pool.timeouts.body", pool.timeouts.body);

    const auto& retry = config.retry;
    c.at_least("retry.max_attempts", retry.max_attempts, 1);
    c.not_negative("retry.initial_backoff", retry.initial_backoff);
    if (retry.max_backoff < retry.initial_backoff)
        c.fail("retry.max_backoff", text(retry.max_backoff),
               "is less than retry.initial_backoff (" + text(retry.initial_backoff) + ")");
    c.not_negative("retry.max_retry_after", retry.max_retry_after);
    c.not_negative("retry.budget_capacity", retry.budget_capacity);
    c.not_negative("retry.budget_refund", retry.budget_refund);
    c.at_least("retry.max_decode_attempts", retry.max_decode_attempts, 1);
    c.at_least("retry.max_unauthorized_attempts", retry.max_unauthorized_attempts, 1);

    const auto& rate = config.rate;
    c.at_least("rate.max_in_flight", rate.max_in_flight, 1);
    c.at_least("rate.min_in_flight", rate.min_in_flight, 1);
    if (rate.min_in_flight > rate.max_in_flight)
        c.fail("rate.min_in_flight", text(rate.min_in_flight),
               "is more than rate.max_in_flight (" + text(rate.max_in_flight) + ")");
    c.not_negative("rate.max_requests_per_second", rate.max_requests_per_second);
    c.between("rate.decrease_factor", rate.decrease_factor, 0, true, 1, true);
    c.not_negative("rate.decrease_interval", rate.decrease_interval);
    c.positive("rate.rate_window", rate.rate_window);
    c.positive("rate.min_rate_span", rate.min_rate_span);
    c.between("rate.rate_decrease_factor", rate.rate_decrease_factor, 0, true, 1, false);
    c.between("rate.overshoot_decrease_factor", rate.overshoot_decrease_factor, 0, true, 1, false);
    c.not_negative("rate.probe_increase_per_success", rate.probe_increase_per_success);
    c.not_negative("rate.rate_increase_per_success", rate.rate_increase_per_success);
    c.positive("rate.climb_doubling", rate.climb_doubling);
    c.between("rate.random_share_ceiling", rate.random_share_ceiling, 0, true, 1, false);
    c.between("rate.rate_floor_fraction", rate.rate_floor_fraction, 0, false, 1, false);

    const auto& dedupe = config.dedupe;
    if (dedupe.memory_per_set != 0)
        c.at_least("dedupe.memory_per_set", dedupe.memory_per_set, 64u << 10);
    std::error_code fs_error;
    if (!dedupe.spill_directory.empty() &&
        !std::filesystem::is_directory(dedupe.spill_directory, fs_error))
        c.fail("dedupe.spill_directory", dedupe.spill_directory, "is not a directory");

    const auto& refresh = config.token_refresh;
    c.not_negative("token_refresh.refresh_before", refresh.refresh_before);
    c.between("token_refresh.refresh_fraction", refresh.refresh_fraction, 0, false, 1, true);
    c.between("token_refresh.jitter_fraction", refresh.jitter_fraction, 0, false, 1, false);
    c.not_negative("token_refresh.expiry_safety", refresh.expiry_safety);
    return c.result();
}

} // namespace dynjobs::detail
