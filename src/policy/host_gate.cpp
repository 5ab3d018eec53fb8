#include "policy/host_gate.hpp"

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

// The bucket starts with one request, not full: nothing was saved up before the first request,
// and clients started together (workers sharing a tenant's limit) would otherwise each send a
// tenth of a second's requests at once, overrunning a server's burst before any of them paced.
host_gate::host_gate(rate_config config)
    : config_(config)
    , limit_(static_cast<double>(std::max<std::size_t>(1, config.max_in_flight)))
    , tokens_(1.0) {
    config_.min_in_flight =
        std::clamp<std::size_t>(config_.min_in_flight, 1, config_.max_in_flight);
}

void host_gate::set_max_rate(double requests_per_second) {
    config_.max_requests_per_second = requests_per_second;
    // A lower ceiling must not start with a burst saved up under the higher one.
    tokens_ = std::min(tokens_, bucket_capacity(requests_per_second));
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
        resumed_ = now;
        first_start_ = now;
    }
    paced_ = false;
    if (rate() > 0) {
        refill(now);
        paced_ = tokens_ < 2.0;
        tokens_ -= 1.0; // may go slightly negative if started early; the next wait pays it back
    }
}

void host_gate::on_finish(outcome result, time_point now) {
    if (in_flight_ > 0)
        --in_flight_;
    const double max = static_cast<double>(config_.max_in_flight);
    const double min = static_cast<double>(config_.min_in_flight);
    const bool new_signal = !decreased_ || now - last_decrease_ >= config_.decrease_interval;
    switch (result) {
    case outcome::success:
        limit_ = std::min(max, limit_ + 1.0 / limit_);
        ++total_successes_;
        ++successes_since_resume_;
        // Sent before the streak began, it says nothing of the server now.
        if (refusals_ && refusals_->not_counted > 0)
            --refusals_->not_counted;
        else
            refusals_.reset();
        if (config_.adaptive_rate)
            record(false, now);
        if (adaptive_rate_ > 0 && paced_)
            adaptive_rate_ += climb(now);
        break;
    case outcome::throttled:
        last_throttle_ = now;
        if (config_.adaptive_rate) {
            count_refusal();
            record(true, now);
            if (trial_ && trial_->persists()) {
                if (trial_->cuts < 2)
                    cut_rate(now); // deeper: the first cut may have been measured too high
                else if (trial_->share() < config_.random_share_ceiling)
                    undo_trial(now);
                else
                    cut_shared_limit(now);
            } else if (new_signal && !wave_ && (!trial_ || !rate_measured_)) {
                // While a measured cut is on trial its 429s are its evidence, not new signals;
                // a probe's overshoot is one: the rate climbed past the limit on purpose.
                if (now < background_until_ && recent_share() <= 2 * background_share_) {
                    // Held as background. 429s at random come whatever the client does; a
                    // limit refuses again within the first requests after each pause. The third
                    // such pause in a row cuts on trial, which undoes the cut if the 429s
                    // persist. Only for a share of a fifth or more: under it (a flaky gateway's
                    // 1% with a 1 s Retry-After) trials would only cost time, and one may
                    // settle by chance.
                    if (background_share_ < 0.2 || successes_since_resume_ >= config_.max_in_flight)
                        small_waves_ = 0;
                    else if (++small_waves_ >= config_.small_waves_to_cut)
                        cut_rate(now);
                } else if (adaptive_rate_ > 0 || config_.max_requests_per_second > 0)
                    cut_rate(now);
                else if (in_flight_ >= config_.min_wave)
                    wave_ = wave_judgement{in_flight_, in_flight_, 0};
                else if (small_waves_ + 1 >= config_.small_waves_to_cut)
                    cut_rate(now); // few in flight each time: a client paging one at a time
                else
                    ++small_waves_; // says little alone: a rate limit soon refuses more
            }
        }
        if (new_signal) {
            limit_ = std::max(min, limit_ * config_.decrease_factor);
            last_decrease_ = now;
            decreased_ = true;
        }
        break;
    case outcome::failed:
        if (config_.adaptive_rate)
            judge_wave(false, now);
        break;
    }
}

// What a paced success adds to the rate. The longer without a 429, the less the rate learnt says
// about the server now: it was measured too low (a share of a limit others used too), or the
// others have gone.
double host_gate::climb(time_point now) const {
    if (!rate_measured_)
        return config_.probe_increase_per_success;
    const double base =
        rate_settled_ ? config_.rate_increase_per_success : config_.settle_increase_per_success;
    if (!config_.retry_after_per_request)
        return base; // each probe's 429 would hold the whole host for its Retry-After
    const double doublings = duration<double>(now - last_throttle_) / config_.climb_doubling;
    return std::min(config_.probe_increase_per_success, base * std::exp2(doublings));
}

void host_gate::count_refusal() {
    if (!refusals_)
        refusals_ = refusal_streak{in_flight_, 0};
    else if (refusals_->not_counted > 0)
        --refusals_->not_counted;
    else if (adaptive_rate_ > 0 && !wave_)
        ++refusals_->counted;
}

void host_gate::count_in_trial(bool throttle) {
    if (!trial_)
        return;
    if (trial_->not_counted > 0)
        --trial_->not_counted;
    else
        ++(throttle ? trial_->throttled : trial_->successes);
}

// From an unlimited rate the first cut falls far (nothing was measured yet), so it waits for
// the replies to the requests that were in flight with the 429. A rate limiter's 429 comes with
// its wave: its bucket is empty, and many of them are refused too. At random, most are accepted.
void host_gate::judge_wave(bool throttle, time_point now) {
    if (!wave_)
        return;
    wave_->throttled += throttle;
    if (--wave_->pending > 0)
        return;
    const bool rate_limited = 3 * wave_->throttled >= wave_->size;
    wave_.reset();
    if (rate_limited)
        learn_rate(now); // then probes upwards; its overshoots are trusted
    else
        keep_as_background(now);
}

// A rate limiter answers 429 when sent more than it allows: below that, its 429s all but vanish.
// 429s at random come at the same share whatever the rate. Half the share before is the line.
bool host_gate::rate_trial::persists() const {
    return throttled >= 2 && share() >= share_before / 2;
}

double host_gate::rate_trial::share() const {
    const auto t = static_cast<double>(throttled);
    return t / (t + static_cast<double>(successes));
}

// Counts an answer in the rate window, and in the trial and the wave judgement under way.
void host_gate::record(bool throttled, time_point now) {
    auto& times = throttled ? recent_throttles_ : recent_successes_;
    times.push_back(now);
    forget_before(times, now - config_.rate_window);
    settle_trial(now);
    count_in_trial(throttled);
    judge_wave(throttled, now);
}

void host_gate::forget_before(std::deque<time_point>& times, time_point from) {
    while (!times.empty() && times.front() < from)
        times.pop_front();
}

void host_gate::cut_rate(time_point now) {
    small_waves_ = 0;
    if (!trial_ && adaptive_rate_ > 0 && !rate_measured_) {
        learn_rate(now); // a probe's overshoot: the rate climbed past the limit on purpose
        return;
    }
    if (!trial_)
        trial_ = rate_trial{adaptive_rate_, rate_measured_, rate_settled_, recent_share()};
    learn_rate(now);
    ++trial_->cuts;
    trial_->ends = now + config_.rate_window;
    trial_->not_counted = in_flight_;
    trial_->successes = 0;
    trial_->throttled = 0;
}

// 429s at a fifth or more that two cuts did not thin out: others send into the same limit (workers
// of one tenant), taking what this client leaves. Each of them cuts in turn. Not below
// rate_floor_fraction of the highest rate any such trial started from, kept across trials: were
// they 429s at random after all (a gateway failing under a rate limit), a trial now and then
// settles by chance, and each next one, starting lower, would walk the rate down to nothing.
void host_gate::cut_shared_limit(time_point now) {
    shared_limit_floor_ =
        std::max(shared_limit_floor_, config_.rate_floor_fraction * trial_->rate_before);
    cut_rate(now);
    adaptive_rate_ = std::max(adaptive_rate_, shared_limit_floor_);
}

// The cut stood a rate window without the 429s persisting, and long enough that 429s at the
// share before would have shown (4 expected): a rate limit, learnt.
void host_gate::settle_trial(time_point now) {
    if (trial_ && now >= trial_->ends &&
        static_cast<double>(trial_->successes) * trial_->share_before >= 4)
        trial_.reset();
}

double host_gate::accepted_since(time_point from) const {
    return static_cast<double>(recent_successes_.end() - std::lower_bound(recent_successes_.begin(),
                                                                          recent_successes_.end(),
                                                                          from));
}

double host_gate::recent_share() const {
    const auto throttled = static_cast<double>(recent_throttles_.size());
    const double finished = throttled + static_cast<double>(recent_successes_.size());
    return finished > 0 ? throttled / finished : 0; // none: a wave that ended in failures
}

void host_gate::undo_trial(time_point now) {
    adaptive_rate_ = trial_->rate_before;
    rate_measured_ = trial_->measured_before;
    rate_settled_ = trial_->settled_before;
    trial_.reset();
    keep_as_background(now);
}

void host_gate::keep_as_background(time_point now) {
    // A wave can end in failures, after its 429 left the window: count only what is still in it.
    forget_before(recent_successes_, now - config_.rate_window);
    forget_before(recent_throttles_, now - config_.rate_window);
    small_waves_ = 0;
    background_share_ = recent_share();
    background_until_ = now + config_.background_hold;
}

void host_gate::learn_rate(time_point now) {
    const time_point from = std::max(resumed_, now - config_.rate_window);
    const duration<double> span = now - from;
    const double accepted = accepted_since(from);
    double learnt;
    if (span >= config_.min_rate_span) {
        double measured = accepted / span.count();
        // Right after a probe the window also held the climb: when the count says less than
        // the rate sent times the overshoot factor, the measure is a floor, not the limit.
        bool floor_only = false;
        if (!rate_measured_ && adaptive_rate_ > 0) {
            const double sent = adaptive_rate_ * config_.overshoot_decrease_factor;
            floor_only = measured < sent;
            measured = std::max(measured, sent);
        }
        learnt = measured * config_.rate_decrease_factor;
        rate_settled_ = !floor_only;
        rate_measured_ = true;
    } else if (adaptive_rate_ > 0) {
        learnt = adaptive_rate_ * (rate_measured_ ? config_.rate_decrease_factor
                                                  : config_.overshoot_decrease_factor);
        // A probe caught this soon after a pause climbed little past the limit: settle up from
        // here. Probing again would overshoot again before anything could be measured, a pause
        // every second.
        rate_measured_ = true;
    } else if (config_.max_requests_per_second > 0) {
        // Too soon to measure, under a ceiling the user chose: a burst overran the server's
        // (the pause empties the bucket), which says nothing against the ceiling. Starting over
        // from the few requests accepted so far would crawl back for seconds; a second 429 this
        // soon lowers the rate from the ceiling as a probe's overshoot would.
        learnt = config_.max_requests_per_second;
    } else {
        // The first wave overran the server's burst: what it let through (judged after the
        // pause, so counted from before it) over min_rate_span is where the probe starts.
        learnt = accepted_since(now - config_.rate_window) /
                 duration<double>(config_.min_rate_span).count();
    }
    const auto lifetime =
        std::max(duration<double>(now - first_start_), duration<double>(config_.rate_window));
    const double floor =
        config_.rate_floor_fraction * static_cast<double>(total_successes_) / lifetime.count();
    adaptive_rate_ = std::max({1.0, floor, learnt});
    if (refusals_)
        refusals_->not_counted = std::max(refusals_->not_counted, in_flight_);
    resumed_ = std::max(now, pause_until_);
    // A limit after all: 429s held as background would hide the overshoots of the climb.
    background_until_ = now;
    background_share_ = 0;
}

void host_gate::pause_until(time_point until) {
    if (until > last_throttle_ && until > resumed_) // a Retry-After of 0 is no pause
        successes_since_resume_ = 0;
    pause_until_ = std::max(pause_until_, until);
    // Time spent paused is not time the server accepted requests in, nor time to save up a
    // burst in: resuming with one would overrun the server's own burst at once.
    resumed_ = std::max(resumed_, pause_until_);
    if (bucket_started_) {
        refilled_ = std::max(refilled_, pause_until_);
        tokens_ = std::min(tokens_, 1.0);
    }
    // The pause of the 429 that started a trial: the trial counts sending after it.
    if (trial_ && trial_->successes + trial_->throttled == 0)
        trial_->ends = std::max(trial_->ends, pause_until_ + config_.min_rate_span);
}

void host_gate::on_retry_after(time_point until) {
    if (!config_.retry_after_per_request || !config_.adaptive_rate ||
        (refusals_ && refusals_->counted >= config_.closed_window_refusals))
        pause_until(until);
}

std::optional<host_gate::time_point> host_gate::paused_until(time_point now) const {
    if (pause_until_ > now)
        return pause_until_;
    return std::nullopt;
}

} // namespace dynjobs::policy
