#include <dynjobs/policy/host_gate.hpp>

#include <algorithm>
#include <cmath>

namespace dynjobs::policy {

using namespace std::chrono;

namespace {
// The ceiling's bucket holds a tenth of a second of requests: smooth, yet no stall after idling.
double bucket_capacity(double rate) {
    return std::max(1.0, rate / 10.0);
}
} // namespace

host_gate::host_gate(rate_config config)
    : config_(config)
    , limit_(static_cast<double>(std::max<std::size_t>(1, config.max_in_flight)))
    , tokens_(bucket_capacity(config.max_requests_per_second)) {
    config_.min_in_flight =
        std::clamp<std::size_t>(config_.min_in_flight, 1, config_.max_in_flight);
}

std::size_t host_gate::limit() const noexcept {
    return std::max(config_.min_in_flight, static_cast<std::size_t>(limit_));
}

double host_gate::rate() const noexcept {
    const double fixed = config_.max_requests_per_second;
    if (adaptive_rate_ <= 0)
        return fixed > 0 ? fixed : 0;
    return fixed > 0 ? std::min(fixed, adaptive_rate_) : adaptive_rate_;
}

void host_gate::refill(time_point now) const {
    const double r = rate();
    if (r <= 0)
        return;
    if (!bucket_started_) {
        bucket_started_ = true;
        refilled_ = now;
        return;
    }
    if (now <= refilled_)
        return;
    const double elapsed = duration<double>(now - refilled_).count();
    tokens_ = std::min(bucket_capacity(r), tokens_ + elapsed * r);
    refilled_ = now;
}

std::optional<host_gate::time_point> host_gate::next_start(time_point now) const {
    if (in_flight_ >= limit())
        return std::nullopt;
    time_point start = std::max(now, pause_until_);
    if (const double r = rate(); r > 0) {
        refill(now);
        if (tokens_ < 1.0) {
            const double missing = (1.0 - tokens_) / r;
            start = std::max(start, now + ceil<nanoseconds>(duration<double>(missing)));
        }
    }
    return start;
}

void host_gate::on_start(time_point now) {
    ++in_flight_;
    if (!started_) {
        started_ = true;
        calm_since_ = now;
        first_start_ = now;
    }
    if (rate() > 0) {
        refill(now);
        tokens_ -= 1.0; // may go slightly negative if started early; the next wait pays it back
    }
}

void host_gate::on_finish(outcome result, time_point now) {
    if (in_flight_ > 0)
        --in_flight_;
    const double max = static_cast<double>(config_.max_in_flight);
    const double min = static_cast<double>(config_.min_in_flight);
    switch (result) {
    case outcome::success:
        limit_ = std::min(max, limit_ + 1.0 / limit_);
        ++calm_successes_;
        ++total_successes_;
        if (adaptive_rate_ > 0)
            adaptive_rate_ += config_.rate_increase_per_success;
        break;
    case outcome::throttled:
        if (!decreased_ || now - last_decrease_ >= config_.decrease_interval) {
            limit_ = std::max(min, limit_ * config_.decrease_factor);
            if (config_.adaptive_rate)
                learn_rate(now);
            last_decrease_ = now;
            decreased_ = true;
        }
        break;
    case outcome::failed:
        break;
    }
}

void host_gate::learn_rate(time_point now) {
    // What the server accepted since the last signal is what it allows, plus its burst.
    const auto span = std::max(duration<double>(now - calm_since_), duration<double>(0.05));
    const double accepted = static_cast<double>(calm_successes_) / span.count();
    const bool calm = now - calm_since_ >= config_.calm_period;
    double base = accepted;
    if (!calm && adaptive_rate_ > 0)
        base = std::min(base, adaptive_rate_);
    const auto lifetime = std::max(duration<double>(now - first_start_), duration<double>(0.05));
    const double floor =
        config_.rate_floor_fraction * static_cast<double>(total_successes_) / lifetime.count();
    adaptive_rate_ = std::max(
        {1.0, floor,
         base * (calm ? config_.rate_decrease_factor : config_.overshoot_decrease_factor)});
    calm_since_ = std::max(now, pause_until_);
    calm_successes_ = 0;
}

void host_gate::pause_until(time_point until) {
    pause_until_ = std::max(pause_until_, until);
    // Time spent paused is not time the server accepted requests in.
    if (calm_since_ < pause_until_)
        calm_since_ = pause_until_;
}

std::optional<host_gate::time_point> host_gate::paused_until(time_point now) const {
    if (pause_until_ > now)
        return pause_until_;
    return std::nullopt;
}

} // namespace dynjobs::policy
