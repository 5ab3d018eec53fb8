// dynjobs/rate_config.hpp - how fast a client may send requests to the API host.
#pragma once

#include <chrono>
#include <cstddef>

// Named in the `policy` namespace of the engine code that applies it (src/policy/host_gate.hpp).
namespace dynjobs::policy {

/// Settings of the gate in front of a host. One gate per origin, shared by every fetch.
struct rate_config {
    /// Most requests in flight to the host. 32 hides ~50 ms of latency at thousands of pages/s
    /// while staying polite to a shared API; the adaptive limit moves below it on 429s.
    std::size_t max_in_flight = 32;
    /// The adaptive limit never drops below this.
    std::size_t min_in_flight = 1;
    /// Fixed ceiling in requests per second, 0 for none (the server's 429s then set the pace).
    double max_requests_per_second = 0;
    /// On a 429 the in-flight limit is multiplied by this ...
    double decrease_factor = 0.5;
    /// ... at most once per interval, so that one burst of 429s (all sent before the first came
    /// back) counts as one signal. Each success then adds 1/limit: +1 per round trip.
    std::chrono::milliseconds decrease_interval{1000};
    /// Adaptive rate: on a fast link the in-flight limit cannot keep the request rate under a
    /// server's rate limit, so 429s also set a rate, learnt as follows.
    /// - Telling a rate limit from 429s at random (a flaky gateway, the simulator's injected
    ///   faults). A rate limiter refuses a wave: once its bucket is dry, the requests in flight
    ///   with the first 429 are refused too; at random, most of them are accepted. So the first
    ///   429 of a client without a rate yet waits for those replies (`min_wave` of them at
    ///   least) before anything is cut. With fewer in flight, the `small_waves_to_cut`-th such
    ///   429 in a row cuts. A wave taken for 429s at random is held as background (below);
    ///   when its 429s (a fifth or more) keep coming right after each pause, the
    ///   `small_waves_to_cut`-th pause in a row cuts on trial.
    /// - Every later cut is on trial. A rate limiter's 429s all but vanish under its limit;
    ///   429s at random come at the same share whatever the rate. If, after a second, deeper
    ///   cut, 429s still come at half the share they had before the first (two at least), the
    ///   rate goes back to what it was, and for `background_hold` only a 429 share twice that
    ///   one lowers it again. A cut stands once a rate window passed and four 429s were
    ///   expected at the old share. Any cut ends such a hold: it would hide the overshoots of
    ///   the climb that follows.
    /// - The first cut usually follows the first wave overrunning the server's burst: nothing
    ///   can be measured yet. The rate starts at `max_requests_per_second` when one is set (the
    ///   burst said nothing against it), else low (what the wave let through, per
    ///   `min_rate_span`), and probes upwards fast: each success adds
    ///   `probe_increase_per_success`, so it grows e^2 ~ 7x per second.
    /// - A later 429 after at least `min_rate_span` of unpaused sending measures the rate the
    ///   server accepted over the last `rate_window` (at most its burst over that window too
    ///   high); the learnt rate is that times `rate_decrease_factor`. Right after a probe (the
    ///   rate crossed the limit inside that window, so the count is too low), the rate sent at
    ///   times `overshoot_decrease_factor` is used when higher.
    /// - A 429 sooner than `min_rate_span` after resuming lowers the rate by
    ///   `rate_decrease_factor` once measured, `overshoot_decrease_factor` while probing; the
    ///   probe then ends (it climbed little past the limit) and the rate settles up from there.
    /// - Once measured, the rate climbs (`settle_increase_per_success`, then
    ///   `rate_increase_per_success`), so that probing above the limit (which costs a 429 and
    ///   its Retry-After pause) stays rare. It climbs only while requests wait for it: a rate
    ///   the client does not reach says nothing about the server.
    /// The bucket that spaces requests is emptied at every pause, so resuming sends no burst.
    ///
    /// On by default: with it off, a rate-limited API answers 429 to most of a fast client's
    /// requests, and every 429 holds the host for its Retry-After (bench/README.md, scenario 4).
    /// Off leaves only the in-flight limit and the Retry-After pauses.
    bool adaptive_rate = true;
    /// Whom a 429's (or 503's) Retry-After holds. True (the default): only the request it
    /// answered; the learnt rate keeps the others under the limit. Against a token bucket (200/s,
    /// burst 10, whole-second Retry-After) 1,000 pages reach 0.89 to 0.91 of the limit and
    /// 10,000 pages 0.96 to 0.97 (bench/README.md, scenario 4). A server that refuses
    /// everything for a while (a closed quota window) is met as with false, see
    /// closed_window_refusals.
    /// False, or adaptive_rate off (nothing else would pace the others): every new request to
    /// the host waits until it passes. Each such pause costs the whole host its Retry-After:
    /// 0.6 of the same limit over 1,000 pages, 0.91 over 10,000.
    bool retry_after_per_request = true;
    /// With retry_after_per_request: once this many requests sent after a 429 came back (and
    /// after the learnt rate last changed) are refused too, with no success between, each
    /// Retry-After holds the whole host again, until a success. A token bucket refills under
    /// the learnt rate and accepts one within a few; a closed quota window (or an overloaded
    /// server) refuses everything, and sending on into it would only collect 429s, or lengthen
    /// the block where refused calls count. Against a quota of 2,000 per 10 s the host-wide
    /// pause got 64 429s over 9,000 pages, per request 16,000 without this, 157 with it
    /// (host_gate_tests). Three: a probe that overshot the limit can be refused twice more.
    /// Zero holds the host from the first 429 on, as retry_after_per_request = false does.
    unsigned closed_window_refusals = 3;
    /// 2 s: long enough that a server burst of 10 biases the measure by 5 requests/s at most.
    std::chrono::milliseconds rate_window{2'000};
    /// Least unpaused sending before a 429 counts as a measure of the server's rate.
    std::chrono::milliseconds min_rate_span{500};
    /// A learnt rate is the measured one times this: just under what the server accepted.
    double rate_decrease_factor = 0.97;
    /// The factor applied to the rate sent when a 429 comes while probing upwards.
    double overshoot_decrease_factor = 0.7;
    /// While probing, each success adds this many requests per second to the rate: at rate r
    /// come r successes a second, so the rate grows about e^2 times a second.
    double probe_increase_per_success = 2.0;
    /// +0.5% per second after a probe's overshoot whose measure fell below the rate sent times
    /// `overshoot_decrease_factor`: the window held the climb too, and the rate can sit far
    /// below the limit (0.75 of it seen). The next 429, within seconds, measures at the limit.
    double settle_increase_per_success = 0.005;
    /// +0.05% per second once measured at the limit, at first (see climb_doubling).
    double rate_increase_per_success = 0.0005;
    /// With retry_after_per_request, the climb per success (settle_increase_per_success or
    /// rate_increase_per_success) doubles every this long without a 429, up to
    /// probe_increase_per_success. A rate measured at the limit probes it again after about 9 s
    /// (a few 429s, each holding only its own page); a rate learnt far below it finds it within
    /// about 20 s. Not with the host-wide pause: each probe would cost the whole host its
    /// Retry-After (10,000 pages at 200 requests/s: 0.85 of the limit instead of 0.91).
    /// Clients that start together against one limit (workers sharing a tenant) each learn
    /// their share of a first wave that overran it; with a constant climb they stayed there:
    /// 4 workers against 200 requests/s settled at 12 to 29 requests/s each, 0.32 to 0.45 of
    /// the limit together; doubling, 0.72 (with random_share_ceiling; bench/README.md,
    /// scenario 9).
    std::chrono::milliseconds climb_doubling{2'000};
    /// A learnt rate never drops below this fraction of the rate the server accepted since the
    /// first request: 429s that come at random (a flaky gateway) rather than from a rate limit
    /// must not walk the rate down to nothing.
    double rate_floor_fraction = 0.5;
    /// 429s that persist at this share or more through a second, deeper cut are not taken for
    /// 429s at random (a gateway refusing a fifth of requests at random is broken) but for a
    /// limit shared with other clients (workers of one tenant), which take what this one leaves
    /// until each has cut: each such 429 cuts again, down to rate_floor_fraction of the highest
    /// rate such a trial started from, and no lower. 4 workers against 200 requests/s held 250
    /// between them with 15% of their requests refused when these cuts were undone; now 0.72
    /// of the limit with 2 to 4% (bench/README.md, scenario 9). The price, where 429s at random
    /// that high come on top of a rate limit: 10,000 pages at 200/s with 25% of them refused at
    /// random take 478 s instead of 277 s, with 50%, 3,572 s instead of 1,927 s (the model in
    /// host_gate_tests).
    double random_share_ceiling = 0.2;
    /// After a cut that did not thin the 429s out, 429s do not lower the rate for this long:
    /// they come at random. Then the next one is tried again, as the 429s may have changed.
    std::chrono::milliseconds background_hold{20'000};
    /// The first 429 of a client without a rate yet is judged by the replies to the requests in
    /// flight with it, when there are at least this many: if at least a third are 429s too, a
    /// rate limiter's bucket ran dry and the rate is cut; else they came at random. A third, not
    /// more: connections opened one after another spread the first wave out, and the bucket
    /// refills meanwhile (nginx's limit_req refused about half of such a wave).
    std::size_t min_wave = 4;
    /// With fewer in flight (a client paging one request at a time), the rate is cut on trial
    /// at the third such 429 in a row. So it is when 429s held as background (see
    /// background_hold) at a share of a fifth or more come within the first max_in_flight
    /// replies after each pause, three pauses in a row: 429s at random do not follow the
    /// pauses, a rate limit's do.
    unsigned small_waves_to_cut = 3;
};

} // namespace dynjobs::policy
