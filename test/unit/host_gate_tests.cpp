#include "policy/host_gate.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <random>

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
// A server on a fake clock: a token bucket (limit_rate per second, 0 for none) whose 429s carry a
// whole-second Retry-After, as real servers send, and 429s at random on a share of requests
// whatever the rate (a flaky gateway), with their own Retry-After.
// Or a fixed-window quota: `window_quota` requests per `window`, every other refused until the
// window renews, with a Retry-After to its end (or of one second, as some gateways say).
// The token bucket's rate can change once, to `later_limit_rate` from `limit_changes_after`
// (other clients of the same limit went away).
struct server_model {
    double limit_rate = 0;
    double burst = 10;
    double random_429_share = 0;
    seconds random_retry_after{0};
    int window_quota = 0;
    seconds window{0};
    bool retry_after_to_window_end = true;
    double later_limit_rate = 0;
    seconds limit_changes_after{0};
};

// A client keeping up to the gate's limit in flight, each request answered after round_trip.
// Its connections open one after another, `handshake` each (TLS on one core): the first wave
// reaches the server spread out, and a token bucket refills meanwhile. A page refused is sent
// again once its Retry-After passed.
struct client_model {
    bool adaptive_rate = true;
    bool retry_after_per_request = true; // the library's defaults
    std::size_t max_in_flight = 32;
    microseconds round_trip{3'000};
    microseconds handshake{0};
};

// The library's defaults but for a Retry-After, which holds the whole host.
client_model host_wide_client() {
    client_model client;
    client.retry_after_per_request = false;
    return client;
}

struct run_result {
    int accepted = 0;
    int throttled = 0;
    double seconds_taken = 0;
    double rate = 0; // the gate's at the end
    double share_429() const { return static_cast<double>(throttled) / (accepted + throttled); }
};

// The server's side of the model: answers each request as it arrives.
class model_server {
public:
    struct reply {
        host_gate::time_point at;
        bool accepted;
        nanoseconds retry_after;
    };

    model_server(const server_model& model, std::uint64_t seed)
        : model_(model)
        , random_(seed) {}

    reply answer(host_gate::time_point arrives, microseconds round_trip) {
        reply r{arrives + round_trip, true, nanoseconds{0}};
        const double limit =
            model_.later_limit_rate > 0 && arrives >= t0 + model_.limit_changes_after
                ? model_.later_limit_rate
                : model_.limit_rate;
        if (limit > 0) {
            const auto since = std::max(nanoseconds{0}, arrives - refilled_);
            tokens_ = std::min(model_.burst, tokens_ + duration<double>(since).count() * limit);
            refilled_ = std::max(refilled_, arrives);
            if (tokens_ >= 1) {
                tokens_ -= 1;
            } else {
                const auto wait = duration<double>((1 - tokens_) / limit);
                r = {r.at, false, std::max<nanoseconds>(seconds{1}, ceil<seconds>(wait))};
            }
        }
        if (model_.window_quota > 0) {
            const auto window_index = (arrives - t0) / model_.window;
            if (window_index != quota_window_) {
                quota_window_ = window_index;
                quota_used_ = 0;
            }
            if (quota_used_ < model_.window_quota) {
                ++quota_used_;
            } else {
                const auto renews = t0 + (window_index + 1) * model_.window;
                r = {r.at, false,
                     model_.retry_after_to_window_end
                         ? std::max<nanoseconds>(seconds{1}, ceil<seconds>(renews - arrives))
                         : seconds{1}};
            }
        }
        if (r.accepted && uniform_(random_) < model_.random_429_share)
            r = {r.at, false, model_.random_retry_after};
        return r;
    }

private:
    const server_model& model_;
    std::mt19937_64 random_;
    std::uniform_real_distribution<double> uniform_{0, 1};
    double tokens_ = model_.burst;
    host_gate::time_point refilled_ = t0;
    std::int64_t quota_window_ = 0;
    int quota_used_ = 0;
};

// One client of the model: its gate, the replies it awaits, the pages refused and due again.
struct model_client {
    explicit model_client(const client_model& model, host_gate::time_point starts)
        : model(model)
        , gate(config_of(model))
        , starts(starts)
        , handshakes_done(starts) {}

    static rate_config config_of(const client_model& model) {
        rate_config config;
        config.adaptive_rate = model.adaptive_rate;
        config.max_in_flight = model.max_in_flight;
        config.retry_after_per_request = model.retry_after_per_request;
        return config;
    }

    bool retry_due(host_gate::time_point now) const {
        return !retries.empty() && retries.front() <= now;
    }

    // Sends what the gate lets through at `now`, taking fresh pages from the shared `fresh`.
    void send(host_gate::time_point now, int& fresh, model_server& server) {
        if (now < starts)
            return;
        for (auto start = gate.next_start(now);
             start && *start <= now && (fresh > 0 || retry_due(now));
             start = gate.next_start(now)) {
            if (retry_due(now))
                retries.pop_front();
            else
                --fresh;
            gate.on_start(now);
            // A request finding every open connection busy opens one, after the handshakes
            // already under way.
            auto arrives = now;
            if (in_flight.size() >= opened) {
                ++opened;
                handshakes_done = std::max(now, handshakes_done) + model.handshake;
                arrives = handshakes_done;
            }
            const auto r = server.answer(arrives, model.round_trip);
            in_flight.insert(
                std::upper_bound(in_flight.begin(), in_flight.end(), r,
                                 [](const model_server::reply& a, const model_server::reply& b) {
                                     return a.at < b.at;
                                 }),
                r);
        }
    }

    // When this client next has something to do.
    host_gate::time_point next_event(host_gate::time_point now, int fresh) const {
        if (now < starts)
            return starts;
        auto next = in_flight.empty() ? now + seconds{10} : in_flight.front().at;
        if (const auto start = gate.next_start(now)) {
            if (fresh > 0 || retry_due(now))
                next = std::min(next, *start);
            else if (!retries.empty())
                next = std::min(next, std::max(*start, retries.front()));
        }
        return next;
    }

    // Takes the replies due by `now`.
    void receive(host_gate::time_point now, run_result& result) {
        while (!in_flight.empty() && in_flight.front().at <= now) {
            const auto r = in_flight.front();
            in_flight.pop_front();
            if (r.accepted) {
                ++result.accepted;
                gate.on_finish(outcome::success, r.at);
            } else {
                ++result.throttled;
                gate.on_finish(outcome::throttled, r.at);
                gate.on_retry_after(r.at + r.retry_after);
                const auto due = r.at + r.retry_after;
                retries.insert(std::upper_bound(retries.begin(), retries.end(), due), due);
            }
        }
    }

    client_model model;
    host_gate gate;
    host_gate::time_point starts;
    std::deque<model_server::reply> in_flight; // by the time of the reply
    std::size_t opened = 0;                    // connections opened
    host_gate::time_point handshakes_done;
    std::deque<host_gate::time_point> retries; // refused pages, each due at its time
};

// `clients` clients of one server (workers sharing a tenant's limit), each starting `stagger`
// after the one before, take `pages` pages from one pool until all were accepted. The result's
// rate is the sum of the gates' at the end.
run_result fetch_pages_together(const server_model& server, const client_model& client, int clients,
                                int pages, microseconds stagger = {}, std::uint64_t seed = 7) {
    model_server answers(server, seed);
    std::deque<model_client> all;
    for (int i = 0; i < clients; ++i)
        all.emplace_back(client, t0 + i * stagger);
    run_result result;
    auto now = t0;
    int fresh = pages; // pages not sent yet
    while (result.accepted < pages) {
        for (auto& c : all)
            c.send(now, fresh, answers);
        auto next = host_gate::time_point::max();
        for (const auto& c : all)
            next = std::min(next, c.next_event(now, fresh));
        now = std::max(now, next);
        for (auto& c : all)
            c.receive(now, result);
    }
    result.seconds_taken = duration<double>(now - t0).count();
    for (const auto& c : all)
        result.rate += c.gate.rate();
    return result;
}

// Runs until `pages` requests were accepted.
run_result fetch_pages(const server_model& server, const client_model& client, int pages,
                       std::uint64_t seed = 7) {
    return fetch_pages_together(server, client, 1, pages, {}, seed);
}

std::ostream& operator<<(std::ostream& os, const run_result& r) {
    return os << r.accepted << " accepted in " << r.seconds_taken << " s, " << r.throttled
              << " 429s (" << r.share_429() * 100 << "%), rate " << r.rate;
}

// Starts 1 + others.size() requests at `at`. The first is answered 429 after 3 ms, with the
// others still in flight; they are answered `others`, in order, `answered_after` the start.
void send_wave_refused_first(host_gate& gate, host_gate::time_point at,
                             std::initializer_list<outcome> others,
                             nanoseconds answered_after = milliseconds{4}) {
    for (std::size_t i = 0; i <= others.size(); ++i)
        gate.on_start(at);
    gate.on_finish(outcome::throttled, at + milliseconds{3});
    for (const outcome o : others)
        gate.on_finish(o, at + answered_after);
}

// Sends `count` requests one at a time, each as soon as the gate allows and answered 1 ms
// later; every `refused_every`-th (0: none) is a 429 whose Retry-After holds only itself.
void send_paced(host_gate& gate, host_gate::time_point& now, int count, int refused_every) {
    for (int i = 1; i <= count; ++i) {
        const auto start = gate.next_start(now);
        BOOST_TEST_REQUIRE(start.has_value());
        now = std::max(now, *start);
        gate.on_start(now);
        now += milliseconds{1};
        if (refused_every > 0 && i % refused_every == 0) {
            gate.on_finish(outcome::throttled, now);
            gate.on_retry_after(now + seconds{1});
        } else {
            gate.on_finish(outcome::success, now);
        }
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(host_gates)

BOOST_AUTO_TEST_CASE(random_429s_do_not_slow_the_client_down) {
    // The same pages with the learnt rate on and off: 429s that come whatever the rate (a flaky
    // gateway, the simulator's injected faults) must not walk the rate down. Off is the
    // baseline: it only honours each Retry-After.
    const struct {
        double share;
        seconds retry_after;
        int pages;
    } cases[] = {
        {0.15, seconds{0}, 100'000},      {0.01, seconds{0}, 100'000},
        {0.0001, seconds{0}, 300'000},    {0.0001, seconds{1}, 100'000},
        {0.00001, seconds{1}, 1'000'000}, {0.002, seconds{1}, 50'000},
        {0.01, seconds{1}, 20'000},
    };
    // Not asserted: 5% with a 1 s Retry-After (the host paused most of the time) takes 1.42x
    // off's 229 s over 5,000 pages (1.25x before the spread-wave rules): cuts tried on random
    // 429s can settle by chance.
    for (const auto& c : cases) {
        const server_model flaky{0, 10, c.share, c.retry_after};
        const auto on = fetch_pages(flaky, {}, c.pages);
        const auto on_host_wide = fetch_pages(flaky, host_wide_client(), c.pages);
        const auto off = fetch_pages(flaky, {false}, c.pages);
        BOOST_TEST_MESSAGE("429s at random on " << c.share * 100 << "%, Retry-After "
                                                << c.retry_after.count() << " s: on: " << on
                                                << "; on, host-wide pauses: " << on_host_wide
                                                << "; off: " << off);
        BOOST_TEST(on.seconds_taken <= off.seconds_taken * 1.02, c.share);
        BOOST_TEST(on_host_wide.seconds_taken <= off.seconds_taken * 1.02, c.share);
    }
}

BOOST_AUTO_TEST_CASE(goodput_against_a_token_bucket_with_whole_second_retry_after) {
    // Issue 15's throttled scenario: 200 requests/s, burst 10, 32 in flight of 3 ms. The first
    // wave overruns the burst, and its Retry-After holds the host a whole second: over 1,000
    // pages (5 s at the limit) that second and the climb back cost half. Over 10,000 pages
    // they are paid once.
    const server_model bucket{200, 10};
    const auto short_run = fetch_pages(bucket, host_wide_client(), 1'000);
    const auto long_run = fetch_pages(bucket, host_wide_client(), 10'000);
    const double short_goodput = 1'000 / short_run.seconds_taken / 200;
    const double long_goodput = 10'000 / long_run.seconds_taken / 200;
    BOOST_TEST_MESSAGE("1,000 pages: " << short_run << ", goodput " << short_goodput
                                       << "; 10,000 pages: " << long_run << ", goodput "
                                       << long_goodput);
    BOOST_TEST(long_goodput >= 0.9);
    BOOST_TEST(long_run.share_429() <= 0.02);
    BOOST_TEST(short_goodput >= 0.55);
    // Ten times the limit: the first measure, right after the probe, is well below it; the
    // settling climb finds it within seconds.
    const auto fast = fetch_pages({2'000, 10}, host_wide_client(), 100'000);
    BOOST_TEST_MESSAGE("2,000/s: " << fast << ", goodput " << 100'000 / fast.seconds_taken / 2'000);
    BOOST_TEST(100'000 / fast.seconds_taken / 2'000 >= 0.8);
    BOOST_TEST(fast.share_429() <= 0.02);
}

BOOST_AUTO_TEST_CASE(a_retry_after_for_its_own_request_only_reaches_the_limit_sooner) {
    // Issue 15's goodput targets, which the host-wide pause cannot reach (two pauses of a whole
    // second at least: at most 0.71 over 1,000 pages, 0.96 over 10,000). With the Retry-After
    // holding only its own request, the learnt rate alone keeps the others under the limit.
    for (const auto handshake : {microseconds{0}, microseconds{2'500}}) {
        client_model per_request;
        per_request.retry_after_per_request = true;
        per_request.handshake = handshake;
        const auto short_run = fetch_pages({200, 10}, per_request, 1'000);
        const auto long_run = fetch_pages({200, 10}, per_request, 10'000);
        const double short_goodput = 1'000 / short_run.seconds_taken / 200;
        const double long_goodput = 10'000 / long_run.seconds_taken / 200;
        BOOST_TEST_MESSAGE("handshakes " << handshake.count()
                                         << " us apart: 1,000 pages: " << short_run << ", goodput "
                                         << short_goodput << "; 10,000 pages: " << long_run
                                         << ", goodput " << long_goodput);
        BOOST_TEST(short_goodput >= 0.85, handshake.count());
        BOOST_TEST(long_goodput >= 0.965, handshake.count());
        BOOST_TEST(long_run.share_429() <= 0.01, handshake.count());
    }
    // 429s at random hold only their own page too: the host-wide pauses took 183.5 s here.
    client_model per_request;
    per_request.retry_after_per_request = true;
    const server_model flaky{0, 10, 0.01, seconds{1}};
    const auto on = fetch_pages(flaky, per_request, 20'000);
    const auto host_wide = fetch_pages(flaky, host_wide_client(), 20'000);
    BOOST_TEST_MESSAGE(
        "429s at random on 1%, Retry-After 1 s: " << on << "; host-wide pauses: " << host_wide);
    BOOST_TEST(on.seconds_taken * 10 < host_wide.seconds_taken);
}

BOOST_AUTO_TEST_CASE(a_rate_learnt_below_the_limit_climbs_to_it_within_seconds) {
    // Learnt at 40 requests/s (the share a client measures while others use the rest of the
    // limit); then the others go and the limit is the client's alone: 200/s. A climb of 0.05%
    // a second would take minutes; doubling every climb_doubling without a 429, it takes about
    // 20 s. 6,000 pages: 20 s at 40/s, then 26 s at the limit and about 15 s lost to the climb.
    server_model freed{40, 10};
    freed.later_limit_rate = 200;
    freed.limit_changes_after = seconds{20};
    const auto run = fetch_pages(freed, {}, 6'000);
    BOOST_TEST_MESSAGE("40/s, then 200/s after 20 s: " << run);
    BOOST_TEST(run.seconds_taken <= 70);
    BOOST_TEST(run.share_429() <= 0.02);
    BOOST_TEST(run.rate >= 200 * 0.9);
}

BOOST_AUTO_TEST_CASE(clients_started_together_share_one_limit) {
    // Workers of one tenant: each learns from its own 429s a share of a first wave that overran
    // the limit, then climbs until their sum meets it.
    for (const auto round_trip : {microseconds{3'000}, microseconds{20'000}}) {
        client_model worker;
        worker.max_in_flight = 16;
        worker.round_trip = round_trip;
        worker.handshake = microseconds{2'000};
        const auto run = fetch_pages_together({200, 10}, worker, 4, 10'000);
        const double goodput = 10'000 / run.seconds_taken / 200;
        BOOST_TEST_MESSAGE("4 clients, round trip " << round_trip.count() << " us: " << run
                                                    << ", goodput " << goodput);
        BOOST_TEST(goodput >= 0.95, round_trip.count());
        BOOST_TEST(run.share_429() <= 0.03, round_trip.count());
    }
}

BOOST_AUTO_TEST_CASE(refusals_that_persist_at_a_fifth_or_more_are_a_limit_shared_with_others) {
    // A rate learnt against a limit; then a share of the requests is refused whatever the rate,
    // as when other clients of the same limit (workers of one tenant) take what this one leaves.
    // A tenth: taken for chance, the rate stays. A third: cut after all, to half the rate before
    // and no lower (were it chance after all, the rate must not walk down to nothing). With the
    // ceiling out of reach a third was taken for chance too: 4 workers held 250 requests/s
    // against a 200/s limit and had 15% of their requests refused.
    const auto learnt_then_refused = [](int refused_every, double ceiling) {
        rate_config config;
        config.random_share_ceiling = ceiling;
        host_gate gate(config);
        send_wave_refused_first(
            gate, t0,
            {outcome::throttled, outcome::throttled, outcome::throttled, outcome::success});
        auto now = t0 + seconds{1};
        send_paced(gate, now, 2'000, 0);   // the probe climbs ...
        send_paced(gate, now, 2'000, 100); // ... and a limit is learnt
        const double learnt = gate.rate();
        send_paced(gate, now, 7'000, refused_every);
        return std::pair{learnt, gate.rate()};
    };
    const auto [learnt, after_a_tenth] = learnt_then_refused(10, 0.2);
    const auto [learnt_too, after_a_third] = learnt_then_refused(3, 0.2);
    const auto [learnt_also, without_ceiling] = learnt_then_refused(3, 1);
    BOOST_TEST_MESSAGE("learnt " << learnt << "; after a tenth refused " << after_a_tenth
                                 << ", a third " << after_a_third << ", a third without ceiling "
                                 << without_ceiling);
    BOOST_TEST(after_a_tenth >= learnt);
    BOOST_TEST(after_a_third <= 0.6 * learnt_too);
    BOOST_TEST(after_a_third >= 0.5 * learnt_too * 0.99);
    BOOST_TEST(without_ceiling >= learnt_also);
}

BOOST_AUTO_TEST_CASE(a_closed_quota_window_holds_the_host_with_a_retry_after_per_request_too) {
    // A fixed window of 2,000 requests per 10 s, used up in a fraction of each: every request
    // until it renews is refused. Sending on into it at the learnt rate would collect 429s by
    // the thousand (and, where refused calls count, lengthen the block); after a few refusals
    // in a row under the learnt rate the host is held as the host-wide pause holds it.
    for (const bool to_window_end : {true, false}) {
        server_model quota;
        quota.window_quota = 2'000;
        quota.window = seconds{10};
        quota.retry_after_to_window_end = to_window_end;
        client_model per_request;
        per_request.retry_after_per_request = true;
        const auto on = fetch_pages(quota, per_request, 9'000);
        const auto host_wide = fetch_pages(quota, host_wide_client(), 9'000);
        BOOST_TEST_MESSAGE("quota window, Retry-After " << (to_window_end ? "to its end" : "1 s")
                                                        << ": per request: " << on
                                                        << "; host-wide: " << host_wide);
        BOOST_TEST(on.seconds_taken <= host_wide.seconds_taken * 1.01, to_window_end);
        BOOST_TEST(on.throttled <= 2 * host_wide.throttled + 32, to_window_end);
    }
}

BOOST_AUTO_TEST_CASE(a_retry_after_for_its_own_request_holds_nothing_else) {
    const auto first_429_holds_the_host = [](const rate_config& config) {
        host_gate gate(config);
        gate.on_start(t0);
        gate.on_finish(outcome::throttled, t0);
        gate.on_retry_after(t0 + seconds{1});
        return gate.paused_until(t0) == t0 + seconds{1};
    };
    rate_config config;
    BOOST_TEST(!first_429_holds_the_host(config));
    config.retry_after_per_request = false;
    BOOST_TEST(first_429_holds_the_host(config));
    // No refusals to wait for before a closed window: host-wide from the first, as documented.
    config.retry_after_per_request = true;
    config.closed_window_refusals = 0;
    BOOST_TEST(first_429_holds_the_host(config));
}

BOOST_AUTO_TEST_CASE(refusals_in_a_row_under_the_learnt_rate_hold_the_host_until_a_success) {
    rate_config config;
    config.retry_after_per_request = true;
    host_gate gate(config);
    // A first wave mostly refused: a rate limit, whose rate is learnt.
    send_wave_refused_first(
        gate, t0, {outcome::throttled, outcome::throttled, outcome::throttled, outcome::success});
    BOOST_TEST_REQUIRE(gate.rate() > 0);
    const auto refuse = [&gate](host_gate::time_point at) {
        gate.on_start(at);
        gate.on_finish(outcome::throttled, at);
        gate.on_retry_after(at + seconds{1});
        return gate.paused_until(at).has_value();
    };
    // A success of a request sent after the wave: the server accepts again.
    auto at = t0 + seconds{2};
    gate.on_start(at);
    gate.on_finish(outcome::success, at);
    // One at a time: the first 429 opens the streak, the requests sent after it count.
    BOOST_TEST(!refuse(at));
    BOOST_TEST(!refuse(at += milliseconds{100}));
    BOOST_TEST(!refuse(at += milliseconds{100}));
    BOOST_TEST(refuse(at += milliseconds{100}));
    BOOST_TEST((gate.paused_until(at) == at + seconds{1}));
    // A success ends it, and a 429 holds only its own request again.
    at += seconds{2};
    gate.on_start(at);
    gate.on_finish(outcome::success, at);
    BOOST_TEST(!refuse(at += milliseconds{100}));
    // Successes of requests already in flight when a streak began do not end it: they were
    // let in before the server closed.
    at += seconds{2};
    gate.on_start(at);
    gate.on_finish(outcome::success, at);
    for (int i = 0; i < 3; ++i)
        gate.on_start(at);
    gate.on_finish(outcome::throttled, at);
    gate.on_finish(outcome::success, at);
    gate.on_finish(outcome::success, at);
    BOOST_TEST(!refuse(at += milliseconds{100}));
    BOOST_TEST(!refuse(at += milliseconds{100}));
    BOOST_TEST(refuse(at += milliseconds{100}));
}

BOOST_AUTO_TEST_CASE(a_first_wave_spread_by_handshakes_is_still_a_rate_limit) {
    // The 32 connections open a few ms apart, so the bucket refills while the first wave
    // arrives: a share of it is refused, not nearly all (nginx's limit_req refused 14 to 17 of
    // 31). A wave taken for 429s at random held the rate unlimited for 20 s, a 429 pause every
    // second: 1,000 pages in 29 to 38 s here (0.13 to 0.17), 27 to 83 s against nginx. Now a
    // wave a third refused is a limit, and below that, 429s that keep coming right after each
    // pause cut the rate on trial. With the Retry-After per request nothing holds the host
    // while the first wave is judged: the connections still opening send on into the empty
    // bucket (82 of 1,082 requests at 4 ms apart), once a run. Holding new requests until the
    // wave is judged was tried: half of the requests were then refused (not looked into).
    for (const bool per_request : {true, false})
        for (const auto handshake :
             {microseconds{1'500}, microseconds{2'500}, microseconds{4'000}}) {
            client_model spread;
            spread.retry_after_per_request = per_request;
            spread.handshake = handshake;
            const auto run = fetch_pages({200, 10}, spread, 1'000);
            const double goodput = 1'000 / run.seconds_taken / 200;
            BOOST_TEST_MESSAGE((per_request ? "per request" : "host-wide")
                               << ", handshakes " << handshake.count() << " us apart: " << run
                               << ", goodput " << goodput);
            BOOST_TEST(goodput >= (per_request ? 0.8 : 0.4), handshake.count());
            BOOST_TEST(run.share_429() <= (per_request ? 0.08 : 0.04), handshake.count());
        }
}

BOOST_AUTO_TEST_CASE(a_rate_limit_is_learnt_behind_429s_at_random) {
    // 200 requests/s, and 0.1% of the accepted ones answered 429 anyway (with a Retry-After of
    // 1 s too). Without the learnt rate the client overruns the limit every second.
    const server_model both{200, 10, 0.001, seconds{1}};
    const auto off = fetch_pages(both, {false}, 10'000);
    for (const bool per_request : {true, false}) {
        client_model client;
        client.retry_after_per_request = per_request;
        const auto on = fetch_pages(both, client, 10'000);
        BOOST_TEST_MESSAGE((per_request ? "on: " : "on, host-wide pauses: ")
                           << on << "; off: " << off);
        BOOST_TEST(10'000 / on.seconds_taken / 200 >= 0.75, per_request);
        BOOST_TEST(on.share_429() <= 0.01, per_request);
        BOOST_TEST(on.seconds_taken * 5 < off.seconds_taken, per_request);
    }
}

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
}

BOOST_AUTO_TEST_CASE(with_few_requests_in_flight_the_third_429_in_a_row_cuts_the_rate) {
    // With nothing else in flight a 429 cannot be told from one at random: the rate stays
    // unlimited. The third in a row sets it from what the server accepted.
    rate_config config;
    config.adaptive_rate = true;
    host_gate gate(config);
    gate.on_start(t0);
    gate.on_finish(outcome::throttled, t0 + milliseconds{10});
    gate.on_start(t0 + seconds{1});
    gate.on_finish(outcome::throttled, t0 + milliseconds{1'010});
    BOOST_TEST(gate.rate() == 0.0);
    for (int i = 0; i < 3; ++i) {
        gate.on_start(t0 + milliseconds{1'500});
        gate.on_finish(outcome::success, t0 + milliseconds{1'505});
    }
    gate.on_start(t0 + seconds{2});
    gate.on_finish(outcome::throttled, t0 + milliseconds{2'010});
    // 3 accepted over the 2 s rate window, less 3%.
    BOOST_TEST(gate.rate() == 3 / 2.0 * 0.97, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(a_wave_of_429s_is_a_rate_limit_and_a_scattered_one_is_not) {
    rate_config config;
    config.adaptive_rate = true;
    // A 429 with 8 requests in flight, 6 of which come back 429 too: the bucket ran dry.
    const auto t = outcome::throttled;
    const auto s = outcome::success;
    host_gate limited(config);
    send_wave_refused_first(limited, t0, {t, t, t, t, t, t, s, s});
    BOOST_TEST(limited.rate() > 0.0);
    // The same with 1 of the 8 refused: 429s at random. The rate stays unlimited, and so does
    // it for the next 429 that comes at the same share.
    host_gate flaky(config);
    send_wave_refused_first(flaky, t0, {t, s, s, s, s, s, s, s});
    BOOST_TEST(flaky.rate() == 0.0);
    flaky.on_start(t0 + seconds{2});
    flaky.on_finish(outcome::throttled, t0 + seconds{2});
    BOOST_TEST(flaky.rate() == 0.0);
}

BOOST_AUTO_TEST_CASE(the_probe_after_a_first_wave_starts_from_what_the_wave_let_through) {
    // 32 at once against a burst of 10: 10 accepted, then 22 429s whose Retry-After pauses the
    // host. The wave is judged after its first 429 started the pause; what it let through,
    // before that pause, is still the measure the probe starts from: 10 per min_rate_span.
    rate_config config;
    config.adaptive_rate = true;
    host_gate gate(config);
    for (int i = 0; i < 32; ++i)
        gate.on_start(t0);
    const auto answered = t0 + milliseconds{3};
    for (int i = 0; i < 10; ++i)
        gate.on_finish(outcome::success, answered);
    for (int i = 0; i < 22; ++i) {
        gate.on_finish(outcome::throttled, answered);
        gate.pause_until(answered + seconds{1});
    }
    BOOST_TEST(gate.rate() == 10 / 0.5, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(a_wave_that_ends_in_failures_does_not_hide_a_later_rate_limit) {
    // A 429 with 4 in flight whose answers are all failures (timeouts), seconds later: random,
    // but no share of 429s to hold against the next ones. A full wave of 429s later is a limit.
    rate_config config;
    config.adaptive_rate = true;
    host_gate gate(config);
    const auto failed = outcome::failed;
    send_wave_refused_first(gate, t0, {failed, failed, failed, failed}, seconds{3});
    BOOST_TEST(gate.rate() == 0.0);
    const auto t = outcome::throttled;
    send_wave_refused_first(gate, t0 + seconds{4}, {t, t, t, outcome::success});
    BOOST_TEST(gate.rate() > 0.0);
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
    const server_model bucket{server_rate, 10};
    model_server server(bucket, 7);
    rate_config config;
    config.max_in_flight = 64;
    config.adaptive_rate = true;
    config.retry_after_per_request = false; // each 429 pauses the client below
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
        const auto reply = server.answer(now, milliseconds{1});
        now = reply.at;
        if (reply.accepted) {
            ++accepted;
            gate.on_finish(outcome::success, now);
        } else {
            ++throttled;
            gate.on_finish(outcome::throttled, now);
            gate.pause_until(now + reply.retry_after);
        }
    }
    const double goodput = accepted / 120.0 / server_rate;
    const double share_429 = static_cast<double>(throttled) / (accepted + throttled);
    BOOST_TEST_MESSAGE("goodput " << goodput << " of the limit, " << share_429 * 100
                                  << "% answered 429, learnt rate " << gate.rate());
    // One request in flight: its first 429 alone is not acted on (it could be one at random),
    // so the second costs one more Retry-After: 1 s of the 120.
    BOOST_TEST(goodput >= 0.88);
    BOOST_TEST(share_429 <= 0.01);
    BOOST_TEST(gate.rate() <= server_rate * 1.05);
}

BOOST_AUTO_TEST_CASE(learns_a_rate_limit_when_many_requests_are_in_flight) {
    // What a backfill meets: 32 requests in flight of 3 ms each (a fast link), a server allowing
    // 200 requests/s with a burst of 10. The first wave overruns the burst before anything can
    // be measured.
    for (const bool per_request : {true, false}) {
        client_model client;
        client.retry_after_per_request = per_request;
        const auto run = fetch_pages({200, 10}, client, 20'000);
        const double goodput = 20'000 / run.seconds_taken / 200;
        BOOST_TEST_MESSAGE((per_request ? "per request" : "host-wide")
                           << ", in flight: " << run << ", goodput " << goodput);
        BOOST_TEST(goodput >= 0.9, per_request);
        BOOST_TEST(run.share_429() <= 0.01, per_request);
        BOOST_TEST(run.rate >= 200 * 0.9, per_request);
        BOOST_TEST(run.rate <= 200 * 1.05, per_request);
    }
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
