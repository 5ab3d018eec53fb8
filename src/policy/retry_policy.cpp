#include "policy/retry_policy.hpp"

#include <dynjobs/error.hpp>

#include "unit_random.hpp"

#include <boost/asio/ssl/error.hpp>

#include <algorithm>

namespace dynjobs::policy {

using namespace std::chrono;

namespace {

bool is_decode_error(const boost::system::error_code& ec) noexcept {
    if (ec.category() != error_category())
        return false;
    switch (static_cast<errc>(ec.value())) {
    case errc::json_syntax:
    case errc::unexpected_type:
    case errc::value_out_of_range:
    case errc::invalid_value:
    case errc::missing_field:
    case errc::limit_exceeded:
    case errc::bad_content_encoding:
    case errc::unexpected_content_type:
        return true;
    default:
        return false;
    }
}

} // namespace

std::string_view to_string(retry_cause cause) noexcept {
    switch (cause) {
    case retry_cause::none:
        return "none";
    case retry_cause::transport:
        return "transport";
    case retry_cause::timeout:
        return "timeout";
    case retry_cause::http_408:
        return "408";
    case retry_cause::http_429:
        return "429";
    case retry_cause::http_500:
        return "500";
    case retry_cause::http_502:
        return "502";
    case retry_cause::http_503:
        return "503";
    case retry_cause::http_504:
        return "504";
    case retry_cause::http_401:
        return "401";
    case retry_cause::decode:
        return "decode";
    }
    return "unknown";
}

retry_cause classify(const attempt_result& result) noexcept {
    if (result.http_status == 0) {
        // OpenSSL's own errors are verdicts (certificate refused, no common protocol), not
        // accidents of the network: retrying cannot change them.
        if (result.transport_error.category() == boost::asio::error::get_ssl_category())
            return retry_cause::none;
        if (is_decode_error(result.transport_error))
            return retry_cause::decode;
        return result.timed_out ? retry_cause::timeout : retry_cause::transport;
    }
    switch (result.http_status) {
    case 408:
        return retry_cause::http_408;
    case 429:
        return retry_cause::http_429;
    case 500:
        return retry_cause::http_500;
    case 502:
        return retry_cause::http_502;
    case 503:
        return retry_cause::http_503;
    case 504:
        return retry_cause::http_504;
    case 401:
        return result.unauthorized_retryable ? retry_cause::http_401 : retry_cause::none;
    default:
        return retry_cause::none;
    }
}

retry_policy::retry_policy(retry_config config, std::uint64_t seed)
    : config_(config)
    , budget_(config.budget_capacity)
    , rng_state_(seed) {}

milliseconds retry_policy::backoff(unsigned retry) noexcept {
    const double unit = detail::unit_random(rng_state_);

    const unsigned doublings = std::min(retry == 0 ? 0u : retry - 1, 30u);
    const auto ceiling = std::min<milliseconds::rep>(config_.max_backoff.count(),
                                                     config_.initial_backoff.count() << doublings);
    return milliseconds{static_cast<milliseconds::rep>(unit * static_cast<double>(ceiling + 1))};
}

retry_decision retry_policy::on_failure(const attempt_result& result, unsigned attempt,
                                        steady_time now, std::optional<steady_time> deadline) {
    retry_decision decision;
    decision.cause = classify(result);
    if (decision.cause == retry_cause::none) {
        decision.error = result.http_status == 401 ? errc::unauthorized : errc::http_status;
        return decision;
    }
    // Deterministic failures get one more chance (a fresh token refused twice; a body that
    // will not decode), not max_attempts identical ones.
    const bool repeated = (decision.cause == retry_cause::http_401 &&
                           result.same_cause_streak >= config_.max_unauthorized_attempts) ||
                          (decision.cause == retry_cause::decode &&
                           result.same_cause_streak >= config_.max_decode_attempts);
    if (attempt >= config_.max_attempts || repeated) {
        decision.error =
            decision.cause == retry_cause::http_401 ? errc::unauthorized : errc::retries_exhausted;
        return decision;
    }
    // Throttling with Retry-After is the server pacing us, not failing: the retry waits as
    // told, and the host gate paces the others (the learnt rate, or a pause of the whole host),
    // so it cannot grow into a retry storm; spending the budget on it would fail a long
    // backfill against a rate-limited API.
    const bool paced =
        result.retry_after && (result.http_status == 429 || result.http_status == 503);
    if (!paced && budget_ < 1.0) {
        decision.error = errc::retry_budget_exhausted;
        return decision;
    }
    if (result.retry_after) {
        decision.wait = std::min(*result.retry_after, config_.max_retry_after);
        decision.pause_host = paced;
    } else {
        decision.wait = backoff(attempt);
    }
    if (deadline && now + decision.wait > *deadline) {
        decision.error = errc::deadline_exceeded;
        decision.pause_host = false;
        return decision;
    }
    if (!paced)
        budget_ -= 1.0;
    decision.retry = true;
    return decision;
}

void retry_policy::on_success() noexcept {
    budget_ = std::min(config_.budget_capacity, budget_ + config_.budget_refund);
}

} // namespace dynjobs::policy
